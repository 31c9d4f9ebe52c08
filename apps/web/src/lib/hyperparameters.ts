import type { HyperparameterSpec, Json, JsonObject } from "./types";

export type HyperparameterSchema = Record<string, HyperparameterSpec>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readSpec(raw: Record<string, unknown>): HyperparameterSpec {
  const values = raw.values ?? raw.allowed ?? raw.enum ?? raw.options;
  const declared = typeof raw.type === "string" ? raw.type : undefined;
  const type: HyperparameterSpec["type"] =
    declared === "integer" || declared === "int"
      ? "integer"
      : declared === "number" || declared === "float"
        ? "number"
        : declared === "boolean"
          ? "boolean"
          : Array.isArray(values) || declared === "enum"
            ? "enum"
            : "string";
  return {
    type,
    min: typeof raw.min === "number" ? raw.min : undefined,
    max: typeof raw.max === "number" ? raw.max : undefined,
    values: Array.isArray(values) ? (values as Json[]) : undefined,
    optional: raw.optional === true,
  };
}

/**
 * Reads the API's hyperparameterSchema, accepting either {name: spec} or [{name, ...spec}],
 * so the editor keeps working if the API settles on the other layout.
 */
export function parseHyperparameterSchema(raw: unknown): HyperparameterSchema {
  const schema: HyperparameterSchema = {};
  const source = isObject(raw) && isObject(raw.fields) ? raw.fields : raw;

  if (Array.isArray(source)) {
    for (const entry of source) {
      if (isObject(entry) && typeof entry.name === "string") schema[entry.name] = readSpec(entry);
    }
  } else if (isObject(source)) {
    for (const [name, entry] of Object.entries(source)) {
      if (isObject(entry)) schema[name] = readSpec(entry);
    }
  }
  return schema;
}

/** The hyperparameters shown as columns and axes when a run did not come from a sweep. */
export const KEY_HYPERPARAMETERS = [
  "architecture",
  "optimizer",
  "learningRate",
  "batchSize",
  "epochs",
  "finetuneEpochs",
  "dropout",
] as const;

/** Returns a run's value for a hyperparameter: the searched value when a sweep set it, else its config value. */
export function hyperparameterValue(
  run: { hyperparameters: JsonObject; config: JsonObject },
  name: string,
): Json | undefined {
  return run.hyperparameters?.[name] ?? run.config?.[name];
}

/**
 * Picks a log axis when every value is positive and they span a factor of 10 or more, as
 * learning rates do, so 1e-4 and 1e-3 do not crowd into one corner.
 */
export function numericAxisType(values: (Json | undefined)[]): "log" | "value" {
  const numbers = values.filter((value): value is number => typeof value === "number");
  if (numbers.length < 2 || numbers.some((value) => value <= 0)) return "value";
  return Math.max(...numbers) / Math.min(...numbers) >= 10 ? "log" : "value";
}
