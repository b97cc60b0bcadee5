// Found by an attack review: the scrypt cap bounds N·r·p, but with N tiny the cost is dominated by p (each lane
// pays PBKDF2-SHA256 over 128·r bytes and its own BlockMix set-up), so N=2, r=1, p=2^18 passes
// the cap (N·r·p = 2^19, the default) yet costs about 6x the "dearest record" the cap is meant
// to allow (N 2^16, r 8, p 1): about 2 s of a hash-pool worker per verify() from a hostile
// script (and per wrong password against such an imported record). Such a hash must be refused.
import { afterAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import { parseStoredHash } from '@latchkey/core/internal'
import { QuickJsRunner } from '@latchkey/sandbox'

afterAll(async () => {
  await closeHashPool()
})

describe('password-hash verify: scrypt parameters that pass N·r·p but not the cost the cap stands for', () => {
  const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
  afterAll(async () => {
    await runner.close()
  })

  it('refuses a scrypt hash with N = 2 and p = 2^18 as over_cap', async () => {
    const salt = Buffer.alloc(16, 7).toString('base64').replace(/=+$/, '')
    const hash = Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '')
    const phc = `$scrypt$ln=1,r=1,p=262144$${salt}$${hash}`
    const source = `async function check(phc) {
      try { return 'verified: ' + (await require('@latchkey/password-hash').verify('guess', phc)) }
      catch (e) { return 'refused: ' + e.code }
    }`
    const { value } = await runner.run(source, [phc], {})
    expect(value).toBe('refused: over_cap')
  })

  it('refuses it at bulk import too, and keeps p = 16 importable', async () => {
    const salt = Buffer.alloc(16, 7).toString('base64').replace(/=+$/, '')
    const hash = Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '')
    expect(() => parseStoredHash(`$scrypt$ln=1,r=1,p=262144$${salt}$${hash}`)).toThrow(/over 16/)
    expect(() => parseStoredHash(`$scrypt$ln=4,r=8,p=16$${salt}$${hash}`)).not.toThrow()
  })
})
