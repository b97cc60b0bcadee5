import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RaceTask } from './race-child.js'

const CHILD = fileURLToPath(new URL('./race-child.ts', import.meta.url))

/**
 * Runs each task in its own Node process, releases them together once all are ready, and
 * returns every call's outcome: 'ok' or the LatchkeyError code.
 */
export async function race(tasks: RaceTask[]): Promise<string[][]> {
  const children = tasks.map((task) =>
    fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, RACE_TASK: JSON.stringify(task) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  )
  const exited = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`race child exited with ${code}`))))
      }),
  )
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve())
          child.once('exit', (code) => reject(new Error(`race child exited with ${code} before it was ready`)))
        }),
    ),
  )
  const results = children.map(
    (child) =>
      new Promise<string[]>((resolve) => {
        child.once('message', (m) => resolve((m as { outcomes: string[] }).outcomes))
      }),
  )
  for (const child of children) child.send('go')
  const outcomes = await Promise.all(results)
  await Promise.all(exited)
  return outcomes
}
