import { readFileSync } from "node:fs";
import path from "node:path";
import wasm from "@prisma/prisma-schema-wasm";

/** The database shape schema.prisma describes, in the terms PostgreSQL's catalog uses. */
export interface ExpectedSchema {
  tables: Map<string, Map<string, { type: string; nullable: boolean }>>;
  enums: Map<string, string[]>;
  /** "table(col1,col2)" for primary keys, unique constraints and indexes, with DESC marked. */
  primaryKeys: Set<string>;
  uniques: Set<string>;
  indexes: Set<string>;
}

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object" | "unsupported";
  isRequired: boolean;
  isList: boolean;
  type: string;
  nativeType: [string, string[]] | null;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  fields: { name: string; sortOrder?: "asc" | "desc" }[];
}

interface Dmmf {
  datamodel: {
    enums: {
      name: string;
      dbName: string | null;
      values: { name: string; dbName: string | null }[];
    }[];
    models: DmmfModel[];
    indexes: DmmfIndex[];
  };
}

// Prisma's default PostgreSQL column type for each scalar, and for the native types this schema uses.
const SCALAR_TYPES: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Decimal: "numeric",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Bytes: "bytea",
};

function nativeType(native: [string, string[]]): string {
  const [name, args] = native;
  const suffix = args.length > 0 ? `(${args.join(",")})` : "";
  const types: Record<string, string> = {
    Uuid: "uuid",
    Text: "text",
    Timestamptz: `timestamp${suffix} with time zone`,
    Timestamp: `timestamp${suffix} without time zone`,
    VarChar: `character varying${suffix}`,
    Integer: "integer",
    BigInt: "bigint",
    DoublePrecision: "double precision",
    JsonB: "jsonb",
  };
  const type = types[name];
  if (!type)
    throw new Error(`The drift test does not know the native type @db.${name}; add it here.`);
  return type;
}

export const SCHEMA_PATH = path.resolve(import.meta.dirname, "../../prisma/schema.prisma");

export function readExpectedSchema(schemaPath = SCHEMA_PATH): ExpectedSchema {
  const prismaSchema = readFileSync(schemaPath, "utf8");
  const dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema }))) as Dmmf;
  const { enums, models, indexes } = dmmf.datamodel;

  const enumNames = new Map(enums.map((e) => [e.name, e.dbName ?? e.name]));
  const tableOf = new Map(models.map((model) => [model.name, model.dbName ?? model.name]));
  const columnOf = new Map<string, string>();

  const tables = new Map<string, Map<string, { type: string; nullable: boolean }>>();
  for (const model of models) {
    const columns = new Map<string, { type: string; nullable: boolean }>();
    for (const field of model.fields) {
      if (field.kind === "object") continue;
      const column = field.dbName ?? field.name;
      columnOf.set(`${model.name}.${field.name}`, column);
      let type: string;
      if (field.kind === "enum") type = enumNames.get(field.type) ?? field.type;
      else if (field.nativeType) type = nativeType(field.nativeType);
      else type = SCALAR_TYPES[field.type] ?? field.type;
      columns.set(column, { type: field.isList ? `${type}[]` : type, nullable: !field.isRequired });
    }
    tables.set(model.dbName ?? model.name, columns);
  }

  const primaryKeys = new Set<string>();
  const uniques = new Set<string>();
  const normal = new Set<string>();
  for (const index of indexes) {
    const table = tableOf.get(index.model) ?? index.model;
    const columns = index.fields.map((field) => {
      const column = columnOf.get(`${index.model}.${field.name}`) ?? field.name;
      return field.sortOrder === "desc" ? `${column} DESC` : column;
    });
    const key = `${table}(${columns.join(",")})`;
    if (index.type === "id") primaryKeys.add(key);
    else if (index.type === "unique") uniques.add(key);
    else normal.add(key);
  }

  return {
    tables,
    enums: new Map(enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)])),
    primaryKeys,
    uniques,
    indexes: normal,
  };
}
