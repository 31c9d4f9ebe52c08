import type { HyperparameterSchema } from "@/lib/hyperparameters";
import type { Json, JsonObject } from "@/lib/types";

/** One row of the search-space editor: a list of values, or a range for random search. */
export interface SpaceRow {
  id: number;
  name: string;
  kind: "values" | "range";
  valuesText: string;
  min: string;
  max: string;
  log: boolean;
}

export function parseValues(text: string, type: string | undefined): Json[] {
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (type === "integer" || type === "number") return parts.map((part) => Number(part));
  if (type === "boolean") return parts.map((part) => part === "true");
  return parts;
}

/** Checks rows before sending, with messages keyed like the API's field errors. */
export function validateRows(
  rows: SpaceRow[],
  schema: HyperparameterSchema,
  method: "grid" | "random",
) {
  const errors: Record<string, string> = {};
  const seen = new Set<string>();

  for (const row of rows) {
    const key = `searchSpace.${row.name}`;
    const spec = schema[row.name];
    if (!row.name) {
      errors[`searchSpace.row${row.id}`] = "Choose a hyperparameter.";
      continue;
    }
    if (seen.has(row.name)) errors[key] = `${row.name} appears twice; keep one row.`;
    seen.add(row.name);

    if (row.kind === "range") {
      if (method === "grid")
        errors[key] = "Grid search needs a list of values; ranges are for random search.";
      const min = Number(row.min);
      const max = Number(row.max);
      if (row.min === "" || row.max === "" || Number.isNaN(min) || Number.isNaN(max)) {
        errors[key] = "Enter a numeric min and max.";
      } else if (min > max) errors[key] = `min ${min} is above max ${max}.`;
      else if (row.log && min <= 0) errors[key] = "A log-uniform range needs min > 0.";
      continue;
    }

    const values = parseValues(row.valuesText, spec?.type);
    if (values.length === 0) errors[key] = "Enter at least one value, separated by commas.";
    const invalid = values.find((value) => typeof value === "number" && Number.isNaN(value));
    if (invalid !== undefined)
      errors[key] = `${row.valuesText} holds a value that is not a number.`;
  }
  return errors;
}

export function buildSearchSpace(rows: SpaceRow[], schema: HyperparameterSchema): JsonObject {
  const space: JsonObject = {};
  for (const row of rows) {
    if (!row.name) continue;
    space[row.name] =
      row.kind === "range"
        ? { min: Number(row.min), max: Number(row.max), log: row.log }
        : { values: parseValues(row.valuesText, schema[row.name]?.type) };
  }
  return space;
}

/** Number of runs a grid expands to: the product of each list's length. */
export function gridSize(rows: SpaceRow[], schema: HyperparameterSchema): number {
  return rows
    .filter((row) => row.name && row.kind === "values")
    .reduce(
      (product, row) =>
        product * Math.max(1, parseValues(row.valuesText, schema[row.name]?.type).length),
      1,
    );
}
