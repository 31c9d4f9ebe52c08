// Result shapes of the GraphQL documents in queries.ts, written by hand after the API contract.
// Fields a document does not select are absent here, so a widened query also widens its type.

export const RUN_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "pruned",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type SweepStatus = "running" | "succeeded" | "failed" | "cancelled";
export type Phase = "train" | "finetune";
export type TokenRole = "viewer" | "editor" | "worker";
export type SortDirection = "asc" | "desc";
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Viewer {
  role: TokenRole;
  label: string;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface RunRow {
  id: string;
  name: string;
  status: RunStatus;
  sweepId: string | null;
  sweep: { id: string; name: string } | null;
  hyperparameters: JsonObject;
  config: JsonObject;
  architecture: string;
  phase: Phase | null;
  epoch: number;
  step: number;
  totalSteps: number;
  backend: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  bestValAccuracy: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
}

export interface Artifact {
  id: string;
  kind: string;
  phase: Phase | null;
  epoch: number | null;
  step: number | null;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  url: string;
}

export interface Misclassified {
  index: number;
  label: number;
  predicted: number;
}

export interface RunDetail extends RunRow {
  dataset: string;
  seed: number;
  attempt: number;
  maxAttempts: number;
  versions: JsonObject | null;
  heartbeatAt: string | null;
  worker: { id: string; name: string; host: string } | null;
  confusionMatrix: number[][] | null;
  misclassified: Misclassified[] | null;
  error: string | null;
  checkpoints: Artifact[];
  lastMetrics: Record<string, number> | null;
}

export interface MetricPoint {
  step: number;
  epoch: number;
  phase: Phase;
  value: number;
  /** Milliseconds since the Unix epoch. */
  wallTime: number;
}

export interface MetricSeries {
  runId: string;
  key: string;
  phase: Phase | null;
  points: MetricPoint[];
  downsampled: boolean;
}

/** A line as metricSeries sends it in the packed form: index i of every array is point i. */
export interface PackedSeries {
  length: number;
  steps: number[];
  epochs: number[];
  phases: Phase[];
  /** Base64 of little-endian float64 bytes, 8 per point. */
  values: string;
  /** Milliseconds since the Unix epoch. */
  wallTimes: number[];
}

export interface PackedMetricSeries {
  runId: string;
  key: string;
  phase: Phase | null;
  packed: PackedSeries;
  downsampled: boolean;
}

/** A point as metricsLogged sends it, with its run and key. */
export interface LoggedMetricPoint {
  runId: string;
  key: string;
  step: number;
  epoch: number;
  phase: Phase;
  value: number;
  /** ISO 8601 */
  wallTime: string;
}

export interface MetricsLoggedEvent {
  runId: string;
  keys: string[];
  points: LoggedMetricPoint[];
}

export interface RunCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  pruned: number;
  total: number;
}

export interface SweepRow {
  id: string;
  name: string;
  method: "grid" | "random";
  metric: string;
  direction: "minimize" | "maximize";
  runBudget: number;
  concurrency: number;
  status: SweepStatus;
  createdAt: string;
  finishedAt: string | null;
  runCounts: RunCounts;
  bestRun: RunRow | null;
}

export interface SweepDetail extends SweepRow {
  searchSpace: JsonObject;
  baseConfig: JsonObject;
  runs: { edges: { node: RunRow }[]; totalCount: number; pageInfo: PageInfo };
}

export interface ModelVersion {
  id: string;
  name: string;
  version: number;
  metrics: JsonObject;
  createdAt: string;
  createdBy: string | null;
  aliases: string[];
  run: { id: string; name: string; testAccuracy: number | null; sweepId: string | null };
}

export interface ModelAlias {
  modelName: string;
  alias: string;
  movedBy: string | null;
  movedAt: string;
  version: { id: string; version: number };
}

export interface Model {
  name: string;
  versions: ModelVersion[];
  aliases: ModelAlias[];
}

export interface AliasEvent {
  modelName: string;
  alias: string;
  movedBy: string | null;
  movedAt: string;
  fromVersion: { id: string; version: number } | null;
  toVersion: { id: string; version: number };
}

export interface Prediction {
  label: number;
  probabilities: number[];
  modelVersion: { id: string; name: string; version: number };
}

/** One entry of hyperparameterSchema: how the search-space editor offers a RunConfig field. */
export interface HyperparameterSpec {
  type: "integer" | "number" | "enum" | "boolean" | "string";
  min?: number;
  max?: number;
  values?: Json[];
  optional?: boolean;
}

export interface FieldError {
  field: string;
  message: string;
}
