// Runs inside a worker thread of the hash pool: one bcrypt job at a time, timed here so
// callers can separate compute time from everything else (see bench/login).
import { pbkdf2Sync } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { loadBcryptEngine, type BcryptEngineName } from './bcrypt-engine.js'
import type { HashJob, HashJobResult } from './hash-pool.js'
import { verifyLegacy } from './legacy/verify-legacy.js'

if (!parentPort) throw new Error('hash-worker must run as a worker thread')
const port = parentPort
// The pool chose the implementation for the whole process; the worker only loads it.
const bcrypt = loadBcryptEngine((workerData as { engine: BcryptEngineName }).engine)

async function work(job: HashJob): Promise<string | boolean> {
  switch (job.op) {
    case 'hash':
      return bcrypt.hashSync(job.password, job.cost)
    case 'compare':
      return bcrypt.compareSync(job.password, job.hash)
    case 'legacy':
      return verifyLegacy(job.legacy, job.password)
    case 'pbkdf2':
      return pbkdf2Sync(
        Buffer.from(job.password, 'base64'),
        Buffer.from(job.salt, 'base64'),
        job.iterations,
        job.keylen,
        job.digest,
      ).toString('base64')
  }
}

port.on('message', (job: HashJob & { id: number }) => {
  const started = performance.now()
  const reply = (result: HashJobResult) => port.postMessage({ ...result, id: job.id })
  work(job).then(
    (value) => reply({ ok: true, value, computeMs: performance.now() - started }),
    // Only malformed input throws (an invalid salt or hash); messages never hold the password.
    (error: unknown) =>
      reply({ ok: false, message: error instanceof Error ? error.message : String(error), computeMs: performance.now() - started }),
  )
})
