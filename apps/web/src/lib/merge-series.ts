import type { LoggedMetricPoint, MetricPoint, MetricSeries } from "./types";

/**
 * Adds points from metricsLogged events to the fetched series: a point replaces the one at its
 * step, else it goes in step order, so applying the same point twice changes nothing. Points of
 * other runs or keys are skipped, and a (run, key) pair without a series yet gets a new one.
 * Returns the input array itself when no point applied, so React skips the re-render.
 */
export function mergeLoggedPoints(
  series: MetricSeries[],
  points: readonly LoggedMetricPoint[],
  wanted: { runIds: readonly string[]; keys: readonly string[] },
): MetricSeries[] {
  const result = [...series];
  let changed = false;

  for (const logged of points) {
    if (!wanted.runIds.includes(logged.runId) || !wanted.keys.includes(logged.key)) continue;

    const point: MetricPoint = {
      step: logged.step,
      epoch: logged.epoch,
      phase: logged.phase,
      value: logged.value,
      wallTime: Date.parse(logged.wallTime),
    };
    const index = result.findIndex(
      (entry) => entry.runId === logged.runId && entry.key === logged.key,
    );
    const current = result[index];
    if (!current) {
      result.push({
        runId: logged.runId,
        key: logged.key,
        phase: logged.phase,
        points: [point],
        downsampled: false,
      });
      changed = true;
      continue;
    }

    const merged = insertByStep(current.points, point);
    if (merged === current.points) continue;
    result[index] = {
      ...current,
      // A series that now spans both phases has no single phase, as metricSeries reports it.
      phase: current.phase === point.phase ? current.phase : null,
      points: merged,
    };
    changed = true;
  }

  return changed ? result : series;
}

/** Returns `points` itself when the point is already there with the same value. */
function insertByStep(points: MetricPoint[], point: MetricPoint): MetricPoint[] {
  const last = points[points.length - 1];
  if (!last || last.step < point.step) return [...points, point];

  const at = points.findIndex((existing) => existing.step >= point.step);
  const existing = points[at];
  if (existing?.step === point.step) {
    if (existing.value === point.value && existing.phase === point.phase) return points;
    return points.map((entry, index) => (index === at ? point : entry));
  }
  return [...points.slice(0, at), point, ...points.slice(at)];
}

/** Whether any series has grown well past what the chart asked for, so a refetch should downsample it again. */
export function exceedsPointBudget(series: readonly MetricSeries[], maxPoints: number): boolean {
  return series.some((entry) => entry.points.length > 2 * maxPoints);
}
