"use client";

import Link from "next/link";
import { useMemo } from "react";
import { useQuery } from "urql";
import { CURVE_KEYS, type CurveLine, curveOption, pointsFor, smooth } from "@/lib/curves";
import { formatDuration, formatJson, formatPercent, shortId } from "@/lib/format";
import { KEY_HYPERPARAMETERS } from "@/lib/hyperparameters";
import { useLiveRuns, useLiveSeries } from "@/lib/live";
import { COMPARE_QUERY } from "@/lib/queries";
import type { Json, MetricSeries, RunRow } from "@/lib/types";
import { parseList, useUrlState } from "@/lib/url-state";
import { Chart, PALETTE } from "../chart";
import { Empty, ErrorBox, Loading, StatusBadge } from "../states";
import { METRIC_CHOICES, type MetricField, ParallelChart } from "./parallel-chart";

interface Comparison {
  compareRuns: { runs: RunRow[]; differing: { name: string; values: Json[] }[] };
}

type XAxisMode = "step" | "time";

export function CompareView() {
  const { params, update } = useUrlState();
  const runIds = useMemo(() => parseList(params.get("runs")), [params]);
  const smoothing = Math.min(0.99, Math.max(0, Number(params.get("smooth") ?? 0) || 0));
  const xMode: XAxisMode = params.get("x") === "time" ? "time" : "step";
  const metric = (METRIC_CHOICES.find((choice) => choice.field === params.get("metric"))?.field ??
    "testAccuracy") as MetricField;

  const [result, reexecute] = useQuery<Comparison>({
    query: COMPARE_QUERY,
    variables: { ids: runIds },
    pause: runIds.length === 0,
  });
  const live = useLiveRuns(runIds);
  const series = useLiveSeries(runIds, CURVE_KEYS);

  if (runIds.length === 0) {
    return (
      <>
        <h1>Compare</h1>
        <Empty>
          Pick two or more runs on the <Link href="/">runs page</Link> and press Compare; the
          selection lands in this page's link, so it can be shared.
        </Empty>
      </>
    );
  }
  if (result.error && !result.data) {
    return (
      <ErrorBox error={result.error} retry={() => reexecute({ requestPolicy: "network-only" })} />
    );
  }
  if (!result.data) return <Loading what="the comparison" />;

  const runs = result.data.compareRuns.runs.map((run) => ({ ...run, ...live.get(run.id) }));
  const differing = result.data.compareRuns.differing;
  const axisNames =
    differing.length > 0 ? differing.map((entry) => entry.name) : [...KEY_HYPERPARAMETERS];
  const colorOf = (runId: string) =>
    PALETTE[runs.findIndex((run) => run.id === runId) % PALETTE.length];
  const best = bestRun(runs, metric);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Compare {runs.length} runs</h1>
          <p className="muted">Live: curves grow as the runs train.</p>
        </div>
      </div>

      <div className="compare-controls card">
        <label>
          Smoothing (EMA) <strong>{smoothing.toFixed(2)}</strong>
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            aria-label="Smoothing"
            onChange={(event) =>
              update({ smooth: event.target.value === "0" ? null : event.target.value })
            }
          />
        </label>
        <fieldset className="actions" style={{ border: "none", padding: 0, margin: 0 }}>
          <legend className="muted">x-axis</legend>
          {(["step", "time"] as const).map((mode) => (
            <label key={mode}>
              <input
                type="radio"
                name="x-axis"
                checked={xMode === mode}
                onChange={() => update({ x: mode === "step" ? null : mode })}
              />{" "}
              {mode === "step" ? "epoch (step)" : "wall time"}
            </label>
          ))}
        </fieldset>
      </div>

      {series.error && !series.data ? (
        <ErrorBox error={series.error} retry={series.refetch} />
      ) : !series.data ? (
        <Loading what="curves" />
      ) : (
        <div className="grid">
          {(
            [
              ["Validation accuracy", "val_accuracy", "accuracy", true],
              ["Validation loss", "val_loss", "loss", false],
            ] as const
          ).map(([title, validationKey, trainKey, percent]) => (
            <section className="card" key={title}>
              <h2>{title}</h2>
              <Chart
                points={
                  series.data?.metricSeries
                    .filter((entry) => entry.key === validationKey)
                    .flatMap((entry) => entry.points).length
                }
                label={`${title} of the compared runs`}
                testId={`compare-${validationKey}`}
                option={curveOption({
                  xName: xMode === "step" ? "step" : "minutes since the run's first epoch",
                  yName: title.toLowerCase(),
                  percent,
                  lines: runs.flatMap((run) => [
                    overlayLine(
                      series.data?.metricSeries ?? [],
                      run,
                      validationKey,
                      xMode,
                      smoothing,
                      colorOf(run.id),
                      false,
                    ),
                    overlayLine(
                      series.data?.metricSeries ?? [],
                      run,
                      trainKey,
                      xMode,
                      smoothing,
                      colorOf(run.id),
                      true,
                    ),
                  ]),
                })}
              />
              <p className="muted">Solid: validation. Dashed: train.</p>
            </section>
          ))}
        </div>
      )}

      <section className="card" style={{ marginBottom: "1rem" }}>
        <div className="page-header" style={{ marginBottom: 0 }}>
          <h2>Hyperparameters against the metric</h2>
          <label className="actions">
            Metric
            <select value={metric} onChange={(event) => update({ metric: event.target.value })}>
              {METRIC_CHOICES.map((choice) => (
                <option key={choice.field} value={choice.field}>
                  {choice.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ParallelChart runs={runs} names={axisNames} metric={metric} />
      </section>

      <section className="card">
        <h2>Runs and the settings that differ</h2>
        <div className="table-wrap">
          <table data-testid="compare-table">
            <thead>
              <tr>
                <th />
                {runs.map((run) => (
                  <th key={run.id}>
                    <span style={{ color: colorOf(run.id) }}>■</span>{" "}
                    <Link href={`/runs/${run.id}`}>{run.name}</Link>{" "}
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`Remove ${run.name} from the comparison`}
                      onClick={() =>
                        update({ runs: runIds.filter((id) => id !== run.id).join(",") || null })
                      }
                    >
                      ×
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th>Status</th>
                {runs.map((run) => (
                  <td key={run.id}>
                    <StatusBadge status={run.status} />
                  </td>
                ))}
              </tr>
              {METRIC_CHOICES.map((choice) => (
                <tr key={choice.field}>
                  <th>{choice.label}</th>
                  {runs.map((run) => (
                    <td key={run.id} className="num">
                      {run.id === best?.id && choice.field === metric ? "★ " : ""}
                      {formatMetric(choice.field, run[choice.field])}
                    </td>
                  ))}
                </tr>
              ))}
              {differing.length === 0 ? (
                <tr>
                  <td colSpan={runs.length + 1} className="muted">
                    These runs share every setting.
                  </td>
                </tr>
              ) : (
                differing.map((entry) => (
                  <tr key={entry.name}>
                    <th>{entry.name}</th>
                    {entry.values.map((value, index) => (
                      <td key={runs[index]?.id ?? index} className="mono">
                        {formatJson(value)}
                      </td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

function overlayLine(
  series: MetricSeries[],
  run: RunRow,
  key: string,
  xMode: XAxisMode,
  smoothing: number,
  color: string | undefined,
  dashed: boolean,
): CurveLine {
  const points = pointsFor(series, run.id, key);
  const values = smooth(
    points.map((point) => point.value),
    smoothing,
  );
  const start = points[0]?.wallTime ?? 0;
  return {
    // Train and validation lines share the run's name, so one legend entry toggles both.
    name: `${run.name} (${shortId(run.id)})`,
    color,
    dashed,
    points: points.map((point, index) => [
      xMode === "step" ? point.step : (point.wallTime - start) / 60_000,
      values[index] ?? point.value,
    ]),
  };
}

function formatMetric(field: MetricField, value: number | null): string {
  if (field === "durationSeconds") return formatDuration(value);
  if (field === "testLoss") return formatJson(value);
  return formatPercent(value);
}

function bestRun(runs: RunRow[], metric: MetricField): RunRow | undefined {
  const lowerIsBetter = metric === "testLoss" || metric === "durationSeconds";
  return runs
    .filter((run) => run[metric] !== null)
    .sort((a, b) => {
      const difference = (a[metric] ?? 0) - (b[metric] ?? 0);
      return lowerIsBetter ? difference : -difference;
    })[0];
}
