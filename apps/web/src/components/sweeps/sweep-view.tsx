"use client";

import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import { formatDateTime, formatJson, formatPercent } from "@/lib/format";
import { hyperparameterValue, numericAxisType } from "@/lib/hyperparameters";
import {
  CANCEL_SWEEP_MUTATION,
  RUN_UPDATED_SUBSCRIPTION,
  SWEEP_QUERY,
  SWEEP_UPDATED_SUBSCRIPTION,
} from "@/lib/queries";
import type { RunRow, SweepDetail, SweepRow } from "@/lib/types";
import { Chart, PALETTE } from "../chart";
import { useSession } from "../providers";
import { describeError, Empty, ErrorBox, Loading, StatusBadge } from "../states";
import { RunCountsBar } from "./run-counts-bar";
import { sweepMetricLabel, sweepMetricValue } from "./sweep-metric";

/** Runs listed on the sweep page; bigger sweeps link to the runs table filtered by sweep. */
const RUNS_SHOWN = 200;

export function SweepView(props: { id: string }) {
  const { canEdit } = useSession();
  const [result, reexecute] = useQuery<{ sweep: SweepDetail | null }>({
    query: SWEEP_QUERY,
    variables: { id: props.id, first: RUNS_SHOWN },
  });
  const [liveSweep, setLiveSweep] = useState<SweepRow | null>(null);
  const [liveRuns, setLiveRuns] = useState<Map<string, RunRow>>(new Map());
  const [unknownRuns, setUnknownRuns] = useState(0);
  const [cancelState, cancelSweep] = useMutation(CANCEL_SWEEP_MUTATION);

  useSubscription<{ sweepUpdated: SweepRow }>(
    { query: SWEEP_UPDATED_SUBSCRIPTION, variables: { id: props.id } },
    (_previous, event) => {
      setLiveSweep(event.sweepUpdated);
      return event;
    },
  );
  const loadedIds = new Set(result.data?.sweep?.runs.edges.map((edge) => edge.node.id));
  useSubscription<{ runUpdated: RunRow }>(
    { query: RUN_UPDATED_SUBSCRIPTION, variables: { sweepId: props.id } },
    (_previous, event) => {
      const run = event.runUpdated;
      if (!loadedIds.has(run.id)) setUnknownRuns((count) => count + 1);
      setLiveRuns((current) => new Map(current).set(run.id, run));
      return event;
    },
  );

  useEffect(() => {
    if (unknownRuns === 0) return;
    const timer = setTimeout(() => reexecute({ requestPolicy: "network-only" }), 300);
    return () => clearTimeout(timer);
  }, [unknownRuns, reexecute]);

  const loaded = result.data?.sweep;
  const runs = useMemo(
    () => (loaded?.runs.edges ?? []).map(({ node }) => liveRuns.get(node.id) ?? node),
    [loaded, liveRuns],
  );

  if (result.error && !result.data) {
    return (
      <ErrorBox error={result.error} retry={() => reexecute({ requestPolicy: "network-only" })} />
    );
  }
  if (!result.data) return <Loading what="the sweep" />;
  if (!loaded)
    return (
      <Empty>
        No sweep has the id {props.id}. See <Link href="/sweeps">all sweeps</Link>.
      </Empty>
    );

  const sweep = { ...loaded, ...liveSweep };
  const searched = Object.keys(sweep.searchSpace);
  const finished = runs.filter((run) => sweepMetricValue(run, sweep.metric) !== null);
  const metricLabel = sweepMetricLabel(sweep.metric);
  const best = sweep.bestRun;

  return (
    <>
      <div className="page-header">
        <div>
          <p className="muted">
            {sweep.method} search · {sweep.direction} {sweep.metric} · created{" "}
            {formatDateTime(sweep.createdAt)}
          </p>
          <h1 className="actions">
            {sweep.name} <StatusBadge status={sweep.status} />
          </h1>
        </div>
        <div className="actions">
          {runs.length >= 2 ? (
            <Link className="button" href={`/compare?runs=${runs.map((run) => run.id).join(",")}`}>
              Compare all runs
            </Link>
          ) : null}
          <Link className="button" href={`/?sweep=${sweep.id}`}>
            Open in runs table
          </Link>
          {canEdit && sweep.status === "running" ? (
            <button
              type="button"
              className="danger"
              disabled={cancelState.fetching}
              onClick={() => {
                if (window.confirm(`Cancel ${sweep.name} and its queued and running runs?`))
                  void cancelSweep({ id: sweep.id });
              }}
            >
              Cancel sweep
            </button>
          ) : null}
        </div>
      </div>
      {cancelState.error ? <p className="field-error">{describeError(cancelState.error)}</p> : null}

      <div className="grid-2">
        <section className="card">
          <h2>Progress</h2>
          <RunCountsBar counts={sweep.runCounts} />
          <p className="muted">
            Budget {sweep.runBudget} runs, {sweep.concurrency} at a time.
          </p>
        </section>
        <section className="card" data-testid="best-run">
          <h2>Best run so far</h2>
          {best ? (
            <p>
              <Link href={`/runs/${best.id}`}>{best.name}</Link>:{" "}
              <strong>{formatPercent(sweepMetricValue(best, sweep.metric))}</strong> {metricLabel}
            </p>
          ) : (
            <p className="muted">None yet; the first finished epoch sets it.</p>
          )}
        </section>
      </div>

      <section className="card" style={{ marginBottom: "1rem" }}>
        <h2>Each searched hyperparameter against {metricLabel}</h2>
        {finished.length === 0 ? (
          <Empty>Points appear as runs report their {metricLabel}.</Empty>
        ) : (
          <div className="grid">
            {searched.map((name, index) => (
              <Chart
                key={name}
                label={`${name} against ${metricLabel}`}
                height={240}
                option={scatterOption(
                  name,
                  finished,
                  sweep.metric,
                  metricLabel,
                  PALETTE[index % PALETTE.length],
                )}
              />
            ))}
          </div>
        )}
      </section>

      <section className="card">
        <h2>Runs ({sweep.runCounts.total})</h2>
        {runs.length === 0 ? (
          <Empty>No runs yet.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Status</th>
                  {searched.map((name) => (
                    <th key={name} className="num">
                      {name}
                    </th>
                  ))}
                  <th className="num">{metricLabel}</th>
                  <th className="num hide-narrow">Step</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => (
                  <tr key={run.id} data-run-id={run.id}>
                    <td>
                      <Link href={`/runs/${run.id}`}>{run.name}</Link>
                    </td>
                    <td>
                      <StatusBadge status={run.status} />
                    </td>
                    {searched.map((name) => (
                      <td key={name} className="num mono">
                        {formatJson(hyperparameterValue(run, name))}
                      </td>
                    ))}
                    <td className="num">{formatPercent(sweepMetricValue(run, sweep.metric))}</td>
                    <td className="num hide-narrow">
                      {run.step}/{run.totalSteps}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function scatterOption(
  name: string,
  runs: RunRow[],
  metric: string,
  metricLabel: string,
  color: string | undefined,
) {
  const values = runs.map((run) => hyperparameterValue(run, name));
  const numeric = values.every((value) => typeof value === "number");
  const categories = numeric ? [] : [...new Set(values.map((value) => String(value)))];
  return {
    title: { text: name, textStyle: { fontSize: 13 } },
    grid: { left: 56, right: 16, top: 36, bottom: 32 },
    tooltip: {
      trigger: "item" as const,
      formatter: (params: unknown) => (params as { data?: { name?: string } }).data?.name ?? "",
    },
    xAxis: numeric
      ? {
          type: numericAxisType(values),
          scale: true,
          name,
          nameLocation: "middle" as const,
          nameGap: 22,
        }
      : { type: "category" as const, data: categories },
    yAxis: { type: "value" as const, scale: true, name: metricLabel },
    series: [
      {
        type: "scatter" as const,
        symbolSize: 10,
        itemStyle: { color },
        data: runs.map((run, index) => ({
          name: run.name,
          value: [
            numeric ? (values[index] as number) : String(values[index]),
            sweepMetricValue(run, metric) ?? 0,
          ],
        })),
      },
    ],
  };
}
