import Link from "next/link";
import type { ReactNode } from "react";
import { formatDateTime, formatDuration, formatJson, formatPercent } from "@/lib/format";
import { hyperparameterValue } from "@/lib/hyperparameters";
import type { RunRow } from "@/lib/types";
import { RUN_STATUSES } from "@/lib/types";
import { StatusBadge } from "../states";

/** Filter control of a column: the status list, a list of values, a "min..max" range or free text. */
export type ColumnFilter =
  | { kind: "status" }
  | { kind: "enum"; param: string; values: string[] }
  | { kind: "range"; param: string }
  | { kind: "text"; param: string };

export interface RunColumn {
  id: string;
  label: string;
  sortField?: string;
  filter?: ColumnFilter;
  numeric?: boolean;
  hideNarrow?: boolean;
  render(run: RunRow): ReactNode;
}

function progress(run: RunRow): ReactNode {
  if (run.status !== "running" || run.totalSteps === 0) return null;
  const percent = Math.min(100, Math.round((run.step / run.totalSteps) * 100));
  return (
    <span className="progress" title={`step ${run.step} of ${run.totalSteps}`}>
      <span style={{ width: `${percent}%` }} />
    </span>
  );
}

function hyperparameterColumn(name: string, label: string, enumValues?: string[]): RunColumn {
  return {
    id: `hp.${name}`,
    label,
    sortField: `hp.${name}`,
    numeric: !enumValues,
    hideNarrow: true,
    filter: enumValues
      ? { kind: "enum", param: `hp.${name}`, values: enumValues }
      : { kind: "range", param: `hp.${name}` },
    render: (run) => formatJson(hyperparameterValue(run, name)),
  };
}

export function runColumns(enums: Record<string, string[]>): RunColumn[] {
  return [
    {
      id: "name",
      label: "Run",
      sortField: "name",
      filter: { kind: "text", param: "q" },
      render: (run) => <Link href={`/runs/${run.id}`}>{run.name}</Link>,
    },
    {
      id: "status",
      label: "Status",
      sortField: "status",
      filter: { kind: "status" },
      render: (run) => (
        <span className="actions">
          <StatusBadge status={run.status} />
          {progress(run)}
        </span>
      ),
    },
    {
      id: "sweep",
      label: "Sweep",
      hideNarrow: true,
      filter: { kind: "text", param: "sweep" },
      render: (run) =>
        run.sweep ? <Link href={`/sweeps/${run.sweep.id}`}>{run.sweep.name}</Link> : "–",
    },
    {
      id: "bestValAccuracy",
      label: "Best val acc",
      sortField: "bestValAccuracy",
      numeric: true,
      filter: { kind: "range", param: "m.bestValAccuracy" },
      render: (run) => formatPercent(run.bestValAccuracy),
    },
    {
      id: "testAccuracy",
      label: "Test acc",
      sortField: "testAccuracy",
      numeric: true,
      filter: { kind: "range", param: "m.testAccuracy" },
      render: (run) => formatPercent(run.testAccuracy),
    },
    {
      id: "durationSeconds",
      label: "Duration",
      sortField: "durationSeconds",
      numeric: true,
      filter: { kind: "range", param: "m.durationSeconds" },
      render: (run) => formatDuration(run.durationSeconds),
    },
    hyperparameterColumn("architecture", "Architecture", enums.architecture),
    hyperparameterColumn("optimizer", "Optimizer", enums.optimizer),
    hyperparameterColumn("learningRate", "LR"),
    hyperparameterColumn("batchSize", "Batch"),
    hyperparameterColumn("epochs", "Epochs"),
    hyperparameterColumn("dropout", "Dropout"),
    {
      id: "backend",
      label: "Backend",
      hideNarrow: true,
      render: (run) => run.backend ?? "–",
    },
    {
      id: "createdAt",
      label: "Created",
      sortField: "createdAt",
      hideNarrow: true,
      render: (run) => formatDateTime(run.createdAt),
    },
  ];
}

export { RUN_STATUSES };
