import { runConfigSchema } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import { db } from "@convnet/shared/prisma";
import type { RunFilter, RunSort } from "../graphql/types";
import { type FieldError, invalidInput } from "../server/errors";
import { decodeCursor, encodeCursor } from "./cursor";

type Sql = db.Prisma.Sql;
const { sql, join, raw, empty } = db.Prisma;

const CONFIG_FIELDS = new Set(Object.keys(runConfigSchema.shape));
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Result columns a threshold or sort may name, with the SQL column behind each. */
const METRIC_COLUMNS: Record<string, string> = {
  testAccuracy: "test_accuracy",
  testLoss: "test_loss",
  bestValAccuracy: "best_val_accuracy",
  durationSeconds: "duration_seconds",
};

/** `cast` is how a cursor's JSON value is turned back into the sort expression's type. */
interface SortKey {
  expression: Sql;
  cast: "timestamptz" | "text" | "float8" | "RunStatus" | "jsonb";
}

const COLUMN_SORTS: Record<string, SortKey> = {
  createdAt: { expression: raw("created_at"), cast: "timestamptz" },
  name: { expression: raw("name"), cast: "text" },
  status: { expression: raw("status"), cast: "RunStatus" },
  sweepIndex: { expression: raw("sweep_index"), cast: "float8" },
  ...Object.fromEntries(
    Object.entries(METRIC_COLUMNS).map(([field, column]) => [
      field,
      { expression: raw(column), cast: "float8" } satisfies SortKey,
    ]),
  ),
};

function hyperparameterValue(name: string): Sql {
  return sql`(config -> ${name}::text)`;
}

/** The numeric value of a hyperparameter, or NULL when it is missing or not a number. */
function hyperparameterNumber(name: string): Sql {
  return sql`(CASE WHEN jsonb_typeof(config -> ${name}::text) = 'number' THEN (config ->> ${name}::text)::float8 END)`;
}

function sortKey(sort: RunSort | null | undefined, errors: FieldError[]): SortKey {
  const field = sort?.field ?? "createdAt";
  if (field.startsWith("hp.")) {
    const name = field.slice(3);
    if (CONFIG_FIELDS.has(name)) {
      // jsonb ordering sorts numbers numerically and strings lexically, so one key serves both.
      return { expression: hyperparameterValue(name), cast: "jsonb" };
    }
    errors.push({
      field: "sort.field",
      message: `${name} is not a hyperparameter (RunConfig field)`,
    });
  } else {
    const key = COLUMN_SORTS[field];
    if (key) return key;
    errors.push({
      field: "sort.field",
      message: `${JSON.stringify(field)} is not sortable; use ${Object.keys(COLUMN_SORTS).join(", ")} or hp.<name>`,
    });
  }
  return COLUMN_SORTS.createdAt as SortKey;
}

function castCursorValue(value: unknown, cast: SortKey["cast"]): Sql {
  const json = JSON.stringify(value);
  if (cast === "jsonb") return sql`${json}::jsonb`;
  if (cast === "RunStatus") return sql`((${json}::jsonb) #>> '{}')::"RunStatus"`;
  return sql`((${json}::jsonb) #>> '{}')::${raw(cast)}`;
}

function filterConditions(filter: RunFilter | null | undefined, errors: FieldError[]): Sql[] {
  const conditions: Sql[] = [];
  if (!filter) return conditions;

  if (filter.sweepId) {
    if (UUID_PATTERN.test(filter.sweepId)) conditions.push(sql`sweep_id = ${filter.sweepId}::uuid`);
    else errors.push({ field: "filter.sweepId", message: "is not a valid id (a UUID)" });
  }
  if (filter.status && filter.status.length > 0) {
    conditions.push(sql`status = ANY(${filter.status}::"RunStatus"[])`);
  }
  const search = filter.search?.trim();
  if (search) {
    const pattern = `%${search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    conditions.push(sql`(name ILIKE ${pattern} OR id::text = ${search.toLowerCase()})`);
  }

  for (const [index, range] of (filter.hyperparameters ?? []).entries()) {
    const field = `filter.hyperparameters[${index}]`;
    if (!CONFIG_FIELDS.has(range.name)) {
      errors.push({
        field: `${field}.name`,
        message: `${range.name} is not a hyperparameter (RunConfig field)`,
      });
      continue;
    }
    if (range.min != null)
      conditions.push(sql`${hyperparameterNumber(range.name)} >= ${range.min}`);
    if (range.max != null)
      conditions.push(sql`${hyperparameterNumber(range.name)} <= ${range.max}`);
    if (range.equals !== undefined && range.equals !== null) {
      conditions.push(
        sql`${hyperparameterValue(range.name)} = ${JSON.stringify(range.equals)}::jsonb`,
      );
    }
  }

  for (const [index, threshold] of (filter.metrics ?? []).entries()) {
    const column = METRIC_COLUMNS[threshold.metric];
    if (!column) {
      errors.push({
        field: `filter.metrics[${index}].metric`,
        message: `${JSON.stringify(threshold.metric)} is not filterable; use ${Object.keys(METRIC_COLUMNS).join(", ")}`,
      });
      continue;
    }
    if (threshold.min != null) conditions.push(sql`${raw(column)} >= ${threshold.min}`);
    if (threshold.max != null) conditions.push(sql`${raw(column)} <= ${threshold.max}`);
  }
  return conditions;
}

export interface RunPage {
  rows: { run: db.Run; cursor: string }[];
  hasNextPage: boolean;
  totalCount: number;
}

/**
 * One page of runs, filtered and sorted in SQL with keyset pagination: a page costs the same at
 * row 9,900 as at row 0. Runs without a value for the sort key come last in either direction.
 * Hyperparameters are read from `config`, which contains every RunConfig field, so runs outside a
 * sweep (whose `hyperparameters` is empty) filter and sort the same way.
 */
export async function searchRuns(
  prisma: PrismaClient,
  options: {
    first: number;
    after?: string | null;
    filter?: RunFilter | null;
    sort?: RunSort | null;
  },
): Promise<RunPage> {
  const errors: FieldError[] = [];
  const key = sortKey(options.sort, errors);
  const conditions = filterConditions(options.filter, errors);
  const cursor = options.after ? decodeCursor(options.after) : null;
  if (cursor && !UUID_PATTERN.test(cursor.id)) {
    errors.push({ field: "after", message: "is not a cursor from this list" });
  }
  if (errors.length > 0) throw invalidInput(errors, "Invalid runs query");

  const where = conditions.length > 0 ? sql`WHERE ${join(conditions, " AND ")}` : empty;
  const descending = options.sort ? options.sort.direction === "desc" : true;
  const direction = raw(descending ? "DESC" : "ASC");
  const beyond = raw(descending ? "<" : ">");

  const pageConditions = [...conditions];
  if (cursor) {
    const id = sql`${cursor.id}::uuid`;
    pageConditions.push(
      cursor.value === null
        ? sql`(${key.expression} IS NULL AND id ${beyond} ${id})`
        : sql`(${key.expression} IS NULL OR ${key.expression} ${beyond} ${castCursorValue(cursor.value, key.cast)}
            OR (${key.expression} = ${castCursorValue(cursor.value, key.cast)} AND id ${beyond} ${id}))`,
    );
  }
  const pageWhere = pageConditions.length > 0 ? sql`WHERE ${join(pageConditions, " AND ")}` : empty;

  const [page, counted] = await Promise.all([
    prisma.$queryRaw<{ id: string; sort_value: unknown }[]>`
      SELECT id::text AS id, to_jsonb(${key.expression}) AS sort_value
      FROM run ${pageWhere}
      ORDER BY (${key.expression} IS NULL), ${key.expression} ${direction}, id ${direction}
      LIMIT ${options.first + 1}`,
    prisma.$queryRaw<{ count: bigint }[]>`SELECT count(*) AS count FROM run ${where}`,
  ]);

  const visible = page.slice(0, options.first);
  const runs = await prisma.run.findMany({ where: { id: { in: visible.map((row) => row.id) } } });
  const byId = new Map(runs.map((run) => [run.id, run]));
  const rows = visible.flatMap((row) => {
    const run = byId.get(row.id);
    return run ? [{ run, cursor: encodeCursor({ value: row.sort_value, id: row.id }) }] : [];
  });
  return {
    rows,
    hasNextPage: page.length > options.first,
    totalCount: Number(counted[0]?.count ?? 0),
  };
}

/** The GraphQL RunConnection for a page. */
export function toRunConnection(page: RunPage) {
  return {
    edges: page.rows.map((row) => ({ cursor: row.cursor, node: row.run })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.rows.at(-1)?.cursor ?? null },
    totalCount: page.totalCount,
  };
}
