import type { RunStatus, SortDirection } from "@/lib/types";
import { RUN_STATUSES } from "@/lib/types";

export interface RunFilterInput {
  sweepId?: string;
  status?: RunStatus[];
  search?: string;
  hyperparameters?: { name: string; min?: number; max?: number; equals?: string | number }[];
  metrics?: { metric: string; min?: number; max?: number }[];
}

export interface RunSortInput {
  field: string;
  direction: SortDirection;
}

export const DEFAULT_SORT: RunSortInput = { field: "createdAt", direction: "desc" };

export interface Range {
  min?: number;
  max?: number;
}

/** Parses "0.9..", "..0.1", "0.001..0.01" or "5" (exact) from a filter box or the query string. */
export function parseRange(text: string): Range | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const [low, high] = trimmed.includes("..") ? trimmed.split("..") : [trimmed, trimmed];
  const min = low?.trim() ? Number(low) : undefined;
  const max = high?.trim() ? Number(high) : undefined;
  if (Number.isNaN(min) || Number.isNaN(max)) return null;
  if (min === undefined && max === undefined) return null;
  return { min, max };
}

export function parseSort(value: string | null): RunSortInput {
  if (!value) return DEFAULT_SORT;
  const [field, direction] = value.split(":");
  if (!field) return DEFAULT_SORT;
  return { field, direction: direction === "asc" ? "asc" : "desc" };
}

export function formatSort(sort: RunSortInput): string | null {
  if (sort.field === DEFAULT_SORT.field && sort.direction === DEFAULT_SORT.direction) return null;
  return `${sort.field}:${sort.direction}`;
}

/**
 * Builds the API's RunFilter from the query string: q, status, sweep, hp.<name> (a value or a
 * range) and m.<metric> (a range).
 */
export function filterFromParams(params: URLSearchParams): RunFilterInput {
  const filter: RunFilterInput = {};

  const search = params.get("q");
  if (search) filter.search = search;

  const sweepId = params.get("sweep");
  if (sweepId) filter.sweepId = sweepId;

  const statuses = (params.get("status") ?? "")
    .split(",")
    .filter((value): value is RunStatus => (RUN_STATUSES as readonly string[]).includes(value));
  if (statuses.length > 0) filter.status = statuses;

  for (const [key, value] of params.entries()) {
    if (key.startsWith("hp.")) {
      const name = key.slice(3);
      const range = /^[\d.eE+-]*\.\.[\d.eE+-]*$/.test(value) ? parseRange(value) : null;
      const entry = range ? { name, ...range } : { name, equals: coerce(value) };
      filter.hyperparameters = [...(filter.hyperparameters ?? []), entry];
    } else if (key.startsWith("m.")) {
      const range = parseRange(value);
      if (range) filter.metrics = [...(filter.metrics ?? []), { metric: key.slice(2), ...range }];
    }
  }
  return filter;
}

function coerce(value: string): string | number {
  const number = Number(value);
  return value.trim() !== "" && !Number.isNaN(number) ? number : value;
}
