/* eslint-disable */
/** What the prelude hands a module: its host calls and helpers. */
export interface GuestLib {
  sync(module: string, op: string, args: unknown): any
  call(module: string, op: string, args: unknown): Promise<any>
  settle(promise: Promise<any>, callback: unknown): Promise<any> | undefined
  /**
   * Calls a script's callback from an async context (a timer, a host call's answer). What it
   * throws, or an async callback's rejection, ends the run at once, as an uncaught error would.
   */
  invoke(fn: unknown, ...args: unknown[]): void
  toB64(data: unknown, encoding?: string): string
  timer(ms: number): Promise<void>
  Buffer: any
}
