import {
  createRandom,
  PRESETS,
  type RunConfig,
  runConfigSchema,
  SEED_RECIPE,
  validateRunConfig,
} from "@convnet/shared";
import type { FieldError } from "../server/errors";

export const SWEEP_METRICS = ["val_accuracy", "val_loss", "test_accuracy", "test_loss"] as const;
export const DEFAULT_PRESET = "seed-recipe";
export const MAX_RUN_BUDGET = 1_000;
export const MAX_CONCURRENCY = 64;
export const MAX_VALUES_PER_FIELD = 1_000;

type FieldSpec =
  | { kind: "values"; values: unknown[] }
  | { kind: "range"; min: number; max: number; log: boolean };

export interface SweepSpecInput {
  name: string;
  method: string;
  baseConfig?: unknown;
  preset?: string | null;
  searchSpace: unknown;
  metric: string;
  direction: string;
  runBudget: number;
  concurrency: number;
}

export interface PlannedRun {
  index: number;
  hyperparameters: Record<string, unknown>;
  config: RunConfig;
}

export interface SweepPlan {
  baseConfig: RunConfig;
  runs: PlannedRun[];
}

const FIELD_SHAPES = runConfigSchema.shape as Record<string, unknown>;
const INTEGER_FIELDS = new Set(
  Object.entries(runConfigSchema.shape)
    .filter(([, schema]) => {
      const inner =
        "unwrap" in schema && typeof schema.unwrap === "function" ? schema.unwrap() : schema;
      return "isInt" in inner && inner.isInt === true;
    })
    .map(([name]) => name),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates one field's value the same way a run's config will be validated, on its own. */
function checkValue(base: RunConfig, name: string, value: unknown): string | null {
  const result = validateRunConfig({ ...base, [name]: value });
  if (result.ok) return null;
  const issue = result.issues.find((entry) => entry.field === name) ?? result.issues[0];
  return issue ? issue.message : "is invalid";
}

function parseFieldSpec(
  name: string,
  raw: unknown,
  method: string,
  base: RunConfig,
  errors: FieldError[],
): FieldSpec | null {
  const field = `searchSpace.${name}`;
  if (!(name in FIELD_SHAPES)) {
    errors.push({
      field,
      message: `${name} is not a hyperparameter; use one of ${Object.keys(FIELD_SHAPES).join(", ")}`,
    });
    return null;
  }
  if (!isRecord(raw)) {
    errors.push({
      field,
      message: 'must be {"values": [...]} or {"min": a, "max": b, "log": bool}',
    });
    return null;
  }

  if ("values" in raw) {
    const values = raw.values;
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_VALUES_PER_FIELD) {
      errors.push({
        field: `${field}.values`,
        message: `must be a list of 1..${MAX_VALUES_PER_FIELD} values`,
      });
      return null;
    }
    let valid = true;
    values.forEach((value, index) => {
      const problem = checkValue(base, name, value);
      if (problem) {
        valid = false;
        errors.push({
          field: `${field}.values[${index}]`,
          message: `${JSON.stringify(value)}: ${problem}`,
        });
      }
    });
    return valid ? { kind: "values", values } : null;
  }

  if (method === "grid") {
    errors.push({
      field,
      message: 'grid search needs {"values": [...]} for every field; ranges are random-only',
    });
    return null;
  }
  const { min, max } = raw;
  const log = raw.log === true;
  if (
    typeof min !== "number" ||
    typeof max !== "number" ||
    !Number.isFinite(min) ||
    !Number.isFinite(max)
  ) {
    errors.push({ field, message: 'a range needs numeric "min" and "max"' });
    return null;
  }
  let valid = true;
  if (min > max) {
    errors.push({ field, message: `min ${min} is greater than max ${max}` });
    valid = false;
  }
  if (log && min <= 0) {
    errors.push({ field: `${field}.min`, message: `a log range needs min > 0, got ${min}` });
    valid = false;
  }
  for (const [bound, value] of [
    ["min", min],
    ["max", max],
  ] as const) {
    const problem = checkValue(base, name, INTEGER_FIELDS.has(name) ? Math.round(value) : value);
    if (problem) {
      errors.push({ field: `${field}.${bound}`, message: `${value}: ${problem}` });
      valid = false;
    }
  }
  return valid ? { kind: "range", min, max, log } : null;
}

function sample(name: string, spec: FieldSpec, random: () => number): unknown {
  if (spec.kind === "values") return spec.values[Math.floor(random() * spec.values.length)];
  const position = random();
  const value = spec.log
    ? Math.exp(Math.log(spec.min) + position * (Math.log(spec.max) - Math.log(spec.min)))
    : spec.min + position * (spec.max - spec.min);
  if (INTEGER_FIELDS.has(name)) return Math.round(value);
  return Number(value.toPrecision(6));
}

/** Every combination of the value lists, in the order the fields were given. */
function gridCombinations(fields: [string, unknown[]][]): Record<string, unknown>[] {
  let combinations: Record<string, unknown>[] = [{}];
  for (const [name, values] of fields) {
    combinations = combinations.flatMap((partial) =>
      values.map((value) => ({ ...partial, [name]: value })),
    );
  }
  return combinations;
}

/**
 * Checks a sweep spec and expands it into the configs of its runs. Returns every problem at once,
 * each naming its field (runBudget, searchSpace.learningRate.values[2], baseConfig.epochs), so
 * the dashboard can mark each control.
 */
export function planSweep(
  spec: SweepSpecInput,
): { ok: true; plan: SweepPlan } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];

  if (spec.name.trim() === "" || spec.name.length > 200) {
    errors.push({ field: "name", message: "must be 1..200 characters" });
  }
  if (spec.method !== "grid" && spec.method !== "random") {
    errors.push({
      field: "method",
      message: `${JSON.stringify(spec.method)} is invalid; use grid or random`,
    });
  }
  if (!(SWEEP_METRICS as readonly string[]).includes(spec.metric)) {
    errors.push({
      field: "metric",
      message: `${JSON.stringify(spec.metric)} is invalid; use one of ${SWEEP_METRICS.join(", ")}`,
    });
  }
  if (spec.direction !== "minimize" && spec.direction !== "maximize") {
    errors.push({
      field: "direction",
      message: `${JSON.stringify(spec.direction)} is invalid; use minimize or maximize`,
    });
  }
  if (!Number.isInteger(spec.runBudget) || spec.runBudget < 1 || spec.runBudget > MAX_RUN_BUDGET) {
    errors.push({
      field: "runBudget",
      message: `${spec.runBudget} is out of range; use 1..${MAX_RUN_BUDGET}`,
    });
  }
  if (
    !Number.isInteger(spec.concurrency) ||
    spec.concurrency < 1 ||
    spec.concurrency > MAX_CONCURRENCY
  ) {
    errors.push({
      field: "concurrency",
      message: `${spec.concurrency} is out of range; use 1..${MAX_CONCURRENCY}`,
    });
  }

  const presetName = spec.preset ?? DEFAULT_PRESET;
  const preset = PRESETS[presetName];
  if (!preset) {
    errors.push({
      field: "preset",
      message: `${JSON.stringify(presetName)} is unknown; use one of ${Object.keys(PRESETS).join(", ")}`,
    });
  }
  const overrides = spec.baseConfig ?? {};
  if (!isRecord(overrides)) {
    errors.push({ field: "baseConfig", message: "must be an object of RunConfig fields" });
  }
  const merged = validateRunConfig({
    ...(preset ?? SEED_RECIPE),
    ...(isRecord(overrides) ? overrides : {}),
  });
  if (!merged.ok) {
    for (const issue of merged.issues)
      errors.push({ field: `baseConfig.${issue.field}`, message: issue.message });
  }
  // With an invalid baseConfig the search space is still checked, against the preset alone.
  const base = merged.ok ? merged.config : (preset ?? SEED_RECIPE);

  if (!isRecord(spec.searchSpace) || Object.keys(spec.searchSpace).length === 0) {
    errors.push({
      field: "searchSpace",
      message:
        'must name at least one hyperparameter, e.g. {"learningRate": {"values": [0.001, 0.01]}}',
    });
    return { ok: false, errors };
  }
  const fields: [string, FieldSpec][] = [];
  for (const [name, raw] of Object.entries(spec.searchSpace)) {
    const parsed = parseFieldSpec(name, raw, spec.method, base, errors);
    if (parsed) fields.push([name, parsed]);
  }
  if (errors.length > 0) return { ok: false, errors };

  let assignments: Record<string, unknown>[];
  if (spec.method === "grid") {
    const valueLists = fields.map(
      ([name, field]) => [name, field.kind === "values" ? field.values : []] as [string, unknown[]],
    );
    const size = valueLists.reduce((product, [, values]) => product * values.length, 1);
    if (size > spec.runBudget) {
      return {
        ok: false,
        errors: [
          {
            field: "runBudget",
            message: `the grid has ${size} combinations but runBudget is ${spec.runBudget}; raise runBudget to ${size} or drop values`,
          },
        ],
      };
    }
    assignments = gridCombinations(valueLists);
  } else {
    const random = createRandom(base.seed);
    assignments = Array.from({ length: spec.runBudget }, () =>
      Object.fromEntries(fields.map(([name, field]) => [name, sample(name, field, random)])),
    );
  }

  const runs: PlannedRun[] = [];
  for (const [index, hyperparameters] of assignments.entries()) {
    const result = validateRunConfig({ ...base, ...hyperparameters });
    if (!result.ok) {
      for (const issue of result.issues) {
        errors.push({
          field: `searchSpace.${issue.field}`,
          message: `run ${index + 1}: ${issue.message}`,
        });
      }
      continue;
    }
    runs.push({ index, hyperparameters, config: result.config });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, plan: { baseConfig: base, runs } };
}
