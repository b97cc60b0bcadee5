/* eslint-disable */
/** What the prelude hands a module: its host calls and helpers. */
export interface GuestLib {
  sync(module: string, op: string, args: unknown): any
  call(module: string, op: string, args: unknown): Promise<any>
  settle(promise: Promise<any>, callback: unknown): Promise<any> | undefined
  toB64(data: unknown, encoding?: string): string
  timer(ms: number): Promise<void>
  Buffer: any
}
