import cliProgress from 'cli-progress'
import type { ImportProgress } from '@latchkey/core'

/** How far an import is: the committed counts and the bytes of the file read so far. */
export interface ImportPosition {
  progress: ImportProgress
  bytesRead: number
}

/**
 * Shows an import's progress on stderr: a bar with count, rate and ETA on a terminal,
 * or else one plain `progress:` line every `intervalMs` (each reports committed batches
 * only, since it is drawn after a batch is written).
 */
export class ProgressDisplay {
  private readonly started = Date.now()
  private bar: cliProgress.SingleBar | null = null
  private lastLine = this.started

  constructor(
    private readonly totalBytes: number,
    terminal: boolean,
    private readonly intervalMs: number,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    if (terminal) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: stderr,
          format: '{bar} {percentage}% | {records} records | {rate}/s | {failed} failed | ETA {eta_formatted}',
          barsize: 30,
          hideCursor: true,
          etaBuffer: 20,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      )
      this.bar.start(Math.max(totalBytes, 1), 0, { records: 0, rate: 0, failed: 0 })
    }
  }

  /** Records per second since the start. */
  rate(processed: number): number {
    const seconds = (Date.now() - this.started) / 1000
    return seconds > 0 ? Math.round(processed / seconds) : 0
  }

  /** Seconds since the start. */
  elapsed(): number {
    return (Date.now() - this.started) / 1000
  }

  update({ progress, bytesRead }: ImportPosition): void {
    const rate = this.rate(progress.processed)
    if (this.bar) {
      this.bar.update(Math.min(bytesRead, this.totalBytes), {
        records: progress.processed.toLocaleString('en-US'),
        rate: rate.toLocaleString('en-US'),
        failed: progress.failed,
      })
      return
    }
    const now = Date.now()
    if (now - this.lastLine < this.intervalMs) return
    this.lastLine = now
    const share = this.totalBytes > 0 ? Math.min(1, bytesRead / this.totalBytes) : 1
    const eta = rate > 0 && share > 0 ? Math.round(this.elapsed() * (1 / share - 1)) : undefined
    this.stderr.write(
      `progress: ${progress.processed} records, line ${progress.line ?? 0}, imported ${progress.imported}, updated ${progress.updated}, ` +
        `skipped ${progress.skipped}, failed ${progress.failed}, ${rate}/s, ${Math.round(share * 100)}%${eta === undefined ? '' : `, ETA ${eta}s`}\n`,
    )
  }

  /** Leaves the bar drawn at its last value, on its own line. */
  stop(): void {
    this.bar?.stop()
  }
}
