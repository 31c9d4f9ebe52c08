"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery } from "urql";
import {
  formatDateTime,
  formatDuration,
  formatJson,
  formatNumber,
  formatPercent,
  formatRelative,
} from "@/lib/format";
import { ALIAS_HISTORY_QUERY, MODELS_QUERY, PROMOTE_MUTATION } from "@/lib/queries";
import type { AliasEvent, Json, Model, ModelVersion } from "@/lib/types";
import { useSession } from "../providers";
import { describeError, Empty, QueryState } from "../states";
import { DrawDigit } from "./draw-digit";

const PRODUCTION = "production";

/** Column titles and formats for the metrics a model version records; others show raw. */
const METRIC_LABELS: Record<string, { label: string; format: (value: number) => string }> = {
  testAccuracy: { label: "Test accuracy", format: (value) => formatPercent(value) },
  bestValAccuracy: { label: "Best val accuracy", format: (value) => formatPercent(value) },
  testLoss: { label: "Test loss", format: (value) => formatNumber(value) },
  durationSeconds: { label: "Duration", format: (value) => formatDuration(value) },
};

function formatMetric(name: string, value: Json | undefined): string {
  const known = METRIC_LABELS[name];
  return known && typeof value === "number" ? known.format(value) : formatJson(value);
}

export function ModelsView() {
  const [result, reexecute] = useQuery<{ models: Model[] }>({ query: MODELS_QUERY });
  const models = result.data?.models;

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">
            Register a version from a finished run's page, then promote it to production here.
          </p>
        </div>
      </div>
      <QueryState
        fetching={result.fetching}
        error={result.error}
        hasData={Boolean(models)}
        what="models"
        retry={() => reexecute({ requestPolicy: "network-only" })}
      >
        {models && models.length === 0 ? (
          <Empty>
            No model versions yet. Open a succeeded run from the <Link href="/">runs table</Link>{" "}
            and press “Register model version”.
          </Empty>
        ) : (
          models?.map((model) => (
            <ModelSection
              key={model.name}
              model={model}
              onChange={() => reexecute({ requestPolicy: "network-only" })}
            />
          ))
        )}
      </QueryState>
    </>
  );
}

function ModelSection(props: { model: Model; onChange(): void }) {
  const { model } = props;
  const production = model.aliases.find((alias) => alias.alias === PRODUCTION);

  return (
    <section style={{ marginBottom: "1.5rem" }} data-testid={`model-${model.name}`}>
      <h2>
        {model.name}{" "}
        <small className="muted">
          {production ? `production: v${production.version.version}` : "no production version"}
        </small>
      </h2>
      <div className="card" style={{ marginBottom: "1rem" }}>
        <VersionsTable model={model} onChange={props.onChange} />
      </div>
      <div className="grid-2">
        <section className="card">
          <h2>Try the production model</h2>
          {production ? (
            <DrawDigit modelName={model.name} alias={PRODUCTION} />
          ) : (
            <Empty>Promote a version to production to draw digits against it.</Empty>
          )}
        </section>
        <section className="card">
          <h2>Production alias history</h2>
          <AliasHistory modelName={model.name} alias={PRODUCTION} movedAt={production?.movedAt} />
        </section>
      </div>
    </section>
  );
}

function VersionsTable(props: { model: Model; onChange(): void }) {
  const { canEdit } = useSession();
  const dialog = useRef<HTMLDialogElement>(null);
  const [candidate, setCandidate] = useState<ModelVersion | null>(null);
  const [promoteState, promote] = useMutation(PROMOTE_MUTATION);
  const metricNames = [
    ...new Set(props.model.versions.flatMap((version) => Object.keys(version.metrics ?? {}))),
  ];
  const versions = [...props.model.versions].sort((a, b) => b.version - a.version);

  async function confirm() {
    if (!candidate) return;
    const response = await promote({ versionId: candidate.id, alias: PRODUCTION });
    if (!response.error) {
      dialog.current?.close();
      props.onChange();
    }
  }

  return (
    <>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases</th>
              <th>Source run</th>
              {metricNames.map((name) => (
                <th key={name} className="num hide-narrow">
                  {METRIC_LABELS[name]?.label ?? name}
                </th>
              ))}
              <th className="hide-narrow">Registered</th>
              {canEdit ? <th /> : null}
            </tr>
          </thead>
          <tbody>
            {versions.map((version) => (
              <tr key={version.id} data-version={version.version}>
                <td>v{version.version}</td>
                <td>
                  {version.aliases.map((alias) => (
                    <span
                      key={alias}
                      className={`badge ${alias === PRODUCTION ? "badge-succeeded" : ""}`}
                    >
                      {alias}
                    </span>
                  ))}
                </td>
                <td>
                  <Link href={`/runs/${version.run.id}`}>{version.run.name}</Link>
                </td>
                {metricNames.map((name) => (
                  <td key={name} className="num hide-narrow">
                    {formatMetric(name, version.metrics[name] as Json | undefined)}
                  </td>
                ))}
                <td className="hide-narrow">
                  {formatDateTime(version.createdAt)}
                  {version.createdBy ? ` by ${version.createdBy}` : ""}
                </td>
                {canEdit ? (
                  <td>
                    {version.aliases.includes(PRODUCTION) ? null : (
                      <button
                        type="button"
                        onClick={() => {
                          setCandidate(version);
                          dialog.current?.showModal();
                        }}
                      >
                        Promote to production
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <dialog ref={dialog} aria-labelledby="promote-title" onClose={() => setCandidate(null)}>
        <h2 id="promote-title">
          Promote {props.model.name} v{candidate?.version} to production?
        </h2>
        <p>
          Predictions against the production alias switch to this version at once. The move is kept
          in the alias history.
        </p>
        {promoteState.error ? (
          <p className="field-error">{describeError(promoteState.error)}</p>
        ) : null}
        <div className="actions">
          <button
            type="button"
            className="primary"
            onClick={() => void confirm()}
            disabled={promoteState.fetching}
          >
            Promote
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Keep the current version
          </button>
        </div>
      </dialog>
    </>
  );
}

function AliasHistory(props: { modelName: string; alias: string; movedAt: string | undefined }) {
  const [result, reexecute] = useQuery<{ aliasHistory: AliasEvent[] }>({
    query: ALIAS_HISTORY_QUERY,
    variables: { modelName: props.modelName, alias: props.alias },
  });

  // A promotion moves movedAt, and the history then needs the new event from the API.
  useEffect(() => {
    if (props.movedAt) reexecute({ requestPolicy: "network-only" });
  }, [props.movedAt, reexecute]);
  const events = result.data?.aliasHistory;

  return (
    <QueryState
      fetching={result.fetching}
      error={result.error}
      hasData={Boolean(events)}
      what="history"
    >
      {events && events.length === 0 ? (
        <Empty>The alias has never moved.</Empty>
      ) : (
        <ol className="history" data-testid="alias-history">
          {events?.map((event) => (
            <li key={`${event.movedAt}-${event.toVersion.id}`}>
              <strong>
                {event.fromVersion ? `v${event.fromVersion.version} → ` : ""}v
                {event.toVersion.version}
              </strong>{" "}
              by {event.movedBy ?? "unknown"}{" "}
              <span className="muted" title={formatDateTime(event.movedAt)}>
                {formatRelative(event.movedAt)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </QueryState>
  );
}
