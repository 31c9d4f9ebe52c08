import { SEED_RECIPE } from "@convnet/shared";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestApi, type TestApi } from "./support/api-server";

const SERIES = `query Series($runIds: [ID!]!, $keys: [String!]!, $maxPoints: Int, $phase: Phase) {
  metricSeries(runIds: $runIds, keys: $keys, maxPoints: $maxPoints, phase: $phase) {
    runId key downsampled points { step epoch phase value min max }
  }
}`;

interface Point {
  step: number;
  epoch: number;
  phase: string;
  value: number;
  min: number | null;
  max: number | null;
}
interface Series {
  runId: string;
  key: string;
  downsampled: boolean;
  points: Point[];
}

let api: TestApi;
let runId: string;

/** A deterministic wobbly curve with one spike and one dip, so min and max are known. */
function valueAt(step: number): number {
  if (step === 777) return 50;
  if (step === 1234) return -50;
  return Math.sin(step / 10) + step / 1000;
}

async function insertSeries(key: string, steps: number, finetuneFrom = Number.POSITIVE_INFINITY) {
  const rows = Array.from({ length: steps }, (_, index) => index + 1);
  await api.prisma.$executeRaw`
    INSERT INTO metric_point (run_id, phase, key, step, epoch, value, wall_time)
    SELECT ${runId}::uuid, CASE WHEN s >= ${finetuneFrom} THEN 'finetune' ELSE 'train' END::"Phase",
      ${key}, s, s, v, now()
    FROM unnest(${rows}::int[], ${rows.map(valueAt)}::float8[]) AS t(s, v)`;
}

beforeAll(async () => {
  api = await startTestApi(inject("serverUrl"));
  const run = await api.prisma.run.create({
    data: {
      name: "series",
      hyperparameters: {},
      config: SEED_RECIPE,
      architecture: SEED_RECIPE.architecture,
      dataset: SEED_RECIPE.dataset,
      seed: SEED_RECIPE.seed,
      totalSteps: 20,
    },
  });
  runId = run.id;
  await insertSeries("short", 40);
  await insertSeries("long", 2_000, 1_500);
});

afterAll(async () => {
  await api?.stop();
});

async function series(keys: string[], maxPoints: number, phase?: string): Promise<Series[]> {
  const response = await api.request<{ metricSeries: Series[] }>(api.tokens.viewer, SERIES, {
    runIds: [runId],
    keys,
    maxPoints,
    phase,
  });
  expect(response.errors).toBeUndefined();
  return response.data?.metricSeries ?? [];
}

describe("metricSeries", () => {
  it("returns a short series unchanged", async () => {
    const [short] = await series(["short"], 40);
    expect(short?.downsampled).toBe(false);
    expect(short?.points).toHaveLength(40);
    short?.points.forEach((point, index) => {
      expect(point.step).toBe(index + 1);
      expect(point.value).toBe(valueAt(index + 1));
      expect(point.min).toBeNull();
      expect(point.max).toBeNull();
    });
  });

  it("keeps a long series within maxPoints", async () => {
    const [long] = await series(["long"], 100);
    expect(long?.downsampled).toBe(true);
    expect(long?.points.length).toBeLessThanOrEqual(100);
    expect(long?.points.length).toBeGreaterThan(90);
  });

  it("keeps the minimum and maximum of a long series", async () => {
    const [long] = await series(["long"], 100);
    const points = long?.points ?? [];
    expect(Math.max(...points.map((point) => point.max ?? Number.NEGATIVE_INFINITY))).toBe(50);
    expect(Math.min(...points.map((point) => point.min ?? Number.POSITIVE_INFINITY))).toBe(-50);
  });

  it("keeps the last point of a long series", async () => {
    const [long] = await series(["long"], 100);
    const last = long?.points.at(-1);
    expect(last?.step).toBe(2_000);
    expect(last?.value).toBe(valueAt(2_000));
    expect(last?.phase).toBe("finetune");
  });

  it("orders downsampled points by step", async () => {
    const [long] = await series(["long"], 100);
    const steps = long?.points.map((point) => point.step) ?? [];
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it("returns every run and key asked for, in one call", async () => {
    const result = await series(["short", "long", "missing"], 100);
    expect(result.map((line) => line.key)).toEqual(["short", "long", "missing"]);
    expect(result[2]?.points).toEqual([]);
  });

  it("filters by phase", async () => {
    const [finetune] = await series(["long"], 1_000, "finetune");
    expect(finetune?.downsampled).toBe(false);
    expect(finetune?.points).toHaveLength(501);
    expect(finetune?.points.every((point) => point.phase === "finetune")).toBe(true);
  });
});
