import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";
import { winogradApplies } from "../src/backend/wasm/winograd";

// The Winograd convolutions replace the wasm backend's 3x3 stride-1 convolution, its input
// gradient and its filter gradient wherever channel counts allow. Each case is checked against the
// cpu backend's direct convolution, and each first checks that wasm takes the Winograd path, so
// that a change in the conditions cannot leave these tests passing on the stock kernels.

/** Tolerance on max |wasm - cpu| / max |cpu|. The transforms add rounding errors near 1e-5. */
const RELATIVE_TOLERANCE = 1e-4;

interface WinogradCase {
  name: string;
  input: [number, number, number, number];
  outChannels: number;
  pad: "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]];
}

const CASES: WinogradCase[] = [
  { name: "the VGG model's second layer", input: [4, 28, 28, 32], outChannels: 32, pad: "same" },
  // 4 tiles per image and 64 tiles per round: 40 images leave a last round of 8.
  { name: "partial tiles and a partial round", input: [40, 7, 5, 8], outChannels: 4, pad: "same" },
  { name: "'valid' padding", input: [40, 9, 6, 4], outChannels: 8, pad: "valid" },
  // 12 output channels: one block of eight and one of four in the filter-gradient products.
  { name: "an odd block of outputs", input: [8, 13, 11, 16], outChannels: 12, pad: "valid" },
  {
    name: "explicit uneven padding",
    input: [8, 12, 10, 8],
    outChannels: 20,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
];

function random(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

/** Computes `compute` on cpu and on wasm from the same values, and compares each output. */
function expectSameOnBothBackends(
  inputs: { shape: number[]; seed: number }[],
  compute: (...tensors: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): void {
  tf.setBackend("cpu");
  const values = inputs.map(({ shape, seed }) => tf.tidy(() => random(shape, seed).dataSync()));
  const run = (backend: "cpu" | "wasm") => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const tensors = inputs.map(({ shape }, index) => tf.tensor(values[index] ?? [], shape));
      const result = compute(...tensors);
      return (Array.isArray(result) ? result : [result]).map((t) => t.dataSync());
    });
  };
  const expected = run("cpu");
  const actual = run("wasm");
  expect(actual.length).toBe(expected.length);
  actual.forEach((output, index) => {
    const reference = expected[index] as Float32Array;
    expect(output.length).toBe(reference.length);
    let maxDifference = 0;
    let maxReference = 0;
    reference.forEach((value, i) => {
      maxDifference = Math.max(maxDifference, Math.abs((output[i] as number) - value));
      maxReference = Math.max(maxReference, Math.abs(value));
    });
    expect(maxDifference / maxReference).toBeLessThan(RELATIVE_TOLERANCE);
  });
}

function convInfo(c: WinogradCase): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.input, [3, 3, c.input[3], c.outChannels], 1, 1, c.pad);
}

function outputShape(c: WinogradCase): [number, number, number, number] {
  const info = convInfo(c);
  return [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
}

beforeAll(async () => {
  await selectBackend("cpu");
  await selectBackend("wasm");
});

describe("Winograd convolutions on wasm", () => {
  test.each(CASES.map((c) => [c.name, c] as const))("apply to %s", (_, c) => {
    tf.setBackend("wasm");
    expect(winogradApplies(tf.backend() as BackendWasm, convInfo(c))).toBe(true);
  });

  test("skip few tiles and odd channels", () => {
    tf.setBackend("wasm");
    const backend = tf.backend() as BackendWasm;
    const info = (input: [number, number, number, number], outChannels: number) =>
      tf.backend_util.computeConv2DInfo(input, [3, 3, input[3], outChannels], 1, 1, "same");
    expect(winogradApplies(backend, info([1, 7, 7, 64], 64))).toBe(false);
    expect(winogradApplies(backend, info([16, 28, 28, 3], 32))).toBe(false);
    expect(winogradApplies(backend, info([16, 28, 28, 32], 10))).toBe(false);
  });

  test.each(CASES.map((c) => [c.name, c] as const))("conv2d matches cpu for %s", (_, c) => {
    const filterShape = [3, 3, c.input[3], c.outChannels];
    expectSameOnBothBackends(
      [
        { shape: c.input, seed: 1 },
        { shape: filterShape, seed: 2 },
      ],
      (x, filter) => tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, c.pad),
    );
  });

  test.each(CASES.map((c) => [c.name, c] as const))(
    "fused conv2d with bias and relu matches cpu for %s",
    (_, c) => {
      const filterShape = [3, 3, c.input[3], c.outChannels];
      expectSameOnBothBackends(
        [
          { shape: c.input, seed: 3 },
          { shape: filterShape, seed: 4 },
          { shape: [c.outChannels], seed: 5 },
        ],
        (x, filter, bias) =>
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: filter as tf.Tensor4D,
            bias,
            strides: 1,
            pad: c.pad,
            activation: "relu",
          }),
      );
    },
  );

  test.each(CASES.map((c) => [c.name, c] as const))(
    "input and filter gradients match cpu for %s",
    (_, c) => {
      const filterShape: [number, number, number, number] = [3, 3, c.input[3], c.outChannels];
      const attrs = { strides: [1, 1], pad: c.pad, dataFormat: "NHWC" };
      expectSameOnBothBackends(
        [
          { shape: c.input, seed: 6 },
          { shape: outputShape(c), seed: 7 },
          { shape: filterShape, seed: 8 },
        ],
        (x, dy, filter) => [
          tf.engine().runKernel(
            "Conv2DBackpropFilter",
            { x, dy } as tf.NamedTensorMap,
            {
              ...attrs,
              filterShape,
            } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
          tf.engine().runKernel(
            "Conv2DBackpropInput",
            { dy, filter } as tf.NamedTensorMap,
            {
              ...attrs,
              inputShape: c.input,
            } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        ],
      );
    },
  );
});
