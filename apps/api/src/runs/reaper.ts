import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { afterRunChanged, type LockedRun, patchToData } from "./commands";
import { toRunState, transition } from "./state";

/**
 * Takes back runs whose worker stopped heartbeating for `timeoutSeconds`: each goes back to the
 * queue (the next claim resumes from its last checkpoint) or, with no attempts left, fails with
 * the reason on its row. Only one API process reaps at a time (a transaction-scoped advisory
 * lock); the others skip the round. Returns the runs it changed.
 */
export async function reapExpiredRuns(
  prisma: PrismaClient,
  log: Logger,
  timeoutSeconds: number,
): Promise<db.Run[]> {
  const cutoff = new Date(Date.now() - timeoutSeconds * 1_000);

  const reaped = await prisma.$transaction(async (tx) => {
    const locks = await tx.$queryRaw<{ locked: boolean }[]>`
      SELECT pg_try_advisory_xact_lock(hashtextextended('convnet-run-reaper', 0)) AS locked`;
    if (!locks[0]?.locked) return [];

    const expired = await tx.$queryRaw<
      (LockedRun & { heartbeatAt: Date | null; workerName: string | null })[]
    >`
      SELECT r.id, r.sweep_id AS "sweepId", r.status, r.attempt, r.max_attempts AS "maxAttempts",
             r.worker_id AS "workerId", r.heartbeat_at AS "heartbeatAt", w.name AS "workerName"
      FROM run r LEFT JOIN worker w ON w.id = r.worker_id
      WHERE r.status = 'running' AND (r.heartbeat_at IS NULL OR r.heartbeat_at < ${cutoff})
      FOR UPDATE OF r SKIP LOCKED`;

    const now = new Date();
    const updated: db.Run[] = [];
    for (const row of expired) {
      const error =
        `Worker ${row.workerName ?? row.workerId ?? "(unknown)"} sent no heartbeat for over ${timeoutSeconds} s ` +
        `during attempt ${row.attempt} (last at ${row.heartbeatAt?.toISOString() ?? "never"}).`;
      const patch = transition(toRunState(row), { type: "lease-expired", error });
      updated.push(await tx.run.update({ where: { id: row.id }, data: patchToData(patch, now) }));
    }
    return updated;
  });

  for (const run of reaped) {
    log.warn(
      { runId: run.id, status: run.status, attempt: run.attempt, error: run.error },
      run.status === "queued"
        ? "Requeued a run whose worker went silent"
        : "Failed a run whose worker went silent on its last attempt",
    );
    await afterRunChanged(prisma, log, run);
  }
  return reaped;
}
