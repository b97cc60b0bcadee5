import type { z } from 'zod'

/**
 * The code of an {@link InputIssue}: zod's own issue codes (`invalid_type`, `too_big`,
 * `invalid_format`, `custom`, …) and nothing else, so one switch covers both.
 */
export type InputIssueCode = z.core.$ZodIssue['code']
