import { readFileSync } from "node:fs";
import path from "node:path";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, test } from "vitest";
import { FOLLOW_SWEEP, LAUNCH_SWEEP } from "../apps/api/src/cli/sweep-documents";
import * as operations from "../apps/trainer/src/worker/operations";

const schema = buildSchema(
  readFileSync(path.resolve(import.meta.dirname, "../apps/api/schema.graphql"), "utf8"),
);

const documents: [string, string][] = [
  ...Object.entries(operations as Record<string, unknown>).flatMap(([name, value]) =>
    typeof value === "string" ? [[name, value] as [string, string]] : [],
  ),
  ["LAUNCH_SWEEP", LAUNCH_SWEEP],
  ["FOLLOW_SWEEP", FOLLOW_SWEEP],
];

describe("worker and sweep CLI documents", () => {
  test.each(documents)("%s matches the printed schema", (_name, document) => {
    const errors = validate(schema, parse(document)).map((error) => error.message);
    expect(errors).toEqual([]);
  });
});
