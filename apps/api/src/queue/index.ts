import { type Logger, loadConfig } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import PgBoss from "pg-boss";
import { publish } from "../pubsub";
import { reapExpiredRuns } from "../runs/reaper";
import { scheduleSweep } from "../runs/scheduler";
import { type ClaimResult, claimNextRun } from "./claim";
import { ClaimWakeups } from "./wakeups";

export { type ClaimResult, claimNextRun } from "./claim";
export { notifyClaimable } from "./wakeups";

/** Maximum seconds a claim may wait for a run, because HTTP proxies and clients time out past it. */
export const MAX_CLAIM_WAIT_SECONDS = 30;
/** Poll interval of a waiting claim when no wake-up arrives (a lost NOTIFY, another database user). */
const CLAIM_POLL_MS = 2_000;
const HOUSEKEEPING_JOB = "reconcile-sweeps";

/*
 * Why the run table is the queue and pg-boss only runs housekeeping: pg-boss 10's fetch can join
 * a transaction (its `db` option), so a claim could take a job and update the run together. But a
 * job row would repeat the run row's status, so requeue, cancel, retry and the reaper would each
 * have to change both in step. pg-boss 10 also has no per-group limit for a sweep's concurrency.
 * Its cron schedules resolve to one minute, too coarse for a reaper that must act within seconds. `SELECT ... FOR UPDATE SKIP LOCKED` on the run row keeps one source of truth; with 8
 * concurrent claimers over 400 runs no run was handed out twice (apps/api/bench/lifecycle.ts).
 */

export interface RunQueue {
  /** Long-polls up to `waitSeconds` (capped at 30) for a run; null when none came. */
  claim(workerId: string, waitSeconds: number, signal?: AbortSignal): Promise<ClaimResult | null>;
  /** Runs one reaper round now (the timer runs it every few seconds). */
  reap(): Promise<void>;
  stop(): Promise<void>;
}

let active: RunQueue | undefined;

/** Returns the queue started in this process, for the worker mutations. */
export function getQueue(): RunQueue {
  if (!active) {
    throw new Error("The run queue is not started in this process; call startQueue() at start.");
  }
  return active;
}

function reaperIntervalMs(timeoutSeconds: number): number {
  // A third of the timeout, so a silent worker is noticed at most a third late, within 1-5 s.
  return Math.min(5_000, Math.max(1_000, (timeoutSeconds * 1_000) / 3));
}

async function startHousekeeping(
  databaseUrl: string,
  prisma: PrismaClient,
  log: Logger,
): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: databaseUrl, schema: "pgboss", max: 2 });
  boss.on("error", (error) => log.error({ err: error }, "pg-boss reported an error"));
  await boss.start();
  await boss.createQueue(HOUSEKEEPING_JOB);
  // Repairs a sweep left open when an API process stopped between ending its last run and
  // updating the sweep.
  await boss.schedule(HOUSEKEEPING_JOB, "* * * * *");
  await boss.work(HOUSEKEEPING_JOB, async () => {
    const open = await prisma.sweep.findMany({
      where: { status: "running" },
      select: { id: true },
    });
    for (const sweep of open) await scheduleSweep(prisma, sweep.id);
  });
  return boss;
}

/**
 * Starts this process's part of the run queue: claim wake-ups, the lease reaper and pg-boss
 * housekeeping (schema "pgboss" in the same database). Returns the queue; `stop()` ends them all.
 */
export async function startQueue(
  databaseUrl: string,
  prisma: PrismaClient,
  parentLog: Logger,
  options: { heartbeatTimeoutSeconds?: number } = {},
): Promise<RunQueue> {
  const log = parentLog.child({ component: "queue" });
  const timeoutSeconds = options.heartbeatTimeoutSeconds ?? loadConfig().HEARTBEAT_TIMEOUT_SECONDS;
  let stopped = false;

  const wakeups = new ClaimWakeups(databaseUrl, log);
  await wakeups.start();
  const boss = await startHousekeeping(databaseUrl, prisma, log);

  const reap = async () => {
    try {
      await reapExpiredRuns(prisma, log, timeoutSeconds);
    } catch (error) {
      log.error({ err: error }, "A reaper round failed; the next round retries");
    }
  };
  let reaping: Promise<void> = Promise.resolve();
  const reaperTimer = setInterval(() => {
    reaping = reaping.then(reap);
  }, reaperIntervalMs(timeoutSeconds));
  reaperTimer.unref();

  const claim = async (workerId: string, waitSeconds: number, signal?: AbortSignal) => {
    const wait = Math.min(Math.max(waitSeconds, 0), MAX_CLAIM_WAIT_SECONDS);
    const deadline = Date.now() + wait * 1_000;
    for (;;) {
      const claimed = await claimNextRun(prisma, workerId);
      if (claimed) {
        const { run } = claimed;
        log.info({ runId: run.id, workerId, attempt: run.attempt }, "Run claimed");
        await publish("RUN_UPDATED", { runId: run.id, sweepId: run.sweepId });
        if (run.sweepId) await publish("SWEEP_UPDATED", { sweepId: run.sweepId });
        return claimed;
      }
      const left = deadline - Date.now();
      if (left <= 0 || stopped || signal?.aborted) return null;
      await wakeups.wait(Math.min(left, CLAIM_POLL_MS), signal);
      if (stopped) return null;
    }
  };

  const queue: RunQueue = {
    claim,
    reap,
    stop: async () => {
      stopped = true;
      clearInterval(reaperTimer);
      await reaping;
      await wakeups.stop();
      await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
      if (active === queue) active = undefined;
      log.info("Run queue stopped");
    },
  };
  active = queue;
  log.info({ heartbeatTimeoutSeconds: timeoutSeconds }, "Run queue started");
  return queue;
}
