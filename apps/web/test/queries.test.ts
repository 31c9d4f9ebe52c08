import { readFileSync } from "node:fs";
import path from "node:path";
import { buildSchema, type DocumentNode, Kind, validate } from "graphql";
import { describe, expect, it } from "vitest";
import * as documents from "../src/lib/queries";

const SCHEMA_FILE = path.resolve(import.meta.dirname, "../../api/schema.graphql");

function isOperation(value: unknown): value is DocumentNode {
  return (
    typeof value === "object" &&
    value !== null &&
    "definitions" in value &&
    (value as DocumentNode).definitions.some(
      (definition) => definition.kind === Kind.OPERATION_DEFINITION,
    )
  );
}

describe("dashboard GraphQL documents", () => {
  const schema = buildSchema(readFileSync(SCHEMA_FILE, "utf8"));
  const operations = Object.entries(documents).filter((entry): entry is [string, DocumentNode] =>
    isOperation(entry[1]),
  );

  it("include every page's operations", () => {
    expect(operations.length).toBeGreaterThan(15);
  });

  it.each(operations)("%s validates against the API schema", (_name, document) => {
    const errors = validate(schema, document).map((error) => error.message);
    expect(errors).toEqual([]);
  });
});
