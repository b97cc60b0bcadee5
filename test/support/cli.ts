import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built `latchkey` binary, spawned as a user would run it (pnpm build first). */
export const CLI_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A running `latchkey`: its output so far, a way to wait for a line, and its end. */
export interface CliProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the first stderr/stdout line that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  done: Promise<CliResult>
}

/** Starts `latchkey ARGS` with piped stdio (so output is the plain, non-terminal kind). */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    env: { ...process.env, LATCHKEY_STORE_URL: undefined, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  })
  let stdout = ''
  let stderr = ''
  const watchers: { pattern: RegExp; resolve: (line: string) => void }[] = []
  const check = () => {
    for (const w of [...watchers]) {
      const line = `${stdout}\n${stderr}`.split('\n').find((l) => w.pattern.test(l))
      if (line !== undefined) {
        watchers.splice(watchers.indexOf(w), 1)
        w.resolve(line)
      }
    }
  }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    check()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    check()
  })
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matched ${pattern} in ${timeoutMs} ms:\n${stdout}\n${stderr}`)), timeoutMs)
        watchers.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          },
        })
        void done.then(() =>
          setTimeout(() => reject(new Error(`latchkey ended before a line matched ${pattern}:\n${stdout}\n${stderr}`)), 50),
        )
        check()
      }),
    done,
  }
}

/** Runs `latchkey ARGS` to its end. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<CliResult> {
  return startCli(args, env, cwd).done
}
