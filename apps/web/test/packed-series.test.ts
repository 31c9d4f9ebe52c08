import { describe, expect, it } from "vitest";
import { decodeFloat64Base64, unpackSeries } from "../src/lib/packed-series";
import type { PackedMetricSeries } from "../src/lib/types";

/** Encodes as the API's Float64Base64 scalar does: little-endian float64 bytes in base64. */
function encode(values: number[]): string {
  const view = new DataView(new ArrayBuffer(8 * values.length));
  values.forEach((value, index) => {
    view.setFloat64(8 * index, value, true);
  });
  return Buffer.from(view.buffer).toString("base64");
}

/** One line of two points whose values column is `values`, encoded. */
function twoPointLine(values: number[]): PackedMetricSeries {
  return {
    runId: "r",
    key: "loss",
    phase: null,
    downsampled: false,
    packed: {
      length: 2,
      steps: [1, 2],
      epochs: [1, 1],
      phases: ["train", "finetune"],
      values: encode(values),
      wallTimes: [1_000, 2_000],
    },
  };
}

describe("packed metric series", () => {
  it("decodes float64 values exactly", () => {
    const values = [0.1, -2.5e-300, 1 / 3, 0, 12345.678];
    expect(decodeFloat64Base64(encode(values))).toEqual(values);
  });

  it("unpacks a line in order", () => {
    const [line] = unpackSeries([twoPointLine([0.5, 0.25])]);
    expect(line?.points).toEqual([
      { step: 1, epoch: 1, phase: "train", value: 0.5, wallTime: 1_000 },
      { step: 2, epoch: 1, phase: "finetune", value: 0.25, wallTime: 2_000 },
    ]);
  });

  it("rejects too few values", () => {
    expect(() => unpackSeries([twoPointLine([0.5])])).toThrow(/2 points/);
  });
});
