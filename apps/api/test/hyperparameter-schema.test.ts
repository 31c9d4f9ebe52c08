import "reflect-metadata";
import { describe, expect, test } from "vitest";
import { describeHyperparameters } from "../src/graphql/resolvers/workers-query";

describe("describeHyperparameters", () => {
  const described = describeHyperparameters();

  test.each([
    ["architecture", "enum", false],
    ["batchSize", "integer", false],
    ["learningRate", "number", false],
    ["baseModel", "string", true],
    ["freezeLayers", "integer", true],
    ["trainLimit", "integer", true],
  ] as const)("describes %s as %s", (field, type, optional) => {
    expect(described[field]?.type).toBe(type);
    expect(described[field]?.optional).toBe(optional);
  });

  test("keeps bounds and defaults", () => {
    expect(described.learningRate).toMatchObject({ min: 0, exclusiveMin: true, max: 10 });
    expect(described.batchSize?.default).toBe(128);
    expect(described.baseModel?.default).toBeNull();
  });
});
