/** Something a run opened on the host: a socket, a database connection, an HTTP agent. */
export interface Closeable {
  close(): Promise<void>
}

/**
 * What one run opened, closed when the run ends, whether it succeeded, failed or timed
 * out. Real scripts open a connection on every run and never close it.
 */
export class RunResources {
  private readonly open = new Set<Closeable>()
  private closed = false

  add<T extends Closeable>(resource: T): T {
    if (this.closed) {
      void resource.close()
      throw new Error('the run has ended')
    }
    this.open.add(resource)
    return resource
  }

  async closeAll(): Promise<void> {
    this.closed = true
    const all = [...this.open]
    this.open.clear()
    // One resource failing to close must not keep the others open.
    await Promise.allSettled(all.map((r) => r.close()))
  }
}
