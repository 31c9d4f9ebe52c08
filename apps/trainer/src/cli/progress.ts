import type { BatchProgress, EpochReport } from "../train";

const BAR_WIDTH = 30;

/** Interval between progress lines in a log, where a bar cannot redraw in place. */
const LOG_INTERVAL_MS = 30_000;

/**
 * Draws a Keras-style progress bar per epoch on a stream. On a terminal the bar redraws in place.
 * Elsewhere (a log file) it writes a progress line every 30 seconds and the finished epoch line,
 * so a log stays short and still shows that a long epoch is moving.
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastLogLine = 0;
  private lastProgress: BatchProgress | null = null;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {}

  phaseStart(phase: string, epochs: number): void {
    this.stream.write(`Phase ${phase}: ${epochs} epoch${epochs === 1 ? "" : "s"}\n`);
  }

  batch(progress: BatchProgress): void {
    const now = this.now();
    if (progress.batch === 1) {
      this.stream.write(`Epoch ${progress.epoch}/${progress.epochs}\n`);
      this.lastLogLine = now;
    }
    this.lastProgress = progress;
    const remaining =
      (progress.elapsedSeconds / progress.batch) * (progress.batches - progress.batch);
    const line = `${bar(progress)} - ETA ${formatSeconds(remaining)} - loss: ${progress.loss.toFixed(4)} - acc: ${progress.accuracy.toFixed(4)}`;

    if (!this.stream.isTTY) {
      if (progress.batch < progress.batches && now - this.lastLogLine >= LOG_INTERVAL_MS) {
        this.lastLogLine = now;
        this.stream.write(`${line}\n`);
      }
      return;
    }
    if (progress.batch < progress.batches && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.stream.write(`\r${line}\u001b[K`);
  }

  epoch(report: EpochReport): void {
    const progress = this.lastProgress;
    const metrics = report.metrics;
    const parts = [
      progress === null ? "" : bar(progress),
      `${formatSeconds(metrics.epoch_seconds ?? 0)}`,
      `loss: ${(metrics.loss ?? Number.NaN).toFixed(4)}`,
      `acc: ${(metrics.accuracy ?? Number.NaN).toFixed(4)}`,
    ];
    if (metrics.val_loss !== undefined) parts.push(`val_loss: ${metrics.val_loss.toFixed(4)}`);
    if (metrics.val_accuracy !== undefined)
      parts.push(`val_acc: ${metrics.val_accuracy.toFixed(4)}`);
    parts.push(`${Math.round(metrics.samples_per_second ?? 0)} samples/s`);
    this.stream.write(
      `${this.stream.isTTY ? "\r" : ""}${parts.join(" - ")}${this.stream.isTTY ? "\u001b[K" : ""}\n`,
    );
  }
}

function bar(progress: BatchProgress): string {
  const done = Math.floor((progress.batch / progress.batches) * BAR_WIDTH);
  const arrow = progress.batch < progress.batches ? ">" : "=";
  const filled = `${"=".repeat(Math.max(0, done - 1))}${done > 0 ? arrow : ""}`;
  const width = String(progress.batches).length;
  return `${String(progress.batch).padStart(width)}/${progress.batches} [${filled.padEnd(BAR_WIDTH, ".")}]`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}
