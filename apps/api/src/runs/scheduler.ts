import { createLogger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { publish } from "../pubsub";
import { notifyClaimable } from "../queue/wakeups";
import { notFound } from "../server/errors";

const log = createLogger("scheduler");

/**
 * Brings a sweep up to date after its runs changed: wakes claimers so that up to `concurrency`
 * of its queued runs can be taken, and marks the sweep finished once no run is queued or running.
 * Safe to call any number of times and from any API process.
 *
 * The concurrency limit itself is enforced where runs are claimed (queue/claim.ts), under a
 * per-sweep lock, because only there is the count of running runs exact.
 */
export async function scheduleSweep(prisma: PrismaClient, sweepId: string): Promise<void> {
  // One statement, so two runs ending at once cannot both see the other still running and
  // leave the sweep open: the later commit always sees both ended.
  const finished = await prisma.$queryRaw<{ status: db.SweepStatus }[]>`
    UPDATE sweep SET
      status = (CASE
        WHEN EXISTS (SELECT 1 FROM run WHERE sweep_id = ${sweepId}::uuid AND status = 'succeeded')
          THEN 'succeeded'
        WHEN EXISTS (SELECT 1 FROM run WHERE sweep_id = ${sweepId}::uuid AND status = 'failed')
          THEN 'failed'
        ELSE 'cancelled'
      END)::"SweepStatus",
      finished_at = now()
    WHERE id = ${sweepId}::uuid AND status = 'running'
      AND NOT EXISTS (
        SELECT 1 FROM run WHERE sweep_id = ${sweepId}::uuid AND status IN ('queued', 'running'))
    RETURNING status`;

  const status = finished[0]?.status;
  if (status) log.info({ sweepId, status }, "Sweep finished");
  else await notifyClaimable(prisma, log);
  await publish("SWEEP_UPDATED", { sweepId });
}

/** Cancels a sweep and every run of it that has not ended; workers learn it on their next heartbeat. */
export async function cancelSweep(prisma: PrismaClient, sweepId: string): Promise<db.Sweep> {
  const { sweep, runIds } = await prisma.$transaction(async (tx) => {
    // Runs first, then the sweep: the same lock order as a claim (run row, then sweep lock).
    const cancelled = await tx.$queryRaw<{ id: string }[]>`
      UPDATE run SET status = 'cancelled', finished_at = now(), heartbeat_at = NULL
      WHERE sweep_id = ${sweepId}::uuid AND status IN ('queued', 'running')
      RETURNING id`;
    const updated = await tx.sweep.updateMany({
      where: { id: sweepId, status: "running" },
      data: { status: "cancelled", finishedAt: new Date() },
    });
    const found = await tx.sweep.findUnique({ where: { id: sweepId } });
    if (!found) throw notFound("Sweep", sweepId, "Check the sweep id.");
    if (updated.count === 0) log.info({ sweepId, status: found.status }, "Sweep had already ended");
    return { sweep: found, runIds: cancelled.map((row) => row.id) };
  });

  log.info({ sweepId, cancelledRuns: runIds.length }, "Sweep cancelled");
  for (const runId of runIds) await publish("RUN_UPDATED", { runId, sweepId });
  await publish("SWEEP_UPDATED", { sweepId });
  return sweep;
}

/** Reopens a finished sweep because one of its runs was retried. */
export async function reopenSweep(prisma: PrismaClient, sweepId: string): Promise<void> {
  const reopened = await prisma.sweep.updateMany({
    where: { id: sweepId, status: { not: "running" } },
    data: { status: "running", finishedAt: null },
  });
  if (reopened.count > 0) log.info({ sweepId }, "Sweep reopened for a retried run");
}
