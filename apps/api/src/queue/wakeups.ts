import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import pg from "pg";

/** NOTIFY channel that announces "a run may have become claimable"; the payload is empty. */
export const CLAIMABLE_CHANNEL = "convnet_runs_claimable";

const RECONNECT_DELAY_MS = 1_000;

/**
 * Tells every API process that a run may now be claimable (queued, requeued, or a sweep slot
 * freed), so that long-polling claims retry at once instead of at their next poll.
 */
export async function notifyClaimable(prisma: PrismaClient, log: Logger): Promise<void> {
  try {
    await prisma.$executeRaw`SELECT pg_notify(${CLAIMABLE_CHANNEL}, '')`;
  } catch (error) {
    // Claimers still poll, so a lost wake-up only delays a claim.
    log.warn({ err: error }, "Sending the claimable wake-up failed");
  }
}

/**
 * Listens for wake-ups on one dedicated connection and resolves the waiters of this process.
 * Reconnects after a lost connection; meanwhile waiters fall back to their poll interval.
 */
export class ClaimWakeups {
  private readonly waiters = new Set<() => void>();
  private client: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on("notification", () => this.wakeAll());
    client.on("error", (error) => {
      this.log.warn({ err: error }, "The claim wake-up connection failed; reconnecting");
      this.reconnectLater(client);
    });
    client.on("end", () => this.reconnectLater(client));
    await client.connect();
    await client.query(`LISTEN ${CLAIMABLE_CHANNEL}`);
    this.client = client;
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Resolves on the next wake-up, after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }

  private wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private reconnectLater(failed: pg.Client): void {
    if (this.closed || this.client !== failed) return;
    this.client = undefined;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    setTimeout(() => {
      if (this.closed) return;
      this.start().catch((error: unknown) => {
        this.log.warn({ err: error }, "Reconnecting the claim wake-up connection failed; retrying");
        this.scheduleReconnect();
      });
    }, RECONNECT_DELAY_MS).unref();
  }
}
