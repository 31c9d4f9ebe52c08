import { describe, expect, it } from "vitest";
import { exceedsPointBudget, mergeLoggedPoints } from "../src/lib/merge-series";
import type { LoggedMetricPoint, MetricSeries, Phase } from "../src/lib/types";

const RUN = "00000000-0000-4000-8000-000000000001";
const OTHER_RUN = "00000000-0000-4000-8000-000000000002";
const wanted = { runIds: [RUN], keys: ["loss", "val_loss"] };

function logged(
  key: string,
  step: number,
  value: number,
  phase: Phase = "train",
): LoggedMetricPoint {
  return { runId: RUN, key, step, epoch: step, phase, value, wallTime: "2026-01-01T00:00:00Z" };
}

function lossSeries(steps: number[]): MetricSeries {
  return {
    runId: RUN,
    key: "loss",
    phase: "train",
    downsampled: false,
    points: steps.map((step) => ({
      step,
      epoch: step,
      phase: "train",
      value: step / 10,
      wallTime: Date.parse("2026-01-01T00:00:00Z"),
    })),
  };
}

describe("mergeLoggedPoints", () => {
  it("appends a later point to its series", () => {
    const merged = mergeLoggedPoints([lossSeries([1, 2])], [logged("loss", 3, 0.3)], wanted);

    expect(merged[0]?.points.map((point) => point.step)).toEqual([1, 2, 3]);
    expect(merged[0]?.points[2]).not.toHaveProperty("key");
  });

  it("replaces the point at the same step", () => {
    const merged = mergeLoggedPoints([lossSeries([1, 2])], [logged("loss", 2, 9)], wanted);

    expect(merged[0]?.points.map((point) => point.value)).toEqual([0.1, 9]);
  });

  it("inserts an earlier point in step order", () => {
    const merged = mergeLoggedPoints([lossSeries([1, 3])], [logged("loss", 2, 0.2)], wanted);

    expect(merged[0]?.points.map((point) => point.step)).toEqual([1, 2, 3]);
  });

  it("returns the same array for a point already there", () => {
    const series = [lossSeries([1, 2])];

    expect(mergeLoggedPoints(series, [logged("loss", 2, 0.2)], wanted)).toBe(series);
  });

  it("creates a series for a new key", () => {
    const merged = mergeLoggedPoints([lossSeries([1])], [logged("val_loss", 1, 0.5)], wanted);

    expect(merged).toHaveLength(2);
    expect(merged[1]).toMatchObject({ runId: RUN, key: "val_loss", phase: "train" });
  });

  it("skips points of other runs and keys", () => {
    const series = [lossSeries([1])];
    const points = [{ ...logged("loss", 2, 0.2), runId: OTHER_RUN }, logged("accuracy", 2, 0.9)];

    expect(mergeLoggedPoints(series, points, wanted)).toBe(series);
  });

  it("clears the phase of a series that spans both phases", () => {
    const merged = mergeLoggedPoints(
      [lossSeries([1])],
      [logged("loss", 2, 0.2, "finetune")],
      wanted,
    );

    expect(merged[0]?.phase).toBeNull();
  });
});

describe("exceedsPointBudget", () => {
  it("reports a series past twice the budget", () => {
    expect(exceedsPointBudget([lossSeries([1, 2, 3, 4])], 2)).toBe(false);
    expect(exceedsPointBudget([lossSeries([1, 2, 3, 4, 5])], 2)).toBe(true);
  });
});
