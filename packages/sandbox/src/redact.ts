/** What replaces each occurrence of a secret in guest text. */
export const REDACTED = '[redacted]'
/** What replaces all guest text of a run that has a secret too short to search for. */
export const WITHHELD = '[withheld]'
/**
 * Secrets shorter than this are not searched for: scrubbing `e` garbles every word, and
 * the gaps reveal the secret. A run with one has all its guest text withheld instead, a
 * rule that ignores the text, so nothing can be inferred from what is shown.
 */
export const MIN_SECRET_LENGTH = 6

/**
 * A configuration key that names a secret: its value is one whatever its length. Matched
 * anywhere in the key, case-insensitively (`DB_PASSWORD`, `apiKey`, `CLIENT_SECRET`,
 * `AUTH_PIN`), erring towards secret: `MONKEY` counts too.
 */
const SECRET_KEY = /pass|pw|secret|token|key|auth|cred|priv|salt|pepper|sig|cookie|session|otp|pin/i

/**
 * The configuration values a run treats as secrets: every value of 6 characters or more,
 * and a shorter one only when its key names a secret. A short value under any other key
 * (a port `5432`, a region `eu`, a flag `true`) is a setting, not a secret: searching for
 * it would garble guest text, and withholding all guest text for it would hide every
 * error of a template configured with `DB_PORT`. A short secret under such a key is not
 * redacted; latchkey documents that secrets go under keys that say so.
 */
export function configurationSecrets(configuration: Readonly<Record<string, string>>): string[] {
  return Object.entries(configuration)
    .filter(([key, value]) => value.length >= MIN_SECRET_LENGTH || SECRET_KEY.test(key))
    .map(([, value]) => value)
}

/**
 * Scrubs a run's secrets (its password argument and configuration values) from text that
 * came from the guest: log lines, error names, messages, codes and stacks. Matching is
 * case-insensitive and also finds the JSON-escaped and URL-encoded forms. latchkey's own
 * words never pass through here. Redaction catches accidents, not a hostile script, which
 * can always encode a secret.
 */
export class Redactor {
  private readonly pattern: RegExp | null
  private readonly withhold: boolean

  /** `withholdShort: false` only replaces, for text that is not the guest's (a token endpoint's answer). */
  constructor(secrets: readonly string[], options: { withholdShort?: boolean } = {}) {
    const present = secrets.filter((s) => s.length > 0)
    this.withhold = (options.withholdShort ?? true) && present.some((s) => s.length < MIN_SECRET_LENGTH)
    const forms = new Set<string>()
    for (const secret of present) {
      forms.add(secret)
      forms.add(JSON.stringify(secret).slice(1, -1))
      forms.add(encodeURIComponent(secret))
    }
    // Longer forms first, so one secret inside another is caught whole.
    const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp)
    this.pattern = alternatives.length === 0 ? null : new RegExp(alternatives.join('|'), 'giu')
  }

  /**
   * Guest text with every secret replaced, or `[withheld]` when the run has a short secret.
   * Control characters (newlines, terminal escapes) are shown escaped, so guest text can
   * neither forge a line in the host's log nor drive its terminal.
   */
  scrub(text: string): string {
    if (text.length === 0) return text
    if (this.withhold) return WITHHELD
    const scrubbed = this.pattern ? text.replace(this.pattern, REDACTED) : text
    return scrubbed.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  }

  /** Scrubs first, then cuts to `max` characters, so a cut never leaves half a secret behind. */
  scrubAndCut(text: string, max: number): string {
    const scrubbed = this.scrub(text)
    return scrubbed.length > max ? `${scrubbed.slice(0, max)}…` : scrubbed
  }
}

// C0 and C1 controls except tab, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g

/** Replaces the secrets in one piece of text: a Redactor for a single use, without the short-secret rule. */
export function redact(text: string, secrets: readonly string[]): string {
  return new Redactor(secrets, { withholdShort: false }).scrub(text)
}

function escapeRegExp(text: string): string {
  // Only syntax characters: under the `u` flag any other escape is an error.
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}
