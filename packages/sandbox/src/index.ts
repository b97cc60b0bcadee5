// @latchkey/sandbox: the public API. What is not exported here is private.
export { QuickJsRunner, scriptRunOptionsSchema } from './quickjs-runner.js'
export { quickJsRunnerOptionsSchema, RUN_LIMITS, BRIDGE_LIMITS } from './limits.js'
export type { QuickJsRunnerOptions } from './limits.js'
export { loadScripts } from './load-scripts.js'
export type { WorkerLostEvent } from './pool/sandbox-pool.js'
