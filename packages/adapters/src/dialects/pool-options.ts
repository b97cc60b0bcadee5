/** Pool options of the server dialects (PostgreSQL, MySQL/MariaDB). */
export interface PoolOptions {
  /** Connections in the pool. Default 10. */
  poolSize?: number | undefined
  /** How long to wait for a connection before StoreUnavailableError, in ms. Default 5000. */
  connectTimeoutMs?: number | undefined
}
