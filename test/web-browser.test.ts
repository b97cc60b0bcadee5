import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { closeHashPool } from '@latchkey/core'
import { createWebApp } from '../examples/web/app.js'
import { storeUrl } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

/**
 * The browser test is opt-in, as the database dialects are: `LATCHKEY_BROWSER` names the
 * Chromium to drive (.ci/run installs Debian's and sets it). Named but missing, it fails.
 */
const executablePath = process.env['LATCHKEY_BROWSER']
const skipReason = executablePath
  ? null
  : existsSync('/usr/bin/chromium')
    ? 'LATCHKEY_BROWSER is not set (LATCHKEY_BROWSER=/usr/bin/chromium runs it; .ci/run sets it)'
    : 'no Chromium is installed (apt-get install chromium, then LATCHKEY_BROWSER=/usr/bin/chromium)'
if (skipReason) console.warn(`browser test skipped: ${skipReason}`)

// Flags for a closed network: without the background-networking ones Chromium keeps dialling out.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const SHOTS = join('.tmp', 'browser')
/** Waits for a page to reach a state; generous, since CI shares two cores with the rest of the suite. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000 })
const EMAIL = 'ada@example.com'
const FIRST_PASSWORD = 'Tr0ub4dor-horse-42'
const NEW_PASSWORD = 'Correct-Staple-Battery-77'
const WRONG_PASSWORD = 'Difference-Engine-1822'

describe.skipIf(skipReason !== null)(`the web example in a real browser${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let browser: Browser
  let server: Server
  let web: Awaited<ReturnType<typeof createWebApp>>
  let base: string
  let shots = 0

  beforeAll(async () => {
    if (!existsSync(executablePath!)) throw new Error(`LATCHKEY_BROWSER=${executablePath} names no file`)
    mkdirSync(SHOTS, { recursive: true })
    web = await createWebApp({ storeUrl: storeUrl('sqlite'), ...TEST_COST })
    server = await new Promise<Server>((resolve) => {
      const s = web.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    web.setBaseUrl(base)
    browser = await chromium.launch({ executablePath: executablePath!, args: CHROMIUM_ARGS })
  })

  afterAll(async () => {
    await browser?.close()
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    await web?.close()
    await closeHashPool()
  })

  /** Checks the page's heading, saves a screenshot and checks it is not blank. */
  async function shot(page: Page, name: string, heading: string): Promise<void> {
    await poll(() => page.locator('h1').innerText()).toBe(heading)
    const path = join(SHOTS, `${String(++shots).padStart(2, '0')}-${name}.png`)
    await page.screenshot({ path, fullPage: true })
    const png = PNG.sync.read(readFileSync(path))
    const first = png.data.readUInt32BE(0)
    let differing = 0
    for (let i = 0; i < png.data.length; i += 4) if (png.data.readUInt32BE(i) !== first) differing++
    expect(differing / (png.width * png.height), `${path} is blank`).toBeGreaterThan(0.01)
  }

  async function logIn(page: Page, password: string): Promise<void> {
    await page.goto(`${base}/login`)
    await page.getByLabel('Email or username').fill(EMAIL)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForLoadState()
  }

  async function openMailLink(page: Page, subject: string): Promise<void> {
    await poll(async () => {
      await page.goto(`${base}/outbox`)
      return page.getByText(subject).count()
    }).toBeGreaterThan(0)
    await shot(page, 'outbox', 'Outbox')
    await page.locator('article.mail', { hasText: subject }).first().locator('a').click()
  }

  it('clicks through signup, verification, login, logout, reset and the throttle', async () => {
    const page = await browser.newPage()

    await page.goto(`${base}/signup`)
    await shot(page, 'signup', 'Sign up')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill('short')
    await poll(() => page.locator('#password-rules li[data-rule="min_length"]').getAttribute('class')).toBe('unmet')
    await page.getByRole('button', { name: 'Create account' }).click()
    await poll(() => page.locator('#f-password-error').innerText()).toContain('does not meet the rules')
    await poll(() => page.getByLabel('Email').inputValue()).toBe(EMAIL)
    await shot(page, 'signup-error', 'Sign up')
    await page.getByLabel('Password').fill(FIRST_PASSWORD)
    // The rules are ticked as the user types.
    await poll(() => page.locator('#password-rules li.unmet').count()).toBe(0)
    await poll(() => page.locator('#password-rules li.met').count()).toBeGreaterThan(2)
    await page.getByRole('button', { name: 'Create account' }).click()
    await poll(() => page.getByRole('status').innerText()).toContain('Account created')
    await shot(page, 'signed-up', 'Log in')

    await openMailLink(page, 'Confirm your email')
    await shot(page, 'verify', 'Confirm your email')
    await page.getByRole('button', { name: 'Confirm my email' }).click()
    await poll(() => page.getByRole('status').innerText()).toContain('Your email is confirmed')

    await logIn(page, FIRST_PASSWORD)
    await shot(page, 'account', 'Your account')
    expect(await page.locator('#verified').innerText()).toBe('yes')
    await page.getByRole('button', { name: 'Log out' }).click()
    await poll(() => page.getByRole('status').innerText()).toContain('logged out')
    await shot(page, 'logged-out', 'Log in')
    await page.goto(`${base}/account`)
    await poll(() => page.locator('h1').innerText()).toBe('Log in') // the session is gone

    await page.goto(`${base}/forgot`)
    await shot(page, 'forgot', 'Forgot your password')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByRole('button', { name: 'Send me a reset link' }).click()
    await poll(() => page.getByRole('status').innerText()).toContain('a reset link is on its way')
    await openMailLink(page, 'Reset your password')
    await shot(page, 'reset', 'Choose a new password')
    await page.getByLabel('New password').fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Set the new password' }).click()
    await poll(() => page.getByRole('status').innerText()).toContain('Your password is changed')

    await logIn(page, FIRST_PASSWORD)
    await poll(() => page.locator('#f-password-error').innerText()).toBe('Wrong email or password.')
    await shot(page, 'wrong-password', 'Log in')
    await logIn(page, NEW_PASSWORD)
    await shot(page, 'account-again', 'Your account')
    await page.getByRole('button', { name: 'Log out' }).click()

    // The success just now reset the pair's counter: ten failures are judged, the 11th is throttled.
    for (let attempt = 1; attempt <= 10; attempt++) {
      await logIn(page, WRONG_PASSWORD)
      await poll(() => page.locator('#f-password-error').innerText()).toBe('Wrong email or password.')
    }
    await logIn(page, WRONG_PASSWORD)
    await poll(() => page.getByRole('alert').innerText()).toBe('Too many attempts. Try again later.')
    await shot(page, 'throttled', 'Log in')

    // The site's own routes refuse other origins too.
    const crossSite = await fetch(`${base}/logout`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.status).toBe(403)
  }, 180_000) // some forty page loads on two shared cores
})
