import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { planSweep } from "../src/sweeps/search-space";
import { errorCodes, startTestApi, type TestApi } from "./support/api-server";

const LAUNCH = `mutation Launch($spec: SweepSpec!) {
  launchSweep(spec: $spec) { id method runBudget runCounts { queued total } runs(first: 50) { edges { node { hyperparameters config totalSteps status } } } }
}`;

const VALID = {
  name: "learning rates",
  method: "grid",
  preset: "quick",
  searchSpace: { learningRate: { values: [0.001, 0.01] }, optimizer: { values: ["adam", "sgd"] } },
  metric: "val_accuracy",
  direction: "maximize",
  runBudget: 4,
  concurrency: 2,
};

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi(inject("serverUrl"));
});

afterAll(async () => {
  await api?.stop();
});

async function launchErrors(overrides: Record<string, unknown>) {
  const response = await api.request(api.tokens.editor, LAUNCH, {
    spec: { ...VALID, ...overrides },
  });
  expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
  return response.errors?.[0]?.extensions?.fields ?? [];
}

describe("launchSweep validation", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["empty name", { name: " " }, "name"],
    ["unknown metric", { metric: "accuracy" }, "metric"],
    ["runBudget of 0", { runBudget: 0 }, "runBudget"],
    ["runBudget over 1000", { runBudget: 1001 }, "runBudget"],
    ["concurrency of 0", { concurrency: 0 }, "concurrency"],
    ["concurrency over 64", { concurrency: 65 }, "concurrency"],
    ["unknown preset", { preset: "huge" }, "preset"],
    ["invalid base config", { baseConfig: { epochs: 0 } }, "baseConfig.epochs"],
    ["unknown base config field", { baseConfig: { momentum: 0.9 } }, "baseConfig.momentum"],
    ["empty search space", { searchSpace: {} }, "searchSpace"],
    [
      "unknown hyperparameter",
      { searchSpace: { momentum: { values: [0.9] } } },
      "searchSpace.momentum",
    ],
    [
      "value out of range",
      { searchSpace: { dropout: { values: [0.1, 0.95] } } },
      "searchSpace.dropout.values[1]",
    ],
    [
      "wrong value type",
      { searchSpace: { optimizer: { values: ["adamw"] } } },
      "searchSpace.optimizer.values[0]",
    ],
    [
      "range in a grid",
      { searchSpace: { learningRate: { min: 0.001, max: 0.1 } } },
      "searchSpace.learningRate",
    ],
    [
      "range bound out of range",
      { method: "random", searchSpace: { learningRate: { min: 0.001, max: 20 } } },
      "searchSpace.learningRate.max",
    ],
    [
      "log range from zero",
      { method: "random", searchSpace: { dropout: { min: 0, max: 0.5, log: true } } },
      "searchSpace.dropout.min",
    ],
    ["grid larger than the budget", { runBudget: 3 }, "runBudget"],
    [
      "frozen layers without a base",
      { baseConfig: { freezeLayers: 2 } },
      "baseConfig.freezeLayers",
    ],
    ["base model as a path", { baseConfig: { baseModel: "/tmp/model" } }, "baseConfig.baseModel"],
    [
      "base model of an unknown run",
      { baseConfig: { baseModel: "run:00000000-0000-4000-8000-000000000000" } },
      "baseConfig.baseModel",
    ],
    [
      "unregistered base model",
      { searchSpace: { baseModel: { values: ["model:nothing"] } }, runBudget: 1 },
      "searchSpace.baseModel",
    ],
  ];

  for (const [name, overrides, field] of cases) {
    it(`names ${field} for ${name}`, async () => {
      const fields = await launchErrors(overrides);
      expect(fields.map((entry) => entry.field)).toContain(field);
      expect(fields.find((entry) => entry.field === field)?.message).toBeTruthy();
    });
  }

  it("reports every invalid field at once", async () => {
    const fields = await launchErrors({ name: "", runBudget: 0, concurrency: 100, metric: "x" });
    expect(fields.map((entry) => entry.field)).toEqual(
      expect.arrayContaining(["name", "runBudget", "concurrency", "metric"]),
    );
  });

  const mistypedSpecs: [string, unknown][] = [
    ["a field unknown to SweepSpec", { ...VALID, bogus: 1 }],
    ["a fractional runBudget", { ...VALID, runBudget: 1.5 }],
    ["an array for the spec", []],
  ];

  for (const [name, spec] of mistypedSpecs) {
    it(`rejects ${name} as bad input`, async () => {
      const response = await api.request(api.tokens.editor, LAUNCH, { spec });
      expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
      expect(response.errors?.[0]?.message).toContain("$spec");
    });
  }

  it("creates nothing when the spec is invalid", async () => {
    await launchErrors({ runBudget: 0 });
    expect(await api.prisma.sweep.count({ where: { name: VALID.name } })).toBe(0);
  });
});

describe("launchSweep", () => {
  it("creates the sweep with one queued run per grid point", async () => {
    const response = await api.request<{
      launchSweep: {
        runCounts: { queued: number; total: number };
        runs: {
          edges: {
            node: {
              hyperparameters: Record<string, unknown>;
              config: Record<string, unknown>;
              totalSteps: number;
            };
          }[];
        };
      };
    }>(api.tokens.editor, LAUNCH, { spec: VALID });
    expect(response.errors).toBeUndefined();
    const sweep = response.data?.launchSweep;
    expect(sweep?.runCounts.total).toBe(4);
    const runs = sweep?.runs.edges.map((edge) => edge.node) ?? [];
    expect(runs.map((run) => run.hyperparameters)).toEqual([
      { learningRate: 0.001, optimizer: "adam" },
      { learningRate: 0.001, optimizer: "sgd" },
      { learningRate: 0.01, optimizer: "adam" },
      { learningRate: 0.01, optimizer: "sgd" },
    ]);
    expect(runs[3]?.config).toMatchObject({
      learningRate: 0.01,
      optimizer: "sgd",
      epochs: 2,
      finetuneEpochs: 1,
    });
    expect(runs[0]?.totalSteps).toBe(3);
  });

  it("expands the same random spec to the same runs", () => {
    const spec = {
      ...VALID,
      method: "random",
      runBudget: 5,
      searchSpace: {
        learningRate: { min: 1e-4, max: 1e-1, log: true },
        batchSize: { min: 16, max: 256 },
      },
    };
    const first = planSweep(spec);
    const second = planSweep(spec);
    expect(first.ok).toBe(true);
    expect(second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(first.plan.runs.map((run) => run.hyperparameters)).toEqual(
      second.plan.runs.map((run) => run.hyperparameters),
    );
    for (const run of first.plan.runs) {
      expect(Number.isInteger(run.config.batchSize)).toBe(true);
      expect(run.config.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(run.config.learningRate).toBeLessThanOrEqual(1e-1);
    }
  });
});
