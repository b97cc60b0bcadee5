/**
 * Replaces every occurrence of each secret, as written and as it appears inside JSON
 * text, by `[redacted]`. Longer secrets first, so one secret inside another is caught whole.
 */
export function redact(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || text.length === 0) return text
  const forms = new Set<string>()
  for (const secret of secrets) {
    if (secret.length === 0) continue
    forms.add(secret)
    forms.add(JSON.stringify(secret).slice(1, -1))
  }
  let out = text
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('[redacted]')
  return out
}
