import { z } from 'zod'
import { metadataSchema } from '../input/text.js'

/**
 * The normalised user profile. Every profile latchkey returns has this shape, and every
 * profile a script returns is parsed with it (never merged), so a guest cannot smuggle
 * extra fields, getters or a polluted prototype into the host.
 *
 * A numeric `user_id` is turned into a string; dates accept `Date`, ISO strings or epoch ms.
 */
export const userProfileSchema = z.object({
  user_id: z
    .union([
      z.string(),
      z
        .number()
        .int()
        .nonnegative()
        .transform((n) => String(n)),
    ])
    .pipe(z.string().min(1).max(255)),
  email: z.string().max(320).optional(),
  email_verified: z.boolean().optional(),
  username: z.string().max(128).optional(),
  name: z.string().max(1024).optional(),
  given_name: z.string().max(1024).optional(),
  family_name: z.string().max(1024).optional(),
  nickname: z.string().max(1024).optional(),
  picture: z.string().max(4096).optional(),
  user_metadata: metadataSchema.optional(),
  app_metadata: metadataSchema.optional(),
  created_at: z.coerce.date().optional(),
  updated_at: z.coerce.date().optional(),
  last_login: z.coerce.date().optional(),
  logins_count: z.number().int().nonnegative().optional(),
  last_password_reset: z.coerce.date().optional(),
  blocked: z.boolean().optional(),
})

/** A user profile. Passwords and hashes never appear in one. */
export type UserProfile = z.output<typeof userProfileSchema>
