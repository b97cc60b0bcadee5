// bench/http: does the forgot route's timing tell whether an account exists? Median time of
// POST /auth/password/forgot, over HTTP to a server in another process, for known against
// unknown emails, in front of a legacy lookup (a custom-script get_user) that takes 20 ms
// for a known email and answers an unknown one at once. The same lookup called inline (as
// a handler that awaited the ticket would) is the baseline that shows what the route hides.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { closeHashPool } from '@latchkey/core'
import { legacyConnection } from './support/forgot-server.js'
import { fmt, median, report, type Row } from './support/stats.js'

const N = 80

export async function benchHttp(): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/forgot-server.ts', 'serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer]
    const url = `${line.toString().trim()}/auth/password/forgot`
    const time = async (work: () => Promise<unknown>) => {
      const t0 = performance.now()
      await work()
      return performance.now() - t0
    }
    const settle = () => new Promise((resolve) => setTimeout(resolve, 40))
    const forgot = (email: string) =>
      time(async () => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) })
        if (res.status !== 202) throw new Error(`forgot answered ${res.status}`)
        await res.arrayBuffer()
      })

    for (let i = 0; i < 10; i++) {
      await forgot(`known-warm${i}@example.com`)
      await forgot(`nobody-warm${i}@example.com`)
    }
    const known: number[] = []
    const unknown: number[] = []
    const afterKnown: number[] = []
    const afterUnknown: number[] = []
    for (let i = 0; i < N; i++) {
      // Alternated and spaced past the lookup, so each answer is timed on its own.
      known.push(await forgot(`known${i}@example.com`))
      await settle()
      unknown.push(await forgot(`nobody${i}@example.com`))
      await settle()
      // Back to back: the next request shares the server with the lookup the previous one started.
      if (i % 2 === 0) {
        await forgot(`known-b2b${i}@example.com`)
        afterKnown.push(await forgot(`nobody-b2b-k${i}@example.com`))
        await settle()
        await forgot(`nobody-b2b${i}@example.com`)
        afterUnknown.push(await forgot(`nobody-b2b-u${i}@example.com`))
        await settle()
      }
    }

    const inline = await legacyConnection('inline')
    const inlineKnown: number[] = []
    const inlineUnknown: number[] = []
    for (let i = 0; i < N / 2; i++) {
      inlineKnown.push(await time(() => inline.connection.createPasswordResetTicket(`known-inline${i}@example.com`)))
      inlineUnknown.push(await time(() => inline.connection.createPasswordResetTicket(`nobody-inline${i}@example.com`)))
    }
    await inline.close()
    await closeHashPool()

    const ratio = (a: number[], b: number[]) => median(a) / median(b)
    // The target: the route hides at least 90 % of the timing difference the lookup has inline.
    const hidden = 1 - Math.abs(median(known) - median(unknown)) / Math.abs(median(inlineKnown) - median(inlineUnknown))
    const rows: Row[] = [
      {
        measure: 'forgot over HTTP, known / unknown email',
        value: `${fmt(ratio(known, unknown), 3)} (${fmt(median(known))} / ${fmt(median(unknown))} ms)`,
        target: 'reported',
        ok: null,
      },
      {
        measure: 'share of the inline known-unknown difference hidden',
        value: `${fmt(100 * hidden, 1)} %`,
        target: '>= 90 %',
        ok: hidden >= 0.9,
      },
      {
        measure: 'back to back: the request after a known / after an unknown',
        value: `${fmt(ratio(afterKnown, afterUnknown), 3)} (${fmt(median(afterKnown))} / ${fmt(median(afterUnknown))} ms)`,
        target: 'reported',
        ok: null,
      },
      {
        measure: 'the same lookup inline, known / unknown (baseline)',
        value: `${fmt(ratio(inlineKnown, inlineUnknown), 3)} (${fmt(median(inlineKnown))} / ${fmt(median(inlineUnknown))} ms)`,
        target: 'reported',
        ok: null,
      },
    ]
    return report('http forgot timing (SQLite, a 20 ms legacy lookup for known emails, server in its own process)', rows)
  } finally {
    child.kill()
  }
}
