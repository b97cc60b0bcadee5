import { randomBytes } from 'node:crypto'
import express, { type Request as ExpressRequest } from 'express'
import session from 'express-session'
import { BuiltinConnection, PasswordPolicy, type PasswordPolicyOptions } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { createHandler, toNodeHandler } from '@latchkey/http'
import { Outbox } from './outbox.js'
import { esc, field, page, rulesList } from './pages.js'

declare module 'express-session' {
  interface SessionData {
    userId: string
    email: string
  }
}

/** The policy the site asks of every new password: 12+ characters, common and breached passwords refused. */
export const PASSWORD_POLICY: PasswordPolicyOptions = { level: 'good', minLength: 12, dictionary: true }

/** What each error code means on a form, and which field it belongs to. */
const MESSAGES: Record<string, { field?: string; message: string }> = {
  user_exists: { field: 'email', message: 'An account with this email already exists. Log in instead?' },
  invalid_password: { field: 'password', message: 'This password does not meet the rules below.' },
  password_leaked: { field: 'password', message: 'This password has appeared in a data breach; choose another.' },
  invalid_user_password: { field: 'password', message: 'Wrong email or password.' },
  too_many_attempts: { message: 'Too many attempts. Try again later.' },
  unauthorized: { message: 'This account is blocked.' },
  invalid_ticket: { message: 'This link is invalid, expired or already used. Ask for a new one.' },
  invalid_input: { message: 'Check this field.' },
}

export interface WebAppOptions {
  /** Where the SQLite file lives: `sqlite:path/to/file.db`. */
  storeUrl: string
  /** bcrypt cost; tests pass 4, with `unsafeLowCostForTests`. */
  bcryptCost?: number
  /** Lets a test suite use a bcrypt cost under 10; never set it in production. */
  unsafeLowCostForTests?: boolean
}

/**
 * The example site: latchkey's routes under /auth, pages around them, sessions by
 * express-session, mail into a local outbox by nodemailer.
 */
export async function createWebApp(opts: WebAppOptions) {
  const store = await openStore(opts.storeUrl)
  const users = new BuiltinConnection({
    name: 'web',
    store,
    passwordPolicy: PASSWORD_POLICY,
    breachedPasswords: true,
    ...(opts.bcryptCost !== undefined && { bcryptCost: opts.bcryptCost }),
    ...(opts.unsafeLowCostForTests !== undefined && { unsafeLowCostForTests: opts.unsafeLowCostForTests }),
  })
  const policy = new PasswordPolicy(PASSWORD_POLICY)
  const rules = policy.evaluate('')
  const outbox = new Outbox()
  let baseUrl = 'http://localhost'

  const auth = createHandler({
    connection: users,
    forms: {
      signup: { success: '/login?notice=signed_up', failure: '/signup' },
      login: { success: '/account', failure: '/login' },
      forgot: { success: '/forgot?notice=sent', failure: '/forgot' },
      reset: { success: '/login?notice=reset', failure: '/reset' },
      verify: { success: '/login?notice=verified', failure: '/verify' },
    },
    async onLogin({ user, info }) {
      // A new session id at login, so an id planted before it (session fixation) is worthless.
      const { req } = info.raw as { req: ExpressRequest }
      await new Promise<void>((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())))
      req.session.userId = user.user_id
      req.session.email = user.email ?? ''
    },
    onMail: async ({ kind, to, ticket }) => {
      const verify = kind === 'verify_email'
      const link = `${baseUrl}/${verify ? 'verify' : 'reset'}?ticket=${encodeURIComponent(ticket)}`
      await outbox.send({
        to,
        subject: verify ? 'Confirm your email' : 'Reset your password',
        text: `${verify ? 'Confirm your email address' : 'Choose a new password'} by opening this link:\n\n${link}\n`,
      })
    },
  })

  const app = express()
  app.disable('x-powered-by')
  app.use(
    session({
      secret: process.env['SESSION_SECRET'] ?? randomBytes(32).toString('hex'),
      name: 'sid',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' }, // add `secure: true` behind HTTPS
    }),
  )
  app.use(toNodeHandler(auth))

  const q = (req: ExpressRequest, name: string) => (typeof req.query[name] === 'string' ? req.query[name] : '')
  /** The message of the failed post, for the field it belongs to, or for the form. */
  const errorFor = (req: ExpressRequest, name: string | null) => {
    const code = q(req, 'error')
    if (!code) return undefined
    const known = MESSAGES[code] ?? { message: 'Something went wrong. Try again.' }
    const owner = code === 'invalid_input' ? q(req, 'field') || null : (known.field ?? null)
    return owner === name ? known.message : undefined
  }
  const formError = (req: ExpressRequest) => {
    const message = errorFor(req, null)
    return message ? `<p class="error" role="alert">${esc(message)}</p>` : ''
  }
  const NOTICES: Record<string, string> = {
    signed_up: 'Account created. We sent a link to confirm your email (see the outbox).',
    verified: 'Your email is confirmed. Log in.',
    reset: 'Your password is changed. Log in with the new one.',
    sent: 'If that address has an account, a reset link is on its way.',
    logged_out: 'You are logged out.',
  }
  const notice = (req: ExpressRequest) => NOTICES[q(req, 'notice')]

  app.get('/', (req, res) => {
    res.send(
      page(
        'Welcome',
        req.session.userId
          ? `<p>You are logged in as ${esc(req.session.email)}. <a href="/account">Your account</a></p>`
          : '<p>A small site on latchkey. <a href="/signup">Sign up</a> or <a href="/login">log in</a>.</p>',
      ),
    )
  })

  app.get('/signup', (req, res) => {
    res.send(
      page(
        'Sign up',
        `<form method="post" action="/auth/signup">${formError(req)}
${field({ name: 'email', label: 'Email', type: 'email', value: q(req, 'email'), error: errorFor(req, 'email') })}
${field({ name: 'username', label: 'Username (optional)', value: q(req, 'username'), error: errorFor(req, 'username') })}
${field({ name: 'password', label: 'Password', type: 'password', error: errorFor(req, 'password'), hint: rulesList(rules) })}
<button type="submit">Create account</button></form>`,
      ),
    )
  })

  app.get('/login', (req, res) => {
    res.send(
      page(
        'Log in',
        `<form method="post" action="/auth/login">${formError(req)}
${field({ name: 'identifier', label: 'Email or username', value: q(req, 'identifier'), error: errorFor(req, 'identifier') })}
${field({ name: 'password', label: 'Password', type: 'password', error: errorFor(req, 'password') })}
<button type="submit">Log in</button></form><p><a href="/forgot">Forgot your password?</a></p>`,
        notice(req),
      ),
    )
  })

  app.get('/account', async (req, res, next) => {
    if (!req.session.userId) return res.redirect(303, '/login')
    try {
      const user = await users.getUserById(req.session.userId)
      if (!user) return req.session.destroy(() => res.redirect(303, '/login'))
      res.send(
        page(
          'Your account',
          `<dl><dt>Email</dt><dd id="email">${esc(user.email)}</dd>
<dt>Email confirmed</dt><dd id="verified">${user.email_verified ? 'yes' : 'not yet (see the outbox)'}</dd>
<dt>Logins</dt><dd>${esc(user.logins_count ?? 0)}</dd></dl>
<form method="post" action="/logout"><button type="submit">Log out</button></form>`,
        ),
      )
    } catch (error) {
      next(error)
    }
  })

  /** This site's own pages only: Sec-Fetch-Site, or the Origin of a browser that does not send it yet. */
  const sameOrigin = (req: ExpressRequest) =>
    req.get('sec-fetch-site') === 'same-origin' ||
    (req.get('sec-fetch-site') === undefined && req.get('origin') === new URL(baseUrl).origin)

  app.post('/logout', (req, res) => {
    if (!sameOrigin(req)) return res.status(403).send(page('Refused', '<p>Cross-site request refused.</p>'))
    req.session.destroy(() => res.clearCookie('sid').redirect(303, '/login?notice=logged_out'))
  })

  app.get('/forgot', (req, res) => {
    const sent = q(req, 'notice') === 'sent'
    res.send(
      page(
        'Forgot your password',
        sent
          ? '<p>Check the <a href="/outbox">outbox</a>.</p>'
          : `<form method="post" action="/auth/password/forgot">${formError(req)}
${field({ name: 'email', label: 'Email', type: 'email', value: q(req, 'email'), error: errorFor(req, 'email') })}
<button type="submit">Send me a reset link</button></form>`,
        notice(req),
      ),
    )
  })

  app.get('/reset', (req, res) => {
    res.send(
      page(
        'Choose a new password',
        `<form method="post" action="/auth/password/reset">${formError(req)}
<input type="hidden" name="ticket" value="${esc(q(req, 'ticket'))}">
${field({ name: 'password', label: 'New password', type: 'password', error: errorFor(req, 'password'), hint: rulesList(rules) })}
<button type="submit">Set the new password</button></form>`,
      ),
    )
  })

  app.get('/verify', (req, res) => {
    res.send(
      page(
        'Confirm your email',
        `<form method="post" action="/auth/email/verify">${formError(req)}
<input type="hidden" name="ticket" value="${esc(q(req, 'ticket'))}">
<p>Confirm that this email address is yours.</p><button type="submit">Confirm my email</button></form>`,
      ),
    )
  })

  // The rules as the user types: the policy's own verdict, never the password back, never stored.
  app.post('/password-rules', express.json({ limit: '4kb' }), (req, res) => {
    if (!sameOrigin(req)) return res.status(403).json({ error: 'cross_site_refused' })
    const password: unknown = (req.body as { password?: unknown } | undefined)?.password
    if (typeof password !== 'string' || password.length > 1024) return res.status(400).json({ error: 'invalid_input' })
    res.set('cache-control', 'no-store').json(policy.evaluate(password).map(({ id, verified }) => ({ id, verified })))
  })

  app.get('/outbox', (_req, res) => {
    const list = outbox.mails
      .map(
        (m) => `<article class="mail"><h2>${esc(m.subject)}</h2><p>To ${esc(m.to)}</p>
<pre>${esc(m.text).replace(/(https?:\/\/[^\s<]+)/g, '<a href="$1">$1</a>')}</pre></article>`,
      )
      .join('')
    res.send(page('Outbox', list || '<p>No mail yet.</p>'))
  })

  return {
    app,
    users,
    outbox,
    /** The site's own URL, for the links in its mail. */
    setBaseUrl(url: string) {
      baseUrl = url
    },
    close: () => store.close(),
  }
}
