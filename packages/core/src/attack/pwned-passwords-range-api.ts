import { z } from 'zod'
import { parseInput } from '../input/parse-input.js'

/** The public k-anonymity range API of Have I Been Pwned's Pwned Passwords. */
export const PWNED_PASSWORDS_RANGE_URL = 'https://api.pwnedpasswords.com/range/'

/** Options of {@link pwnedPasswordsRangeApi}. */
export const pwnedPasswordsRangeApiOptionsSchema = z.strictObject({
  /** The range endpoint; the five-character prefix is appended. Default: the public service. */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Longest wait for one answer, in ms (default 3,000); a slower answer counts as no answer. */
  timeoutMs: z.number().int().min(50).max(60_000).optional(),
})
export type PwnedPasswordsRangeApiOptions = z.input<typeof pwnedPasswordsRangeApiOptionsSchema>

/** A padded answer holds ~1,000 lines of 40 bytes; anything far larger is not this protocol. */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024

/**
 * A ready `breachedPasswords.rangeApi` for the Pwned Passwords range API (or a server speaking the same protocol):
 * only the first five hex characters of the password's SHA-1 leave the process, and the request asks for padding so
 * the answer's size says nothing either. Off unless the host passes it: latchkey makes no network call by default.
 *
 * @example
 * new BuiltinConnection({ name: 'users', store, breachedPasswords: { rangeApi: pwnedPasswordsRangeApi() } })
 */
export function pwnedPasswordsRangeApi(options: PwnedPasswordsRangeApiOptions = {}): (prefix: string) => Promise<string[]> {
  const o = parseInput(pwnedPasswordsRangeApiOptionsSchema, options)
  const base = o.url ?? PWNED_PASSWORDS_RANGE_URL
  const timeoutMs = o.timeoutMs ?? 3000
  return async (prefix) => {
    if (!/^[0-9A-F]{5}$/.test(prefix)) throw new Error('a range prefix is five upper-case hex characters')
    const response = await fetch(`${base}${prefix}`, {
      headers: { 'Add-Padding': 'true', 'User-Agent': 'latchkey' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!response.ok || !response.body) throw new Error(`the range API answered HTTP ${response.status}`)
    return parseRangeAnswer(await readCapped(response.body, MAX_ANSWER_BYTES))
  }
}

/** The hash suffixes of a range answer (`SUFFIX:COUNT` lines); padding lines have a count of 0 and are dropped. */
function parseRangeAnswer(text: string): string[] {
  const suffixes: string[] = []
  for (const line of text.split('\n')) {
    const [suffix, count] = line.trim().split(':')
    if (suffix && /^[0-9A-Fa-f]{35}$/.test(suffix) && Number(count) > 0) suffixes.push(suffix.toUpperCase())
  }
  return suffixes
}

async function readCapped(body: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.byteLength
    if (size > max) throw new Error('the range API answer is too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
