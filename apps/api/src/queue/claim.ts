import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { type LockedRun, patchToData } from "../runs/commands";
import { toRunState, transition } from "../runs/state";

/** Sweeps skipped in one claim because their concurrency was used up meanwhile; past it, give up. */
const MAX_SKIPPED_SWEEPS = 8;

export interface ClaimResult {
  run: db.Run;
  /** The newest checkpoint of an earlier attempt, to resume from. */
  resumeFrom: db.Artifact | null;
}

/**
 * Takes the oldest claimable run for `workerId`, or returns null when there is none.
 *
 * The run table is the queue: `FOR UPDATE SKIP LOCKED` picks a queued row that no concurrent
 * claim holds, and the status change to running commits in the same transaction, so two workers
 * never get the same run. A sweep's `concurrency` is checked again under a per-sweep advisory
 * lock, because two claims in the same sweep could each count the other's run as still queued.
 * Runs are handed out oldest first, so a requeued run (created earlier) resumes before new ones.
 */
export async function claimNextRun(
  prisma: PrismaClient,
  workerId: string,
): Promise<ClaimResult | null> {
  const skippedSweeps: string[] = [];

  while (skippedSweeps.length <= MAX_SKIPPED_SWEEPS) {
    const outcome = await prisma.$transaction(async (tx) => {
      const candidates = await tx.$queryRaw<(LockedRun & { startedAt: Date | null })[]>`
        SELECT r.id, r.sweep_id AS "sweepId", r.status, r.attempt,
               r.max_attempts AS "maxAttempts", r.worker_id AS "workerId",
               r.started_at AS "startedAt"
        FROM run r LEFT JOIN sweep s ON s.id = r.sweep_id
        WHERE r.status = 'queued'
          AND (r.sweep_id IS NULL OR (
            s.status = 'running'
            AND NOT (r.sweep_id = ANY(${skippedSweeps}::uuid[]))
            AND (SELECT count(*) FROM run x WHERE x.sweep_id = r.sweep_id AND x.status = 'running')
                < s.concurrency))
        ORDER BY r.created_at, r.sweep_index NULLS LAST, r.id
        LIMIT 1
        FOR UPDATE OF r SKIP LOCKED`;
      const candidate = candidates[0];
      if (!candidate) return { kind: "empty" as const };

      if (candidate.sweepId) {
        const sweepId = candidate.sweepId;
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${sweepId}, 0))`;
        const counts = await tx.$queryRaw<{ running: number; concurrency: number }[]>`
          SELECT (SELECT count(*)::int FROM run WHERE sweep_id = ${sweepId}::uuid AND status = 'running') AS running,
                 concurrency
          FROM sweep WHERE id = ${sweepId}::uuid`;
        const count = counts[0];
        if (!count || count.running >= count.concurrency) return { kind: "full" as const, sweepId };
      }

      const patch = transition(toRunState(candidate), { type: "claim", workerId });
      const now = new Date();
      const worker = await tx.worker.update({
        where: { id: workerId },
        data: { lastHeartbeatAt: now },
      });
      const run = await tx.run.update({
        where: { id: candidate.id },
        data: {
          ...patchToData(patch, now),
          // A resumed run keeps its first start time, so its duration covers every attempt.
          startedAt: candidate.startedAt ?? now,
          backend: worker.backend,
          versions: (worker.versions ?? undefined) as db.Prisma.InputJsonValue | undefined,
        },
      });
      const resumeFrom = await tx.artifact.findFirst({
        where: { runId: run.id, kind: "checkpoint" },
        orderBy: { step: "desc" },
      });
      return { kind: "claimed" as const, claim: { run, resumeFrom } };
    });

    if (outcome.kind === "claimed") return outcome.claim;
    if (outcome.kind === "empty") return null;
    skippedSweeps.push(outcome.sweepId);
  }
  return null;
}
