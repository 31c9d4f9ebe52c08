"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useMemo, useState } from "react";
import { type CombinedError, useMutation, useQuery } from "urql";
import { formatJson } from "@/lib/format";
import { type HyperparameterSchema, parseHyperparameterSchema } from "@/lib/hyperparameters";
import { LAUNCH_FORM_QUERY, LAUNCH_SWEEP_MUTATION } from "@/lib/queries";
import type { FieldError, Json, JsonObject } from "@/lib/types";
import { useSession } from "../providers";
import { describeError, Empty, QueryState } from "../states";
import {
  buildSearchSpace,
  gridSize,
  parseValues,
  type SpaceRow,
  validateRows,
} from "./search-space";
import { SWEEP_METRICS } from "./sweep-metric";

const DEFAULT_PRESET = "seed-recipe";

interface LaunchFormData {
  presets: Record<string, JsonObject>;
  hyperparameterSchema: unknown;
}

/** Field errors from a BAD_USER_INPUT response, keyed by field path without a leading "spec.". */
function fieldErrors(error: CombinedError | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const graphQLError of error?.graphQLErrors ?? []) {
    const fields = graphQLError.extensions?.fields;
    if (!Array.isArray(fields)) continue;
    for (const entry of fields as FieldError[]) {
      errors[entry.field.replace(/^spec\./, "")] = entry.message;
    }
  }
  return errors;
}

function errorFor(errors: Record<string, string>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const exact = errors[key];
    if (exact) return exact;
    const nested = Object.entries(errors).find(([field]) => field.startsWith(`${key}.`));
    if (nested) return nested[1];
  }
  return undefined;
}

export function LaunchForm() {
  const { canEdit } = useSession();
  const [result] = useQuery<LaunchFormData>({ query: LAUNCH_FORM_QUERY });

  if (!canEdit) {
    return (
      <Empty>Launching a sweep needs an editor token; this session signed in as a viewer.</Empty>
    );
  }
  return (
    <QueryState
      fetching={result.fetching}
      error={result.error}
      hasData={Boolean(result.data)}
      what="presets"
    >
      {result.data ? (
        <LaunchFormFields
          presets={result.data.presets}
          schema={parseHyperparameterSchema(result.data.hyperparameterSchema)}
        />
      ) : null}
    </QueryState>
  );
}

function LaunchFormFields(props: {
  presets: Record<string, JsonObject>;
  schema: HyperparameterSchema;
}) {
  const router = useRouter();
  const presetNames = Object.keys(props.presets);
  const [preset, setPreset] = useState(
    presetNames.includes(DEFAULT_PRESET) ? DEFAULT_PRESET : (presetNames[0] ?? ""),
  );
  const [name, setName] = useState(
    `sweep-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "")}`,
  );
  const [method, setMethod] = useState<"grid" | "random">("grid");
  const [metric, setMetric] = useState<string>("val_accuracy");
  const [runBudget, setRunBudget] = useState("4");
  const [concurrency, setConcurrency] = useState("2");
  const [overrides, setOverrides] = useState<Record<string, string>>({});
  const [rows, setRows] = useState<SpaceRow[]>([
    {
      id: 1,
      name: "learningRate",
      kind: "values",
      valuesText: "0.001, 0.003",
      min: "",
      max: "",
      log: true,
    },
  ]);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [launch, launchSweep] = useMutation<{ launchSweep: { id: string } }>(LAUNCH_SWEEP_MUTATION);

  const presetConfig = props.presets[preset] ?? {};
  const configFields = useMemo(
    () => [...new Set([...Object.keys(props.schema), ...Object.keys(presetConfig)])],
    [props.schema, presetConfig],
  );
  const errors = { ...fieldErrors(launch.error), ...localErrors };
  const direction = SWEEP_METRICS.find((entry) => entry.value === metric)?.direction ?? "maximize";
  const grid = gridSize(rows, props.schema);

  function updateRow(id: number, change: Partial<SpaceRow>) {
    setRows((current) => current.map((row) => (row.id === id ? { ...row, ...change } : row)));
  }

  function baseConfig(): JsonObject {
    const config: JsonObject = {};
    for (const [field, text] of Object.entries(overrides)) {
      const parsed = parseValues(text, props.schema[field]?.type)[0];
      if (parsed !== undefined) config[field] = parsed;
    }
    return config;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problems = validateRows(rows, props.schema, method);
    const budget = Number(runBudget);
    const parallel = Number(concurrency);
    if (!Number.isInteger(budget) || budget < 1)
      problems.runBudget = "Enter a whole number of runs, 1 or more.";
    if (!Number.isInteger(parallel) || parallel < 1)
      problems.concurrency = "Enter a whole number, 1 or more.";
    if (!name.trim()) problems.name = "Give the sweep a name.";
    setLocalErrors(problems);
    if (Object.keys(problems).length > 0) return;

    const response = await launchSweep({
      spec: {
        name: name.trim(),
        method,
        preset,
        baseConfig: baseConfig(),
        searchSpace: buildSearchSpace(rows, props.schema),
        metric,
        direction,
        runBudget: budget,
        concurrency: parallel,
      },
    });
    const sweep = response.data?.launchSweep;
    if (sweep) router.push(`/sweeps/${sweep.id}`);
  }

  const knownKeys = new Set([
    "name",
    "method",
    "metric",
    "direction",
    "runBudget",
    "concurrency",
    "preset",
    ...configFields,
    ...configFields.map((field) => `baseConfig.${field}`),
    ...rows.map((row) => `searchSpace.${row.name}`),
  ]);
  const unplaced = Object.entries(errors).filter(
    ([field]) =>
      ![...knownKeys].some((key) => field === key || field.startsWith(`${key}.`)) &&
      !field.startsWith("searchSpace.row"),
  );

  return (
    <form className="form" onSubmit={submit} noValidate data-testid="launch-form">
      <section className="card form">
        <h2>Sweep</h2>
        <div className="form-row">
          <Field label="Name" error={errorFor(errors, "name")}>
            <input name="name" value={name} onChange={(event) => setName(event.target.value)} />
          </Field>
          <Field label="Preset" error={errorFor(errors, "preset")}>
            <select
              name="preset"
              value={preset}
              onChange={(event) => {
                setPreset(event.target.value);
                setOverrides({});
              }}
            >
              {presetNames.map((entry) => (
                <option key={entry} value={entry}>
                  {entry}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Method" error={errorFor(errors, "method")}>
            <select
              name="method"
              value={method}
              onChange={(event) => setMethod(event.target.value === "random" ? "random" : "grid")}
            >
              <option value="grid">grid</option>
              <option value="random">random</option>
            </select>
          </Field>
          <Field label="Metric" error={errorFor(errors, "metric", "direction")}>
            <select
              name="metric"
              value={metric}
              onChange={(event) => setMetric(event.target.value)}
            >
              {SWEEP_METRICS.map((entry) => (
                <option key={entry.value} value={entry.value}>
                  {entry.label} ({entry.direction})
                </option>
              ))}
            </select>
          </Field>
          <Field
            label={method === "grid" ? "Run budget (caps the grid)" : "Run budget (runs to sample)"}
            error={errorFor(errors, "runBudget")}
          >
            <input
              name="runBudget"
              aria-invalid={errorFor(errors, "runBudget") ? true : undefined}
              inputMode="numeric"
              value={runBudget}
              onChange={(event) => setRunBudget(event.target.value)}
            />
          </Field>
          <Field label="Concurrency (runs at once)" error={errorFor(errors, "concurrency")}>
            <input
              name="concurrency"
              aria-invalid={errorFor(errors, "concurrency") ? true : undefined}
              inputMode="numeric"
              value={concurrency}
              onChange={(event) => setConcurrency(event.target.value)}
            />
          </Field>
        </div>
      </section>

      <section className="card form">
        <h2>Search space</h2>
        <p className="muted">
          {method === "grid"
            ? `Grid: ${grid} combination${grid === 1 ? "" : "s"}${grid > Number(runBudget) ? `, capped at ${runBudget} by the budget` : ""}.`
            : "Random: each run samples one value per row; ranges draw uniformly, or log-uniformly when ticked."}
        </p>
        {rows.map((row) => (
          <SearchSpaceRow
            key={row.id}
            row={row}
            method={method}
            schema={props.schema}
            error={errorFor(errors, `searchSpace.${row.name}`, `searchSpace.row${row.id}`)}
            onChange={(change) => updateRow(row.id, change)}
            onRemove={() => setRows((current) => current.filter((entry) => entry.id !== row.id))}
          />
        ))}
        <div>
          <button
            type="button"
            onClick={() =>
              setRows((current) => [
                ...current,
                {
                  id: Math.max(0, ...current.map((row) => row.id)) + 1,
                  name: "",
                  kind: "values",
                  valuesText: "",
                  min: "",
                  max: "",
                  log: false,
                },
              ])
            }
          >
            Add hyperparameter
          </button>
        </div>
      </section>

      <section className="card form">
        <h2>Settings for every run</h2>
        <p className="muted">
          From the {preset} preset; change any value to override it for this sweep.
        </p>
        <div className="form-row">
          {configFields.map((field) => {
            const spec = props.schema[field];
            const hint =
              spec?.min !== undefined || spec?.max !== undefined
                ? `${spec.min ?? ""}…${spec.max ?? ""}`
                : undefined;
            return (
              <Field
                key={field}
                label={field}
                hint={hint}
                error={errorFor(errors, `baseConfig.${field}`, field)}
              >
                {spec?.values ? (
                  <select
                    name={`config.${field}`}
                    aria-invalid={errorFor(errors, `baseConfig.${field}`, field) ? true : undefined}
                    value={overrides[field] ?? formatJson(presetConfig[field] as Json | undefined)}
                    onChange={(event) =>
                      setOverrides((current) => ({ ...current, [field]: event.target.value }))
                    }
                  >
                    {spec.values.map((value) => (
                      <option key={String(value)} value={String(value)}>
                        {String(value)}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    name={`config.${field}`}
                    aria-invalid={errorFor(errors, `baseConfig.${field}`, field) ? true : undefined}
                    placeholder={presetConfig[field] === undefined ? "unset" : undefined}
                    value={
                      overrides[field] ??
                      (presetConfig[field] === undefined ? "" : String(presetConfig[field]))
                    }
                    onChange={(event) =>
                      setOverrides((current) => ({ ...current, [field]: event.target.value }))
                    }
                  />
                )}
              </Field>
            );
          })}
        </div>
      </section>

      {launch.error ? (
        <div className="state state-error" role="alert" data-testid="launch-error">
          <p>
            {Object.keys(fieldErrors(launch.error)).length > 0
              ? "The API rejected some fields; see the messages beside them."
              : describeError(launch.error)}
          </p>
          {unplaced.length > 0 ? (
            <ul>
              {unplaced.map(([field, message]) => (
                <li key={field}>
                  {field}: {message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}

      <div className="actions">
        <button type="submit" className="primary" disabled={launch.fetching}>
          {launch.fetching ? "Launching…" : "Launch sweep"}
        </button>
      </div>
    </form>
  );
}

function Field(props: { label: string; hint?: string; error?: string; children: React.ReactNode }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control arrives as children, inside the label.
    <label data-invalid={props.error ? true : undefined}>
      <span>
        {props.label} {props.hint ? <small className="muted">({props.hint})</small> : null}
      </span>
      {props.children}
      {props.error ? <span className="field-error">{props.error}</span> : null}
    </label>
  );
}

function SearchSpaceRow(props: {
  row: SpaceRow;
  method: "grid" | "random";
  schema: HyperparameterSchema;
  error?: string;
  onChange(change: Partial<SpaceRow>): void;
  onRemove(): void;
}) {
  const { row } = props;
  const spec = props.schema[row.name];
  const numeric = spec?.type === "number" || spec?.type === "integer";

  return (
    <div className="space-row" data-testid="search-space-row">
      <label>
        <span className="muted">Hyperparameter</span>
        <select
          aria-label="Hyperparameter"
          value={row.name}
          onChange={(event) => props.onChange({ name: event.target.value })}
        >
          <option value="">choose…</option>
          {Object.keys(props.schema).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="muted">Kind</span>
        <select
          aria-label="Kind"
          value={row.kind}
          onChange={(event) =>
            props.onChange({ kind: event.target.value === "range" ? "range" : "values" })
          }
        >
          <option value="values">values</option>
          {numeric && props.method === "random" ? <option value="range">range</option> : null}
        </select>
      </label>
      {row.kind === "values" ? (
        <label>
          <span className="muted">
            Values, comma-separated
            {spec?.values
              ? ` (${spec.values.join(", ")})`
              : spec?.min !== undefined
                ? ` (${spec.min}…${spec.max ?? ""})`
                : ""}
          </span>
          <input
            aria-label={`Values of ${row.name || "hyperparameter"}`}
            aria-invalid={props.error ? true : undefined}
            value={row.valuesText}
            onChange={(event) => props.onChange({ valuesText: event.target.value })}
          />
          {props.error ? <span className="field-error">{props.error}</span> : null}
        </label>
      ) : (
        <div className="actions">
          <input
            aria-label="Minimum"
            placeholder="min"
            size={8}
            value={row.min}
            onChange={(event) => props.onChange({ min: event.target.value })}
          />
          <input
            aria-label="Maximum"
            placeholder="max"
            size={8}
            value={row.max}
            onChange={(event) => props.onChange({ max: event.target.value })}
          />
          <label className="actions">
            <input
              type="checkbox"
              checked={row.log}
              onChange={(event) => props.onChange({ log: event.target.checked })}
            />{" "}
            log
          </label>
          {props.error ? <span className="field-error">{props.error}</span> : null}
        </div>
      )}
      <button
        type="button"
        className="link-button"
        aria-label={`Remove ${row.name || "row"}`}
        onClick={props.onRemove}
        style={{ marginTop: "1.3rem" }}
      >
        Remove
      </button>
    </div>
  );
}
