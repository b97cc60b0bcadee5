// @latchkey/cli: the `latchkey` command. Its interface is the command line; this export
// lets a host embed the same commands (tests spawn the built binary instead).
export { buildProgram, main } from './program.js'
export { connectionConfigSchema, loadConfig } from './connection-config.js'
export type { ConnectionConfig } from './connection-config.js'
export { CommandError, EXIT } from './command-error.js'
