import type { ExpectedSchema } from "./prisma-model";

/** Lists every way the database differs from the Prisma schema, one readable line each. */
export function diffSchemas(expected: ExpectedSchema, actual: ExpectedSchema): string[] {
  const differences: string[] = [];

  for (const [table, columns] of expected.tables) {
    const actualColumns = actual.tables.get(table);
    if (!actualColumns) {
      differences.push(`table ${table} is in schema.prisma but not in the database`);
      continue;
    }
    for (const [column, shape] of columns) {
      const found = actualColumns.get(column);
      if (!found) differences.push(`column ${table}.${column} is missing from the database`);
      else if (found.type !== shape.type)
        differences.push(
          `column ${table}.${column} is ${found.type}, schema.prisma says ${shape.type}`,
        );
      else if (found.nullable !== shape.nullable)
        differences.push(
          `column ${table}.${column} is ${found.nullable ? "nullable" : "NOT NULL"} in the database, the opposite in schema.prisma`,
        );
    }
    for (const column of actualColumns.keys()) {
      if (!columns.has(column))
        differences.push(`column ${table}.${column} is not in schema.prisma`);
    }
  }
  for (const table of actual.tables.keys()) {
    if (!expected.tables.has(table)) differences.push(`table ${table} is not in schema.prisma`);
  }

  for (const [name, values] of expected.enums) {
    const found = actual.enums.get(name);
    if (!found) differences.push(`enum ${name} is missing from the database`);
    else if (found.join(",") !== values.join(","))
      differences.push(
        `enum ${name} has (${found.join(", ")}), schema.prisma says (${values.join(", ")})`,
      );
  }
  for (const name of actual.enums.keys()) {
    if (!expected.enums.has(name)) differences.push(`enum ${name} is not in schema.prisma`);
  }

  const sets = [
    ["primary key", "primaryKeys"],
    ["unique constraint", "uniques"],
    ["index", "indexes"],
  ] as const;
  for (const [label, key] of sets) {
    for (const entry of expected[key]) {
      if (!actual[key].has(entry))
        differences.push(`${label} ${entry} is missing from the database`);
    }
    for (const entry of actual[key]) {
      if (!expected[key].has(entry)) differences.push(`${label} ${entry} is not in schema.prisma`);
    }
  }
  return differences;
}
