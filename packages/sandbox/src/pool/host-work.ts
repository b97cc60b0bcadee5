import { scriptHashJob, type ScriptHashJob } from '@latchkey/core/internal'
import { pbkdf2Params } from '../bridges/crypto-bridge.js'
import { BRIDGE_LIMITS, RUN_LIMITS } from '../limits.js'
import { passwordHashJob } from './password-hash-job.js'

/** One run's share of host work: what it has in flight, what waits, and how much it has asked for. */
interface Share {
  inFlight: number
  total: number
  waiting: (() => void)[]
  ended: AbortController
}

/**
 * The heavy host work scripts ask for (bcrypt hash and compare, pbkdf2, legacy-hash verification), served on core's
 * process-wide hash pool behind its built-in jobs and on at most half its workers, never
 * on libuv's threadpool. Each run gets a bounded share: a few jobs in flight, a capped
 * total, and whatever it still has queued is dropped the moment the run ends.
 */
export class HostWork {
  private readonly shares = new Map<number, Share>()

  /** Serves one host call of run `runId`. */
  async call(runId: number, module: string, op: string, args: unknown): Promise<unknown> {
    if (module === 'password-hash' && op === 'verify') {
      const job = passwordHashJob(args)
      if ('ok' in job) return job
      return { ok: true, matches: await this.run(runId, job) }
    }
    const job = scriptJob(module, op, (args ?? {}) as Record<string, unknown>)
    if (job === false) return false
    return this.run(runId, job)
  }

  /** Runs `job` on the hash pool within run `runId`'s share. */
  private async run(runId: number, job: ScriptHashJob): Promise<string | boolean> {
    const share = this.share(runId)
    if (share.total >= RUN_LIMITS.hostJobsPerRun) {
      throw new Error(`a script may ask for at most ${RUN_LIMITS.hostJobsPerRun} bcrypt, pbkdf2 and password-hash operations per run`)
    }
    share.total += 1
    while (share.inFlight >= RUN_LIMITS.hostJobsInFlight) await new Promise<void>((resolve) => share.waiting.push(resolve))
    if (share.ended.signal.aborted) throw new Error('the run has ended')
    share.inFlight += 1
    try {
      return await scriptHashJob(job, share.ended.signal)
    } finally {
      share.inFlight -= 1
      share.waiting.shift()?.()
    }
  }

  /** The run is over: its queued work is dropped; what a worker already runs finishes unseen. */
  end(runId: number): void {
    const share = this.shares.get(runId)
    if (!share) return
    this.shares.delete(runId)
    share.ended.abort()
    for (const wake of share.waiting.splice(0)) wake()
  }

  private share(runId: number): Share {
    let share = this.shares.get(runId)
    if (!share) {
      share = { inFlight: 0, total: 0, waiting: [], ended: new AbortController() }
      this.shares.set(runId, share)
    }
    return share
  }
}

/** The hash job a host call asks for, with its caps checked; false for a compare against something that is no bcrypt hash. */
function scriptJob(module: string, op: string, a: Record<string, unknown>): ScriptHashJob | false {
  if (module === 'bcrypt' && op === 'hash') {
    const cost = a['cost']
    if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 4 || cost > BRIDGE_LIMITS.bcryptMaxCost) {
      throw new RangeError(`bcrypt cost must be an integer from 4 to ${BRIDGE_LIMITS.bcryptMaxCost}`)
    }
    return { op: 'hash', password: String(a['password']), cost }
  }
  if (module === 'bcrypt' && op === 'compare') {
    const hash = String(a['hash'])
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return false
    // Imported legacy hashes of cost 13 and 14 still verify; hashing stays at 12 or less.
    if (Number(hash.slice(4, 6)) > BRIDGE_LIMITS.bcryptMaxCompareCost) throw new RangeError('bcrypt hash cost is over the cap')
    return { op: 'compare', password: String(a['password']), hash }
  }
  if (module === 'crypto' && op === 'pbkdf2') {
    const p = pbkdf2Params(a, BRIDGE_LIMITS.pbkdf2MaxIterations)
    return {
      op: 'pbkdf2',
      password: p.password.toString('base64'),
      salt: p.salt.toString('base64'),
      iterations: p.iterations,
      keylen: p.keylen,
      digest: p.digest,
    }
  }
  throw new Error(`no host module ${module}.${op}`)
}
