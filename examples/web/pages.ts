import type { PolicyRuleResult } from '@latchkey/core'

/** Escapes text for HTML; every value a page shows goes through it. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A whole page: its `<h1>` is `title`. */
export function page(title: string, body: string, notice?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · latchkey example</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; background: #f6f8fa; }
  main { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1.5rem 2rem; }
  h1 { margin-top: 0; color: #0b3d91; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; border: 1px solid #8c959f; border-radius: 4px; }
  button { margin-top: 1.25rem; padding: .6rem 1.2rem; font-size: 1rem; background: #0b3d91; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  .error { color: #b3261e; margin: .25rem 0 0; }
  .notice { background: #e6f4ea; border: 1px solid #34a853; padding: .5rem .75rem; border-radius: 4px; }
  .rules { color: #57606a; font-size: .9rem; list-style: none; padding-left: 0; }
  .rules li::before { content: '○ '; }
  .rules li.met { color: #1a7f37; } .rules li.met::before { content: '✓ '; }
  .rules li.unmet { color: #b3261e; } .rules li.unmet::before { content: '✗ '; }
  nav a { margin-right: 1rem; }
  pre { white-space: pre-wrap; background: #f6f8fa; padding: .75rem; border-radius: 4px; }
</style></head>
<body><nav><a href="/">Home</a><a href="/signup">Sign up</a><a href="/login">Log in</a><a href="/account">Account</a><a href="/outbox">Outbox</a></nav>
<main><h1>${esc(title)}</h1>${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ''}${body}</main></body></html>`
}

/** A form field with its error, if any, right below it. */
export function field(opts: {
  name: string
  label: string
  type?: string
  value?: string
  error?: string | undefined
  hint?: string
}): string {
  const id = `f-${opts.name}`
  return `<label for="${id}">${esc(opts.label)}</label>
<input id="${id}" name="${esc(opts.name)}" type="${opts.type ?? 'text'}" value="${esc(opts.value ?? '')}"${opts.error ? ` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
${opts.error ? `<p class="error" id="${id}-error">${esc(opts.error)}</p>` : ''}${opts.hint ?? ''}`
}

/**
 * The password policy's rules, listed under a password field and ticked as the user types.
 * The page asks the server (POST /password-rules), so the rules are the connection's own and
 * never copied into the browser.
 */
export function rulesList(rules: readonly PolicyRuleResult[]): string {
  return `<ul class="rules" id="password-rules" aria-live="polite">${rules.map((r) => `<li data-rule="${esc(r.id)}">${esc(r.message)}</li>`).join('')}</ul>
<script>
(() => {
  const input = document.querySelector('input[type=password]')
  let timer
  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      const res = await fetch('/password-rules', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: input.value }) })
      if (!res.ok) return
      for (const rule of await res.json()) {
        const item = document.querySelector('#password-rules [data-rule="' + rule.id + '"]')
        if (item) item.className = rule.verified ? 'met' : 'unmet'
      }
    }, 150)
  })
})()
</script>`
}
