import { z } from 'zod'
import { emailSchema } from '../profile/email.js'
import { MAX_PASSWORD_INPUT } from '../password/password-text.js'
import { metadataSchema, text } from './text.js'
import type { IssuedTicket } from '../connection/database-connection.js'

/** A password as typed. Policy, NFKC and the 72-byte rule are applied later. */
export const passwordSchema = text(MAX_PASSWORD_INPUT)
/** An email or a username. */
export const identifierSchema = text(320)
export const userIdSchema = text(255)
/** A ticket token as issued (43 base64url characters). */
export const ticketTokenSchema = text(256)

export const signupInputSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  username: text(128).optional(),
  user_metadata: metadataSchema.optional(),
})

export const loginInputSchema = z.strictObject({
  identifier: identifierSchema,
  password: passwordSchema,
})

/** Input of `changeOwnPassword`: the end user proves the current password before setting a new one. */
export const changeOwnPasswordInputSchema = z.strictObject({
  identifier: identifierSchema,
  currentPassword: passwordSchema,
  newPassword: passwordSchema,
})

export const requestContextSchema = z.strictObject({
  ip: text(64).optional(),
  userAgent: text(1024).optional(),
})

const profileText = (max: number) => text(max).nullable().optional()

export const userPatchSchema = z.strictObject({
  user_metadata: metadataSchema.optional(),
  app_metadata: metadataSchema.optional(),
  name: profileText(1024),
  given_name: profileText(1024),
  family_name: profileText(1024),
  nickname: profileText(1024),
  picture: profileText(4096),
  blocked: z.boolean().optional(),
  email_verified: z.boolean().optional(),
})

export const ticketOptionsSchema = z.strictObject({
  ttlSeconds: z.number().int().positive().optional(),
  deliver: z.custom<(ticket: IssuedTicket) => unknown>((v) => typeof v === 'function', 'must be a function').optional(),
})

export const changeEmailOptionsSchema = z.strictObject({
  verified: z.boolean().optional(),
})
