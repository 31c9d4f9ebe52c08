import pg from "pg";
import type { ExpectedSchema } from "./prisma-model";

// Tables the product creates outside schema.prisma: node-pg-migrate's own bookkeeping.
const IGNORED_TABLES = new Set(["pgmigrations"]);

/** Reads the public schema of a live database into the same shape as readExpectedSchema. */
export async function readDatabaseSchema(databaseUrl: string): Promise<ExpectedSchema> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const columns = await client.query<{
      table_name: string;
      column_name: string;
      type: string;
      nullable: boolean;
    }>(`
      SELECT c.relname AS table_name, a.attname AS column_name,
             format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`);

    const enums = await client.query<{ name: string; values: string[] }>(`
      SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname`);

    const indexes = await client.query<{
      table_name: string;
      is_primary: boolean;
      is_unique: boolean;
      columns: string[];
    }>(`
      SELECT c.relname AS table_name, i.indisprimary AS is_primary, i.indisunique AS is_unique,
             array(
               SELECT a.attname || CASE WHEN (i.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' ELSE '' END
               FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
               ORDER BY k.ord
             )::text[] AS columns
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public'`);

    const schema: ExpectedSchema = {
      tables: new Map(),
      enums: new Map(enums.rows.map((row) => [row.name, row.values])),
      primaryKeys: new Set(),
      uniques: new Set(),
      indexes: new Set(),
    };
    for (const row of columns.rows) {
      if (IGNORED_TABLES.has(row.table_name)) continue;
      const table = schema.tables.get(row.table_name) ?? new Map();
      // Prisma names enum types in the catalog with quotes when they are not lower case.
      table.set(row.column_name, { type: row.type.replaceAll('"', ""), nullable: row.nullable });
      schema.tables.set(row.table_name, table);
    }
    for (const row of indexes.rows) {
      if (IGNORED_TABLES.has(row.table_name)) continue;
      const key = `${row.table_name}(${row.columns.join(",")})`;
      if (row.is_primary) schema.primaryKeys.add(key);
      else if (row.is_unique) schema.uniques.add(key);
      else schema.indexes.add(key);
    }
    return schema;
  } finally {
    await client.end();
  }
}
