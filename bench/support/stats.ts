/** The q-quantile (0..1) of a sample, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

export const median = (values: readonly number[]) => quantile(values, 0.5)

export interface Row {
  measure: string
  value: string
  target: string
  ok: boolean | null
}

/** Prints one bench's rows as an aligned table; `ok: null` means reported, not held to a target. */
export function report(title: string, rows: Row[], notes: string[] = []): boolean {
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => [r.measure, r.value, r.target][i]!.length), 8))
  console.log(`\n## ${title}`)
  for (const r of rows) {
    const verdict = r.ok === null ? 'report' : r.ok ? 'PASS' : 'FAIL'
    console.log(`  ${r.measure.padEnd(widths[0]!)}  ${r.value.padStart(widths[1]!)}  ${r.target.padEnd(widths[2]!)}  ${verdict}`)
  }
  for (const n of notes) console.log(`  - ${n}`)
  return rows.every((r) => r.ok !== false)
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits)
