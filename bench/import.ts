// bench/import: pre-hashed bcrypt users imported per second, on SQLite and (when
// LATCHKEY_PG_URL is set) PostgreSQL. The baseline row is the same rows written by a bare
// prepared INSERT in one transaction on SQLite: the ceiling importUsers works under.
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import Database from 'better-sqlite3'
import bcrypt from 'bcryptjs'
import { BuiltinConnection, importUsers } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { fmt, report, type Row } from './support/stats.js'

export async function benchImport(): Promise<boolean> {
  const hash = bcrypt.hashSync('pre-hashed', 10)
  const rows: Row[] = []
  const targets: [string, string, number, number][] = [['sqlite', `sqlite:.tmp/bench-import-${Date.now()}.db`, 50_000, 20_000]]
  if (process.env['LATCHKEY_PG_URL']) targets.push(['postgres', process.env['LATCHKEY_PG_URL'], 20_000, 10_000])
  if (process.env['LATCHKEY_MYSQL_URL']) targets.push(['mysql', process.env['LATCHKEY_MYSQL_URL'], 20_000, 15_000])

  for (const [dialect, url, n, target] of targets) {
    const store = await openStore(url)
    const connection = new BuiltinConnection({ name: `bench-import-${Date.now()}`, store })
    function* records() {
      for (let i = 0; i < n; i++)
        yield { email: `user${i}@example.com`, email_verified: true, password_hash: hash, user_metadata: { legacy_id: i } }
    }
    const t0 = performance.now()
    const result = await importUsers(connection, records())
    const perSec = n / ((performance.now() - t0) / 1000)
    if (result.imported !== n) throw new Error(`imported ${result.imported} of ${n}`)
    rows.push({
      measure: `importUsers on ${dialect} (${n.toLocaleString('en')} users)`,
      value: `${fmt(perSec, 0)} users/s`,
      target: target ? `>= ${target.toLocaleString('en')}` : 'reported',
      ok: target ? perSec >= target : null,
    })
    await store.close()
  }

  // Baseline: a bare prepared INSERT of comparable rows in one SQLite transaction.
  const db = new Database(`.tmp/bench-import-raw-${Date.now()}.db`)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(
    'create table u (connection text, user_id text, email text, email_normalized text, password_hash text, user_metadata text, created_at integer, primary key (connection, user_id), unique (connection, email_normalized))',
  )
  const insert = db.prepare('insert into u values (?, ?, ?, ?, ?, ?, ?)')
  const t0 = performance.now()
  db.transaction(() => {
    for (let i = 0; i < 50_000; i++)
      insert.run('c', `id${i}`, `user${i}@example.com`, `user${i}@example.com`, hash, JSON.stringify({ legacy_id: i }), Date.now())
  })()
  const rawPerSec = 50_000 / ((performance.now() - t0) / 1000)
  db.close()
  const sqlitePerSec = Number(rows[0]!.value.split(' ')[0])
  rows.push({
    measure: 'bare SQLite INSERT baseline (same rows, one transaction)',
    value: `${fmt(rawPerSec, 0)} rows/s`,
    target: 'reported',
    ok: null,
  })
  rows.push({
    measure: 'importUsers on SQLite / bare INSERT',
    value: fmt(sqlitePerSec / rawPerSec, 3),
    target: '>= 0.3',
    ok: sqlitePerSec / rawPerSec >= 0.3,
  })
  if (process.env['BENCH_IMPORT_MILLION'] !== '0') rows.push(await millionFromNdjson(hash))
  return report('import (pre-hashed bcrypt users)', rows)
}

/** A million records as an NDJSON byte stream into SQLite, with the process's peak RSS sampled throughout. */
async function millionFromNdjson(hash: string): Promise<Row> {
  const n = 1_000_000
  const store = await openStore(`sqlite:.tmp/bench-import-million-${Date.now()}.db`)
  const connection = new BuiltinConnection({ name: 'bench-million', store })
  const lines = Readable.from(
    (function* () {
      for (let i = 0; i < n; i++)
        yield `${JSON.stringify({ email: `m${i}@example.com`, password_hash: hash, user_metadata: { legacy_id: i } })}\n`
    })(),
  )
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 100)
  const t0 = performance.now()
  const result = await importUsers(connection, lines)
  clearInterval(sampler)
  await store.close()
  if (result.imported !== n) throw new Error(`imported ${result.imported} of ${n}`)
  const mib = peak / 2 ** 20
  return {
    measure: `1,000,000 NDJSON records on SQLite: peak RSS (${fmt(n / ((performance.now() - t0) / 1000), 0)} users/s)`,
    value: `${fmt(mib, 0)} MiB`,
    target: '< 250 MiB',
    ok: mib < 250,
  }
}
