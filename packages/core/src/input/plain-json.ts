/** The largest JSON text accepted for `user_metadata` or `app_metadata`. */
export const MAX_METADATA_BYTES = 16 * 1024
/** How deep `user_metadata` or `app_metadata` may nest (the object itself is level 1). */
export const MAX_METADATA_DEPTH = 10

/** Why a value is not plain JSON: where, and what is wrong there. */
export interface PlainJsonProblem {
  path: (string | number)[]
  message: string
}

class Refusal extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message)
  }
}

/**
 * A deep copy of `value` made of own enumerable data properties of plain objects, plain
 * arrays, strings, finite numbers, booleans and null, and nothing else: no getters (they
 * are never called), no `toJSON`, no class instances, no inherited properties, no
 * `__proto__` key and no `constructor.prototype`, so a host's `Object.assign` or deep
 * merge of the result cannot be given a prototype. The walk stops at `maxDepth`, so a
 * value nested 8,000 deep is refused before anything recurses through it.
 */
export function plainJsonCopy(value: unknown, maxDepth: number): { value: unknown } | { problem: PlainJsonProblem } {
  try {
    return { value: copy(value, 1, [], maxDepth) }
  } catch (error) {
    if (error instanceof Refusal) return { problem: { path: error.path, message: error.message } }
    // A Proxy trap that throws, say: the value is not plain data.
    return { problem: { path: [], message: 'must be plain JSON data' } }
  }
}

function copy(value: unknown, depth: number, path: (string | number)[], maxDepth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Refusal(path, 'must be a finite number')
    return value
  }
  if (typeof value !== 'object') throw new Refusal(path, `must be JSON data, not a ${typeof value}`)
  if (depth > maxDepth) throw new Refusal(path, `must be nested at most ${maxDepth} levels deep`)
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw new Refusal(path, 'must be a plain array')
    const out: unknown[] = []
    for (let i = 0; i < value.length; i++) out.push(copy(dataProperty(value, i, path), depth + 1, [...path, i], maxDepth))
    return out
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw new Refusal(path, 'must be a plain object')
  const out: Record<string, unknown> = {}
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') continue
    const descriptor = Object.getOwnPropertyDescriptor(value, key)
    if (!descriptor?.enumerable) continue
    if (key === '__proto__') throw new Refusal([...path, key], 'must not use the key __proto__')
    const item = dataProperty(value, key, path)
    if (key === 'constructor' && typeof item === 'object' && item !== null && Object.hasOwn(item, 'prototype')) {
      throw new Refusal([...path, key], 'must not hold a constructor.prototype chain')
    }
    out[key] = copy(item, depth + 1, [...path, key], maxDepth)
  }
  return out
}

function dataProperty(target: object, key: string | number, path: (string | number)[]): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(target, key)
  if (!descriptor) throw new Refusal([...path, key], 'must not have holes')
  if (!('value' in descriptor)) throw new Refusal([...path, key], 'must be a data property, not a getter')
  return descriptor.value
}
