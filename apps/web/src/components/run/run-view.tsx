"use client";

import Link from "next/link";
import { useEffect, useMemo } from "react";
import { useQuery } from "urql";
import { CURVE_KEYS } from "@/lib/curves";
import {
  formatBytes,
  formatDateTime,
  formatDuration,
  formatJson,
  formatPercent,
} from "@/lib/format";
import { useLiveRuns, useLiveSeries } from "@/lib/live";
import { RUN_QUERY } from "@/lib/queries";
import type { RunDetail } from "@/lib/types";
import { Empty, ErrorBox, Loading, StatusBadge } from "../states";
import { ConfusionMatrix } from "./confusion-matrix";
import { MisclassifiedGallery } from "./misclassified-gallery";
import { RunActions } from "./run-actions";
import { RunCurves } from "./run-curves";

export function RunView(props: { id: string }) {
  const runIds = useMemo(() => [props.id], [props.id]);
  const [result, reexecute] = useQuery<{ run: RunDetail | null }>({
    query: RUN_QUERY,
    variables: { id: props.id },
  });
  const live = useLiveRuns(runIds);
  const series = useLiveSeries(runIds, CURVE_KEYS);

  // runUpdated carries the row fields only, so a status change refetches the details
  // (confusion matrix, checkpoints, error) that arrive with it.
  const liveRun = live.get(props.id);
  const loaded = result.data?.run;
  useEffect(() => {
    if (!liveRun) return;
    const timer = setTimeout(() => reexecute({ requestPolicy: "network-only" }), 300);
    return () => clearTimeout(timer);
  }, [liveRun, reexecute]);

  if (result.error && !result.data) {
    return (
      <ErrorBox error={result.error} retry={() => reexecute({ requestPolicy: "network-only" })} />
    );
  }
  if (!result.data) return <Loading what="the run" />;
  if (!loaded)
    return (
      <Empty>
        No run has the id {props.id}. It may have been deleted; go back to{" "}
        <Link href="/">all runs</Link>.
      </Empty>
    );

  const run: RunDetail = { ...loaded, ...liveRun };
  const progress = run.totalSteps > 0 ? Math.round((run.step / run.totalSteps) * 100) : 0;

  return (
    <>
      <div className="page-header">
        <div>
          <p className="muted">
            {run.sweep ? (
              <>
                Sweep <Link href={`/sweeps/${run.sweep.id}`}>{run.sweep.name}</Link> ·{" "}
              </>
            ) : null}
            created {formatDateTime(run.createdAt)}
          </p>
          <h1 className="actions">
            {run.name} <StatusBadge status={run.status} />
          </h1>
        </div>
        <RunActions run={run} />
      </div>

      <dl className="stats">
        <div className="stat">
          <dt>Progress</dt>
          <dd data-testid="run-progress">
            step {run.step} / {run.totalSteps}{" "}
            {run.phase ? <small className="muted">({run.phase})</small> : null}
          </dd>
          <div className="progress">
            <span style={{ width: `${progress}%` }} />
          </div>
        </div>
        <div className="stat">
          <dt>Best val accuracy</dt>
          <dd>{formatPercent(run.bestValAccuracy)}</dd>
        </div>
        <div className="stat">
          <dt>Test accuracy</dt>
          <dd>{formatPercent(run.testAccuracy)}</dd>
        </div>
        <div className="stat">
          <dt>Test loss</dt>
          <dd>{formatJson(run.testLoss)}</dd>
        </div>
        <div className="stat">
          <dt>Duration</dt>
          <dd>{formatDuration(run.durationSeconds)}</dd>
        </div>
        <div className="stat">
          <dt>Attempt</dt>
          <dd>
            {run.attempt} of {run.maxAttempts}
          </dd>
        </div>
      </dl>

      {run.error ? (
        <section className="card" style={{ marginBottom: "1rem" }}>
          <h2>Error</h2>
          <pre className="error-text" data-testid="run-error">
            {run.error}
          </pre>
        </section>
      ) : null}

      {series.error && !series.data ? (
        <ErrorBox error={series.error} retry={series.refetch} />
      ) : !series.data ? (
        <Loading what="curves" />
      ) : series.data.metricSeries.every((entry) => entry.points.length === 0) ? (
        <Empty>No metrics yet. Curves appear here after the first epoch, without a reload.</Empty>
      ) : (
        <RunCurves runId={run.id} series={series.data.metricSeries} />
      )}

      <div className="grid">
        <section className="card">
          <h2>Hyperparameters</h2>
          <dl className="pairs">
            {Object.entries(run.config).map(([name, value]) => (
              <div key={name} style={{ display: "contents" }}>
                <dt>{name in run.hyperparameters ? <strong>{name}</strong> : name}</dt>
                <dd className="mono">{formatJson(value)}</dd>
              </div>
            ))}
          </dl>
          {Object.keys(run.hyperparameters).length > 0 ? (
            <p className="muted">Bold: searched by the sweep.</p>
          ) : null}
        </section>
        <section className="card">
          <h2>Environment</h2>
          <dl className="pairs">
            <dt>Backend</dt>
            <dd>{run.backend ?? "–"}</dd>
            <dt>Seed</dt>
            <dd>{run.seed}</dd>
            <dt>Dataset</dt>
            <dd>{run.dataset}</dd>
            <dt>Architecture</dt>
            <dd>{run.architecture}</dd>
            <dt>Worker</dt>
            <dd>{run.worker ? `${run.worker.name} on ${run.worker.host}` : "–"}</dd>
            <dt>Started</dt>
            <dd>{formatDateTime(run.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatDateTime(run.finishedAt)}</dd>
            <dt>Last heartbeat</dt>
            <dd>{formatDateTime(run.heartbeatAt)}</dd>
            {Object.entries(run.versions ?? {}).map(([name, version]) => (
              <div key={name} style={{ display: "contents" }}>
                <dt>{name}</dt>
                <dd className="mono">{formatJson(version)}</dd>
              </div>
            ))}
          </dl>
        </section>
      </div>

      <div className="grid">
        <section className="card">
          <h2>Confusion matrix (test set)</h2>
          {run.confusionMatrix ? (
            <ConfusionMatrix matrix={run.confusionMatrix} />
          ) : (
            <Empty>The confusion matrix appears when the run finishes its test evaluation.</Empty>
          )}
        </section>
        <section className="card">
          <h2>
            Misclassified test digits {run.misclassified ? `(${run.misclassified.length})` : null}
          </h2>
          {run.misclassified && run.misclassified.length > 0 ? (
            <MisclassifiedGallery items={run.misclassified} dataset={run.dataset} />
          ) : (
            <Empty>
              {run.misclassified
                ? "No test digit was misclassified."
                : "Shown when the run finishes."}
            </Empty>
          )}
        </section>
      </div>

      <section className="card">
        <h2>Checkpoints</h2>
        {run.checkpoints.length === 0 ? (
          <Empty>No checkpoints yet; the worker saves one after each epoch.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Kind</th>
                  <th>Phase</th>
                  <th className="num">Epoch</th>
                  <th className="num">Step</th>
                  <th className="num">Size</th>
                  <th className="hide-narrow">SHA-256</th>
                  <th>Saved</th>
                </tr>
              </thead>
              <tbody>
                {run.checkpoints.map((artifact) => (
                  <tr key={artifact.id}>
                    <td>
                      <a href={artifactHref(artifact.url)}>{artifact.kind}</a>
                    </td>
                    <td>{artifact.phase ?? "–"}</td>
                    <td className="num">{artifact.epoch ?? "–"}</td>
                    <td className="num">{artifact.step ?? "–"}</td>
                    <td className="num">{formatBytes(artifact.sizeBytes)}</td>
                    <td className="mono hide-narrow">{artifact.sha256.slice(0, 12)}</td>
                    <td>{formatDateTime(artifact.createdAt)}</td>
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

/** Artifact URLs point at the API; the dashboard streams them through its own route with the cookie. */
function artifactHref(url: string): string {
  const path = new URL(url, "http://api.invalid").pathname.replace(/^\/+/, "");
  return `/api/files/${path}`;
}
