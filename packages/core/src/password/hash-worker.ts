// Runs inside a worker thread of the hash pool: one bcrypt job at a time, timed here so
// callers can separate compute time from everything else (see bench/login).
import { parentPort } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import bcrypt from 'bcryptjs'
import type { HashJob, HashJobResult } from './hash-pool.js'

if (!parentPort) throw new Error('hash-worker must run as a worker thread')
const port = parentPort

port.on('message', (job: HashJob & { id: number }) => {
  const started = performance.now()
  let reply: HashJobResult & { id: number }
  try {
    const value = job.op === 'hash' ? bcrypt.hashSync(job.password, job.cost) : bcrypt.compareSync(job.password, job.hash)
    reply = { id: job.id, ok: true, value, computeMs: performance.now() - started }
  } catch (error) {
    // bcryptjs throws only for malformed input (an invalid salt or hash); the message holds no secret.
    reply = { id: job.id, ok: false, message: error instanceof Error ? error.message : String(error), computeMs: performance.now() - started }
  }
  port.postMessage(reply)
})
