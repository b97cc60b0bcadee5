import type * as errors from './errors.js'

/** A class's static `code`, when it is one literal (ValidationError's is the script's own). */
type StaticCode<T> = T extends { readonly code: infer C extends string } ? (string extends C ? never : C) : never

/**
 * The code of every latchkey error class: `'invalid_user_password' | 'user_exists' | …`.
 * Derived from the classes in errors.ts, so a new class brings its code along.
 *
 * @example
 * function status(code: LatchkeyErrorCode): number { … }
 */
export type LatchkeyErrorCode = { [K in keyof typeof errors]: StaticCode<(typeof errors)[K]> }[keyof typeof errors]
