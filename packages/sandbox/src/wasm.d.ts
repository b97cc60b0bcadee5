// The few WebAssembly globals the sandbox uses. Node 20 has them; @types/node 20 does not
// declare them, and the DOM lib would bring a browser's globals with it.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array)
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number })
    readonly buffer: ArrayBuffer
  }
  class RuntimeError extends Error {}
  function compile(bytes: Uint8Array): Promise<Module>
}
