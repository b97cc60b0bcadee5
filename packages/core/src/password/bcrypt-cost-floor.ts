import type { z } from 'zod'

/** The bcrypt cost of new hashes unless a connection says otherwise. */
export const DEFAULT_BCRYPT_COST = 10
/** The lowest cost that stores real passwords (ASVS 5.0 11.4.2, OWASP's password storage guidance). */
export const MIN_BCRYPT_COST = 10

/**
 * Refuses connection options whose `bcryptCost` is below {@link MIN_BCRYPT_COST} unless they also set
 * `unsafeLowCostForTests: true`, so a cheap cost meant for a test suite cannot reach production unnoticed.
 */
export function bcryptCostFloor(
  ctx: z.core.ParsePayload<{ bcryptCost?: number | undefined; unsafeLowCostForTests?: boolean | undefined }>,
): void {
  const { bcryptCost, unsafeLowCostForTests } = ctx.value
  if (bcryptCost === undefined || bcryptCost >= MIN_BCRYPT_COST || unsafeLowCostForTests === true) return
  ctx.issues.push({
    code: 'custom',
    path: ['bcryptCost'],
    message: `must be at least ${MIN_BCRYPT_COST}; a lower cost is only for test suites, with unsafeLowCostForTests: true`,
    input: bcryptCost,
  })
}
