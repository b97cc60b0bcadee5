/**
 * The legacy database a demo runs against, from the first of `variables` that is set.
 * Without one, says in one line how to get a server and exits, instead of a stack trace.
 */
export function demoDatabaseUrl(variables: string[], example: string): URL {
  for (const name of variables) {
    const value = process.env[name]
    if (value) return new URL(value)
  }
  console.error(
    `This demo needs a database: set ${variables[0]}=${example}, or start throwaway servers with ` +
      '`eval "$(scripts/start-databases.sh)"` (and stop them with `scripts/stop-databases.sh`).',
  )
  process.exit(1)
}
