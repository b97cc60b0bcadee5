import { z } from 'zod'

/**
 * One egress allow-list entry: `host`, `host:port` or `[v6]:port`. Wildcards are refused
 * with a reason: the check compares names and addresses exactly, so `*` or `*.example.com`
 * would silently allow nothing.
 */
export const egressEntrySchema = z
  .string()
  .min(1)
  .max(300)
  .refine((s) => !s.includes('*'), {
    message:
      'wildcards are not supported: egress compares hosts exactly, so a pattern would allow nothing; ' +
      'list each host or host:port the scripts need',
  })

/** A connection's egress allow-list (SPEC §3): the hosts its scripts may reach. Default: none. */
export const egressSchema = z.strictObject({ allow: z.array(egressEntrySchema).max(256) })
