// @latchkey/core/internal: what latchkey's own packages (adapters, sandbox) share with
// core. Not the public API: no compatibility promise, names may change in any release.

export { parseInput } from './input/parse-input.js'
