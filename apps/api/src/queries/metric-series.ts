import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";

export const DEFAULT_MAX_POINTS = 500;
export const MAX_MAX_POINTS = 10_000;

export interface SeriesPoint {
  step: number;
  epoch: number;
  phase: db.Phase;
  value: number;
  min: number | null;
  max: number | null;
  wallTime: Date;
}

export interface Series {
  runId: string;
  key: string;
  phase: db.Phase | null;
  points: SeriesPoint[];
  downsampled: boolean;
}

interface BucketRow {
  run_id: string;
  key: string;
  length: number;
  min: number;
  max: number;
  /** [step, value, epoch, wall time in epoch seconds, phase (0 train, 1 finetune)] of the bucket's last point. */
  last: number[];
}

/**
 * Loads every (run, key) line in one query. A line of at most `maxPoints` points comes back
 * unchanged; a longer one is cut into `maxPoints` equal step ranges (width_bucket), and each range
 * becomes one point: its last point's step and value, plus the range's min and max, so spikes and
 * the final value both survive. Without `phase` a line spans both phases, since steps count
 * across phases.
 */
// NOTE: every bucket comes back as its own row and GraphQL object, so 400 lines at maxPoints 500
// are 200,000 points (about 30 MB of JSON); that takes seconds, where per-line arrays would not.
export async function loadMetricSeries(
  prisma: PrismaClient,
  options: { runIds: string[]; keys: string[]; phase: db.Phase | null; maxPoints: number },
): Promise<Series[]> {
  const { runIds, keys, phase, maxPoints } = options;
  if (runIds.length === 0 || keys.length === 0) return [];

  // max(ARRAY[...]) picks the whole last row of a bucket in the same pass as min and max, where
  // array_agg(... ORDER BY step DESC)[1] or a second DISTINCT ON query would sort each bucket.
  const rows = await prisma.$queryRaw<BucketRow[]>`
    WITH points AS (
      SELECT run_id, key, step, epoch, value, wall_time, phase
      FROM metric_point
      WHERE run_id = ANY(${runIds}::uuid[]) AND key = ANY(${keys}::text[])
        AND (${phase}::"Phase" IS NULL OR phase = ${phase}::"Phase")
    ),
    lines AS (
      SELECT run_id, key, count(*)::int AS length, min(step) AS low, max(step) AS high
      FROM points GROUP BY run_id, key
    )
    SELECT p.run_id::text AS run_id, p.key, l.length,
      min(p.value) AS min, max(p.value) AS max,
      max(ARRAY[p.step::float8, p.value, p.epoch::float8, extract(epoch FROM p.wall_time)::float8,
        CASE p.phase WHEN 'train' THEN 0 ELSE 1 END]) AS last
    FROM points p JOIN lines l USING (run_id, key)
    GROUP BY p.run_id, p.key, l.length,
      CASE WHEN l.length <= ${maxPoints} THEN p.step
        ELSE width_bucket(p.step, l.low, l.high + 1, ${maxPoints}) END,
      CASE WHEN l.length <= ${maxPoints} THEN p.phase END
    ORDER BY p.run_id, p.key, 6`;

  const byLine = new Map<string, Series>();
  for (const runId of runIds) {
    for (const key of keys) {
      byLine.set(`${runId}\u0000${key}`, { runId, key, phase, points: [], downsampled: false });
    }
  }
  for (const row of rows) {
    const series = byLine.get(`${row.run_id}\u0000${row.key}`);
    if (!series) continue;
    const [step = 0, value = 0, epoch = 0, seconds = 0, phaseIndex = 0] = row.last;
    const downsampled = row.length > maxPoints;
    series.downsampled = downsampled;
    series.points.push({
      step,
      epoch,
      phase: phaseIndex === 0 ? "train" : "finetune",
      value,
      min: downsampled ? row.min : null,
      max: downsampled ? row.max : null,
      wallTime: new Date(Math.round(seconds * 1_000)),
    });
  }
  return [...byLine.values()];
}
