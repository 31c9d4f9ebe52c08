import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { createBatchLoader } from "./batch-loader";

export type RunCounts = Record<db.RunStatus, number> & { total: number };

function emptyCounts(): RunCounts {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, pruned: 0, total: 0 };
}

/** Per-request loaders for fields that a list would otherwise fetch one row at a time. */
export function createLoaders(prisma: PrismaClient) {
  return {
    sweep: createBatchLoader(async (ids: string[]) => {
      const rows = await prisma.sweep.findMany({ where: { id: { in: ids } } });
      return new Map(rows.map((row) => [row.id, row]));
    }),

    run: createBatchLoader(async (ids: string[]) => {
      const rows = await prisma.run.findMany({ where: { id: { in: ids } } });
      return new Map(rows.map((row) => [row.id, row]));
    }),

    worker: createBatchLoader(async (ids: string[]) => {
      const rows = await prisma.worker.findMany({ where: { id: { in: ids } } });
      return new Map(rows.map((row) => [row.id, row]));
    }),

    modelVersion: createBatchLoader(async (ids: string[]) => {
      const rows = await prisma.modelVersion.findMany({ where: { id: { in: ids } } });
      return new Map(rows.map((row) => [row.id, row]));
    }),

    checkpoints: createBatchLoader(async (runIds: string[]) => {
      const rows = await prisma.artifact.findMany({
        where: { runId: { in: runIds }, kind: "checkpoint" },
        orderBy: [{ step: "asc" }, { createdAt: "asc" }],
      });
      const byRun = new Map<string, db.Artifact[]>(runIds.map((id) => [id, []]));
      for (const row of rows) byRun.get(row.runId)?.push(row);
      return byRun;
    }),

    /** The latest value of each metric key, e.g. {"val_accuracy": 0.98}. */
    lastMetrics: createBatchLoader(async (runIds: string[]) => {
      const rows = await prisma.$queryRaw<{ run_id: string; key: string; value: number }[]>`
        SELECT DISTINCT ON (run_id, key) run_id::text, key, value
        FROM metric_point
        WHERE run_id = ANY(${runIds}::uuid[])
        ORDER BY run_id, key, step DESC`;
      const byRun = new Map<string, Record<string, number>>();
      for (const row of rows) {
        const metrics = byRun.get(row.run_id) ?? {};
        metrics[row.key] = row.value;
        byRun.set(row.run_id, metrics);
      }
      return byRun;
    }),

    runCounts: createBatchLoader(async (sweepIds: string[]) => {
      const groups = await prisma.run.groupBy({
        by: ["sweepId", "status"],
        where: { sweepId: { in: sweepIds } },
        _count: { _all: true },
      });
      const bySweep = new Map<string, RunCounts>(sweepIds.map((id) => [id, emptyCounts()]));
      for (const group of groups) {
        const counts = group.sweepId ? bySweep.get(group.sweepId) : undefined;
        if (!counts) continue;
        counts[group.status] += group._count._all;
        counts.total += group._count._all;
      }
      return bySweep;
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
