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

const PACKED = `query Packed($runIds: [ID!]!, $keys: [String!]!, $maxPoints: Int) {
  metricSeries(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
    key downsampled
    packed { length steps epochs phases values mins maxs wallTimes }
  }
}`;

interface PackedLine {
  key: string;
  downsampled: boolean;
  packed: {
    length: number;
    steps: number[];
    epochs: number[];
    phases: string[];
    values: string;
    mins: string | null;
    maxs: string | null;
    wallTimes: number[];
  };
}

function decodeFloat64s(base64: string | null): number[] {
  if (base64 === null) return [];
  const bytes = Buffer.from(base64, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, index) => view.getFloat64(index * 8, true));
}

async function packed(keys: string[], maxPoints: number): Promise<PackedLine[]> {
  const response = await api.request<{ metricSeries: PackedLine[] }>(api.tokens.viewer, PACKED, {
    runIds: [runId],
    keys,
    maxPoints,
  });
  expect(response.errors).toBeUndefined();
  return response.data?.metricSeries ?? [];
}

describe("metricSeries packed", () => {
  it("returns a short series unchanged", async () => {
    const [short] = await packed(["short"], 40);
    const expectedSteps = Array.from({ length: 40 }, (_, index) => index + 1);
    expect(short?.downsampled).toBe(false);
    expect(short?.packed.length).toBe(40);
    expect(short?.packed.steps).toEqual(expectedSteps);
    expect(short?.packed.epochs).toEqual(expectedSteps);
    expect(decodeFloat64s(short?.packed.values ?? "")).toEqual(expectedSteps.map(valueAt));
    expect(short?.packed.phases.every((phase) => phase === "train")).toBe(true);
    expect(short?.packed.mins).toBeNull();
    expect(short?.packed.maxs).toBeNull();
    expect(short?.packed.wallTimes).toHaveLength(40);
  });

  it("keeps a long series within maxPoints", async () => {
    const [long] = await packed(["long"], 100);
    expect(long?.downsampled).toBe(true);
    expect(long?.packed.length).toBeLessThanOrEqual(100);
    expect(long?.packed.steps).toHaveLength(long?.packed.length ?? -1);
    expect(decodeFloat64s(long?.packed.values ?? "")).toHaveLength(long?.packed.length ?? -1);
    expect(long?.packed.steps).toEqual([...(long?.packed.steps ?? [])].sort((a, b) => a - b));
  });

  it("keeps the min, max and last point of a long series", async () => {
    const [long] = await packed(["long"], 100);
    expect(Math.max(...decodeFloat64s(long?.packed.maxs ?? null))).toBe(50);
    expect(Math.min(...decodeFloat64s(long?.packed.mins ?? null))).toBe(-50);
    expect(long?.packed.steps.at(-1)).toBe(2_000);
    expect(decodeFloat64s(long?.packed.values ?? "").at(-1)).toBe(valueAt(2_000));
    expect(long?.packed.phases.at(-1)).toBe("finetune");
  });

  it("matches the points form", async () => {
    const [points] = await series(["long"], 100);
    const [line] = await packed(["long"], 100);
    expect(line?.packed.steps).toEqual(points?.points.map((point) => point.step));
    expect(decodeFloat64s(line?.packed.values ?? "")).toEqual(
      points?.points.map((point) => point.value),
    );
    expect(decodeFloat64s(line?.packed.mins ?? null)).toEqual(
      points?.points.map((point) => point.min),
    );
  });

  it("sees points written after a cached read", async () => {
    await insertSeries("growing", 10);
    const [before] = await packed(["growing"], 100);
    expect(before?.packed.length).toBe(10);

    // logMetrics updates the run row in the same statement as its insert; do the same here.
    await api.prisma.$executeRaw`
      INSERT INTO metric_point (run_id, phase, key, step, epoch, value, wall_time)
      VALUES (${runId}::uuid, 'train', 'growing', 11, 11, 0.5, now())`;
    await api.prisma.$executeRaw`UPDATE run SET step = 11 WHERE id = ${runId}::uuid`;

    const [after] = await packed(["growing"], 100);
    expect(after?.packed.length).toBe(11);
    expect(after?.packed.steps.at(-1)).toBe(11);
  });
});
