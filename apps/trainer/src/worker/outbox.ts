import type { Logger } from "@convnet/shared";
import { ApiError } from "./api-client";

type Send = (signal: AbortSignal) => Promise<unknown>;

/**
 * Reports of one run (metrics, checkpoints) sent in the order they were made, in the background,
 * so training goes on while the API is slow or unreachable. Each report's `send` function does
 * its own retries. An ApiError (such as CONFLICT for a stale attempt) stops the outbox and goes
 * to `onRejected`, because no later report of this attempt can succeed either.
 */
export class Outbox {
  private readonly pending: { label: string; send: Send }[] = [];
  private readonly controller = new AbortController();
  private draining: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly log: Logger,
    private readonly onRejected: (error: ApiError) => void,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  push(label: string, send: Send): void {
    if (this.failure !== undefined || this.controller.signal.aborted) return;
    this.pending.push({ label, send });
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves once every report went out; rejects with the error that stopped the outbox. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Drops what is left, for a run that was taken away or is being abandoned. */
  close(): void {
    this.pending.length = 0;
    this.controller.abort(new Error("The outbox was closed"));
  }

  private async drain(): Promise<void> {
    for (let next = this.pending[0]; next; next = this.pending[0]) {
      try {
        await next.send(this.controller.signal);
        this.pending.shift();
      } catch (error) {
        if (this.controller.signal.aborted) return;
        this.failure = error;
        this.pending.length = 0;
        this.log.error(
          { err: error, report: next.label },
          "A report was rejected; no further reports are sent for this attempt",
        );
        if (error instanceof ApiError) this.onRejected(error);
        return;
      }
    }
  }
}
