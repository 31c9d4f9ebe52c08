import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { publish } from "../pubsub";
import { notifyClaimable } from "../queue/wakeups";
import { notFound } from "../server/errors";
import { scheduleSweep } from "./scheduler";
import { type RunEvent, type RunPatch, toRunState, transition } from "./state";

export type TransactionClient = db.Prisma.TransactionClient;

/** The row fields the state machine needs, read with the row locked. */
export interface LockedRun {
  id: string;
  sweepId: string | null;
  status: db.RunStatus;
  attempt: number;
  maxAttempts: number;
  workerId: string | null;
}

/** Locks the run row until the transaction ends; throws NOT_FOUND for an unknown id. */
export async function lockRun(tx: TransactionClient, runId: string): Promise<LockedRun> {
  const rows = await tx.$queryRaw<LockedRun[]>`
    SELECT id, sweep_id AS "sweepId", status, attempt, max_attempts AS "maxAttempts",
           worker_id AS "workerId"
    FROM run WHERE id = ${runId}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row) throw notFound("Run", runId, "Check the run id; the run may have been deleted.");
  return row;
}

/** Turns a transition's patch into Prisma update data; `now` is the API process's clock. */
export function patchToData(patch: RunPatch, now: Date): db.Prisma.RunUncheckedUpdateInput {
  const data: db.Prisma.RunUncheckedUpdateInput = { status: patch.status };
  if (patch.workerId !== undefined) data.workerId = patch.workerId;
  if (patch.attempt !== undefined) data.attempt = patch.attempt;
  if (patch.maxAttempts !== undefined) data.maxAttempts = patch.maxAttempts;
  if (patch.error !== undefined) data.error = patch.error;
  if (patch.heartbeatAt !== undefined) data.heartbeatAt = patch.heartbeatAt === "now" ? now : null;
  if (patch.finishedAt !== undefined) data.finishedAt = patch.finishedAt === "now" ? now : null;
  return data;
}

/**
 * Follow-up after a committed status change: subscribers hear of it, claimers wake when a run
 * went back to the queue or a sweep slot was freed, and the run's sweep is brought up to date.
 */
export async function afterRunChanged(
  prisma: PrismaClient,
  log: Logger,
  run: { id: string; sweepId: string | null; status: db.RunStatus },
): Promise<void> {
  await publish("RUN_UPDATED", { runId: run.id, sweepId: run.sweepId });
  if (run.status !== "running") await notifyClaimable(prisma, log);
  if (run.sweepId) await scheduleSweep(prisma, run.sweepId);
}

/**
 * Applies one lifecycle event to a run inside a transaction that holds the row lock, so that two
 * events on the same run never interleave. `extra` adds columns that go with the event (test
 * metrics on finish). Throws CONFLICT for an illegal transition or a stale attempt.
 */
export async function applyRunEvent(
  prisma: PrismaClient,
  log: Logger,
  runId: string,
  event: RunEvent,
  extra: db.Prisma.RunUncheckedUpdateInput = {},
): Promise<db.Run> {
  const run = await prisma.$transaction(async (tx) => {
    const locked = await lockRun(tx, runId);
    const patch = transition(toRunState(locked), event);
    return tx.run.update({
      where: { id: runId },
      data: { ...extra, ...patchToData(patch, new Date()) },
    });
  });

  log.info(
    { runId, event: event.type, status: run.status, attempt: run.attempt },
    "Run status changed",
  );
  await afterRunChanged(prisma, log, run);
  return run;
}
