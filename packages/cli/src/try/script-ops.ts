import { z } from 'zod'
import { emailSchema, identifierSchema, InvalidInputError, passwordSchema, signupInputSchema, userIdSchema } from '@latchkey/core'
import type { ScriptName } from '../connection-config.js'

/** How a custom-script connection calls each script (SPEC §3): its parameters, and which of them are secrets. */
interface ScriptOp {
  params: string[]
  args: z.ZodType<unknown[]>
  /** The secrets among the arguments, redacted from logs and errors as in production. */
  secrets(args: unknown[]): string[]
}

const createUser = signupInputSchema.extend({ connection: z.string().min(1).max(128).optional() })

export const SCRIPT_OPS: Record<ScriptName, ScriptOp> = {
  login: { params: ['identifier', 'password'], args: z.tuple([identifierSchema, passwordSchema]), secrets: (a) => [String(a[1])] },
  create: {
    params: ['user'],
    args: z.tuple([createUser]),
    secrets: (a) => [String((a[0] as { password: string }).password)],
  },
  verify: { params: ['email'], args: z.tuple([emailSchema]), secrets: () => [] },
  change_password: { params: ['email', 'newPassword'], args: z.tuple([emailSchema, passwordSchema]), secrets: (a) => [String(a[1])] },
  get_user: { params: ['identifier'], args: z.tuple([identifierSchema]), secrets: () => [] },
  delete: { params: ['id'], args: z.tuple([userIdSchema]), secrets: () => [] },
  change_email: { params: ['email', 'newEmail', 'verified'], args: z.tuple([emailSchema, emailSchema, z.boolean()]), secrets: () => [] },
}

/**
 * Checks `--args` against what the script is called with in production: the count, and
 * each argument's shape. `create` gets `connection` filled in, as the connection does.
 */
export function checkArgs(op: ScriptName, args: unknown, connection: string): unknown[] {
  const spec = SCRIPT_OPS[op]
  const signature = `${op}(${spec.params.join(', ')})`
  if (!Array.isArray(args)) {
    throw new InvalidInputError([{ path: ['args'], code: 'invalid_type', message: `must be a JSON array: ${signature}` }])
  }
  if (args.length !== spec.params.length) {
    throw new InvalidInputError([
      {
        path: ['args'],
        code: args.length < spec.params.length ? 'too_small' : 'too_big',
        message: `${signature} takes ${spec.params.length} argument(s), got ${args.length}`,
      },
    ])
  }
  const parsed = spec.args.safeParse(args)
  if (!parsed.success) {
    throw new InvalidInputError(
      parsed.error.issues.map((i) => {
        const [at, ...rest] = i.path
        const name = typeof at === 'number' ? (spec.params[at] ?? String(at)) : String(at)
        return {
          path: ['args', name, ...rest.map((p) => (typeof p === 'symbol' ? String(p) : p))],
          code: i.code,
          message: `${i.message} (${signature})`,
        }
      }),
    )
  }
  const value = parsed.data
  if (op === 'create') value[0] = { ...(value[0] as object), connection: (value[0] as { connection?: string }).connection ?? connection }
  return value
}
