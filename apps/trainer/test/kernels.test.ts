import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";

// Every kernel this package registers for wasm is checked against the pure-JS cpu backend, which
// follows TensorFlow's semantics. Inputs are plain arrays so that each backend builds its own tensors.

type Values = Float32Array | Int32Array | Uint8Array;
type Computation = () => tf.Tensor | tf.Tensor[];

/** Tolerance on max |wasm - cpu| / max |cpu|, so that values near zero do not dominate. */
const RELATIVE_TOLERANCE = 1e-4;

/** Deterministic pseudo-random numbers, so that a failure reproduces. */
function randomValues(size: number, seed: number, low = -1, high = 1): Float32Array {
  let state = seed >>> 0 || 1;
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = low + ((state >>> 0) / 2 ** 32) * (high - low);
  }
  return values;
}

function randomIntegers(size: number, seed: number, low: number, high: number): Float32Array {
  return randomValues(size, seed, low, high + 1).map(Math.floor);
}

function runOn(backend: "wasm" | "cpu", compute: Computation): Values[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const result = compute();
    return (Array.isArray(result) ? result : [result]).map((t) => t.dataSync() as Values);
  });
}

function relativeError(actual: Values, expected: Values): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((actual[i] as number) - (expected[i] as number)));
    maxRef = Math.max(maxRef, Math.abs(expected[i] as number));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** Runs `compute` on both backends and checks that each output matches in shape and value. */
function expectSameOnBothBackends(compute: Computation): void {
  const expected = runOn("cpu", compute);
  const actual = runOn("wasm", compute);
  expect(actual.length).toBe(expected.length);
  actual.forEach((values, index) => {
    const reference = expected[index] as Values;
    expect(values.length).toBe(reference.length);
    expect(relativeError(values, reference)).toBeLessThan(RELATIVE_TOLERANCE);
  });
}

function runKernel(
  kernelName: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
): tf.Tensor {
  return tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

interface ConvCase {
  inputShape: [number, number, number, number];
  kernelSize: number;
  outChannels: number;
  stride: number;
  pad: "valid" | "same";
}

const CONV_CASES: ConvCase[] = [];
for (const pad of ["valid", "same"] as const) {
  for (const stride of [1, 2]) {
    for (const kernelSize of [1, 3, 5]) {
      CONV_CASES.push({ inputShape: [2, 9, 10, 1], kernelSize, outChannels: 4, stride, pad });
      CONV_CASES.push({ inputShape: [3, 8, 7, 3], kernelSize, outChannels: 8, stride, pad });
      CONV_CASES.push({ inputShape: [1, 11, 11, 8], kernelSize, outChannels: 5, stride, pad });
    }
  }
}
CONV_CASES.push({
  inputShape: [2, 9, 10, 1],
  kernelSize: 3,
  outChannels: 16,
  stride: 2,
  pad: "same",
});
CONV_CASES.push({
  inputShape: [4, 28, 28, 1],
  kernelSize: 3,
  outChannels: 32,
  stride: 1,
  pad: "valid",
});
CONV_CASES.push({
  inputShape: [2, 14, 14, 32],
  kernelSize: 3,
  outChannels: 64,
  stride: 1,
  pad: "same",
});
// Patches smaller than dy over more than 8,192 positions: the filter gradient sums several chunks.
CONV_CASES.push({
  inputShape: [3, 64, 64, 1],
  kernelSize: 3,
  outChannels: 16,
  stride: 1,
  pad: "same",
});
CONV_CASES.push({
  inputShape: [5, 50, 50, 2],
  kernelSize: 3,
  outChannels: 32,
  stride: 1,
  pad: "same",
});
CONV_CASES.push({
  inputShape: [2, 14, 14, 16],
  kernelSize: 1,
  outChannels: 32,
  stride: 2,
  pad: "same",
});

// Batches of more than 16 images with a partial last chunk: the filter gradient sums chunks.
CONV_CASES.push({
  inputShape: [37, 10, 10, 8],
  kernelSize: 3,
  outChannels: 8,
  stride: 1,
  pad: "same",
});
CONV_CASES.push({
  inputShape: [33, 10, 10, 6],
  kernelSize: 3,
  outChannels: 5,
  stride: 2,
  pad: "valid",
});

// Image and channel counts that are multiples of 4 lay out their planes with the SIMD kernel, with
// and without padding; 20 images leave a last chunk of 4.
CONV_CASES.push({
  inputShape: [4, 14, 14, 32],
  kernelSize: 3,
  outChannels: 64,
  stride: 1,
  pad: "same",
});
CONV_CASES.push({
  inputShape: [8, 9, 7, 4],
  kernelSize: 3,
  outChannels: 8,
  stride: 1,
  pad: "valid",
});
CONV_CASES.push({
  inputShape: [20, 6, 7, 8],
  kernelSize: 3,
  outChannels: 4,
  stride: 2,
  pad: "same",
});

function describeConv(c: ConvCase): string {
  return `${c.inputShape.join("x")} k${c.kernelSize} out${c.outChannels} s${c.stride} ${c.pad}`;
}

function convOutputShape(c: ConvCase): [number, number, number, number] {
  const [batch, height, width] = c.inputShape;
  const size = (n: number) =>
    c.pad === "same" ? Math.ceil(n / c.stride) : Math.floor((n - c.kernelSize) / c.stride) + 1;
  return [batch, size(height), size(width), c.outChannels];
}

beforeAll(async () => {
  await selectBackend("cpu");
  await selectBackend("wasm");
});

describe("Conv2DBackpropFilter on wasm", () => {
  test.each(CONV_CASES.map((c) => [describeConv(c), c] as const))("matches cpu for %s", (_, c) => {
    const dyShape = convOutputShape(c);
    const xValues = randomValues(tf.util.sizeFromShape(c.inputShape), 1);
    const dyValues = randomValues(tf.util.sizeFromShape(dyShape), 2);
    const filterShape = [c.kernelSize, c.kernelSize, c.inputShape[3], c.outChannels];
    expectSameOnBothBackends(() =>
      runKernel(
        "Conv2DBackpropFilter",
        { x: tf.tensor4d(xValues, c.inputShape), dy: tf.tensor4d(dyValues, dyShape) },
        { strides: [c.stride, c.stride], pad: c.pad, dataFormat: "NHWC", filterShape },
      ),
    );
  });
});

describe("Conv2DBackpropInput on wasm", () => {
  test.each(CONV_CASES.map((c) => [describeConv(c), c] as const))("matches cpu for %s", (_, c) => {
    const dyShape = convOutputShape(c);
    const filterShape: [number, number, number, number] = [
      c.kernelSize,
      c.kernelSize,
      c.inputShape[3],
      c.outChannels,
    ];
    const filterValues = randomValues(tf.util.sizeFromShape(filterShape), 3);
    const dyValues = randomValues(tf.util.sizeFromShape(dyShape), 4);
    expectSameOnBothBackends(() =>
      runKernel(
        "Conv2DBackpropInput",
        { dy: tf.tensor4d(dyValues, dyShape), filter: tf.tensor4d(filterValues, filterShape) },
        { strides: [c.stride, c.stride], pad: c.pad, dataFormat: "NHWC", inputShape: c.inputShape },
      ),
    );
  });
});

describe("Conv2D of one-channel images on wasm", () => {
  // 36 output channels run one block of 32 in registers and one vector of 4 after it.
  const cases: ConvCase[] = [
    ...CONV_CASES.filter((c) => c.inputShape[3] === 1 && c.outChannels % 4 === 0),
    { inputShape: [2, 9, 10, 1], kernelSize: 3, outChannels: 36, stride: 1, pad: "same" },
  ];

  test("covers a block of 32 and a tail", () => {
    expect(cases.map((c) => c.outChannels)).toEqual(expect.arrayContaining([4, 32, 36]));
  });

  test.each(cases.map((c) => [describeConv(c), c] as const))("matches cpu for %s", (_, c) => {
    const filterShape: [number, number, number, number] = [
      c.kernelSize,
      c.kernelSize,
      1,
      c.outChannels,
    ];
    const xValues = randomValues(tf.util.sizeFromShape(c.inputShape), 13);
    const filterValues = randomValues(tf.util.sizeFromShape(filterShape), 14);
    const biasValues = randomValues(c.outChannels, 15);
    expectSameOnBothBackends(() => {
      const x = tf.tensor4d(xValues, c.inputShape);
      const filter = tf.tensor4d(filterValues, filterShape);
      return [
        tf.conv2d(x, filter, c.stride, c.pad),
        tf.fused.conv2d({
          x,
          filter,
          bias: tf.tensor1d(biasValues),
          strides: c.stride,
          pad: c.pad,
          activation: "relu",
        }),
      ];
    });
  });
});

describe("conv2d gradients on wasm", () => {
  test.each([
    ["relu", 1, "valid"],
    ["linear", 1, "same"],
    ["linear", 2, "same"],
    ["relu", 2, "valid"],
  ] as const)("match cpu through the fused %s path, stride %d, %s", (activation, stride, pad) => {
    const xValues = randomValues(2 * 9 * 9 * 3, 5);
    const filterValues = randomValues(3 * 3 * 3 * 4, 6);
    const biasValues = randomValues(4, 7);
    expectSameOnBothBackends(() => {
      const x = tf.tensor4d(xValues, [2, 9, 9, 3]);
      const filter = tf.tensor4d(filterValues, [3, 3, 3, 4]);
      const bias = tf.tensor1d(biasValues);
      const loss = (a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        tf.fused
          .conv2d({
            x: a as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            bias: b,
            strides: stride,
            pad,
            activation,
          })
          .square()
          .sum();
      return tf.grads(loss)([x, filter, bias]);
    });
  });

  test.each([
    ["relu", 1, "valid"],
    ["linear", 2, "same"],
  ] as const)(
    "match the unfused ops through the %s path, stride %d, %s, on both backends",
    (activation, stride, pad) => {
      const xValues = randomValues(2 * 9 * 9 * 3, 8);
      const filterValues = randomValues(3 * 3 * 3 * 4, 9);
      const biasValues = randomValues(4, 10);
      for (const backend of ["cpu", "wasm"] as const) {
        const [fused, unfused] = [true, false].map((useFused) =>
          runOn(backend, () => {
            const x = tf.tensor4d(xValues, [2, 9, 9, 3]);
            const filter = tf.tensor4d(filterValues, [3, 3, 3, 4]);
            const bias = tf.tensor1d(biasValues);
            const loss = (a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => {
              const input = { x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: stride, pad };
              if (useFused)
                return tf.fused
                  .conv2d({ ...input, bias: b, activation })
                  .square()
                  .sum();
              const linear = tf.add(tf.conv2d(input.x, input.filter, stride, pad), b);
              return (activation === "relu" ? tf.relu(linear) : linear).square().sum();
            };
            return tf.grads(loss)([x, filter, bias]);
          }),
        );
        expect(fused?.length).toBe(3);
        fused?.forEach((values, index) => {
          expect(relativeError(values, unfused?.[index] as Values)).toBeLessThan(
            RELATIVE_TOLERANCE,
          );
        });
      }
    },
  );

  test("skip the input gradient of a fused conv2d whose input needs none", () => {
    tf.setBackend("wasm");
    const seen: string[] = [];
    const config = tf.getKernel("Conv2DBackpropInput", "wasm");
    if (!config) throw new Error("Conv2DBackpropInput is not registered for wasm.");
    tf.unregisterKernel("Conv2DBackpropInput", "wasm");
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        seen.push("Conv2DBackpropInput");
        return config.kernelFunc(args);
      },
    });
    try {
      tf.tidy(() => {
        const x = tf.tensor4d(randomValues(2 * 6 * 6 * 1, 11), [2, 6, 6, 1]);
        const filter = tf.variable(tf.tensor4d(randomValues(3 * 3 * 1 * 4, 12), [3, 3, 1, 4]));
        const { grads } = tf.variableGrads(() =>
          tf.fused.conv2d({ x, filter, strides: 1, pad: "same" }).square().sum(),
        );
        expect(grads[filter.name]?.shape).toEqual([3, 3, 1, 4]);
        filter.dispose();
      });
    } finally {
      tf.unregisterKernel("Conv2DBackpropInput", "wasm");
      tf.registerKernel(config);
    }
    expect(seen).toEqual([]);
  });
});

describe("MaxPoolGrad on wasm", () => {
  const cases = [
    { shape: [2, 8, 8, 3], pool: 2, stride: 2, pad: "valid" },
    // Odd sizes leave a last row and column that no 2x2 tile covers.
    { shape: [2, 9, 7, 3], pool: 2, stride: 2, pad: "valid" },
    { shape: [2, 9, 7, 4], pool: 2, stride: 2, pad: "same" },
    { shape: [1, 7, 7, 2], pool: 3, stride: 1, pad: "same" },
    { shape: [2, 9, 9, 5], pool: 3, stride: 2, pad: "valid" },
    // Channel counts that are multiples of 4 take the SIMD kernel.
    { shape: [2, 8, 8, 8], pool: 2, stride: 2, pad: "valid" },
    { shape: [3, 9, 7, 4], pool: 2, stride: 2, pad: "valid" },
  ] as const;

  test.each(
    cases.map(
      (c) => [`${c.shape.join("x")} pool ${c.pool} stride ${c.stride} ${c.pad}`, c] as const,
    ),
  )("matches cpu for %s", (_, c) => {
    const size = tf.util.sizeFromShape([...c.shape]);
    // Small integers make ties and all-negative windows frequent.
    const xValues = randomIntegers(size, 8, -4, 2);
    expectSameOnBothBackends(() => {
      const x = tf.tensor4d(xValues, [...c.shape]);
      // Weighting the pooled values gives each window a different upstream gradient.
      return tf.grad((input: tf.Tensor) => {
        const pooled = tf.maxPool(input as tf.Tensor4D, c.pool, c.stride, c.pad);
        return pooled.mul(tf.tensor(randomValues(pooled.size, 9), pooled.shape)).sum();
      })(x);
    });
  });

  test("routes gradient of an all-negative window", () => {
    const x = tf.tensor4d([-3, -1, -2, -5], [1, 2, 2, 1]);
    for (const backend of ["cpu", "wasm"] as const) {
      const [grad] = runOn(backend, () =>
        tf.grad((input: tf.Tensor) => tf.maxPool(input as tf.Tensor4D, 2, 2, "valid").sum())(x),
      );
      expect(Array.from(grad as Values)).toEqual([0, 1, 0, 0]);
    }
  });

  test("routes special values as on cpu", () => {
    // Per channel, one 2x2 window: NaN never wins, -Infinity passes nothing, ties go first.
    const windows = [
      [Number.NaN, 1, 2, Number.NaN],
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, Number.NEGATIVE_INFINITY],
      [3, 3, 3, 3],
      [-2, Number.NEGATIVE_INFINITY, -2, -1],
    ];
    const values = new Float32Array(16);
    windows.forEach((window, channel) => {
      window.forEach((value, cell) => {
        values[cell * 4 + channel] = value;
      });
    });
    const x = tf.tensor4d(values, [1, 2, 2, 4]);
    const upstream = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const gradients = (["cpu", "wasm"] as const).map((backend) => {
      const [grad] = runOn(backend, () =>
        tf.grad((input: tf.Tensor) =>
          tf
            .maxPool(input as tf.Tensor4D, 2, 2, "valid")
            .mul(upstream)
            .sum(),
        )(x),
      );
      return Array.from(grad as Values);
    });
    expect(gradients[1]).toEqual(gradients[0]);
    expect(gradients[1]).toEqual([0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4]);
  });

  test("routes gradient of a tie to the first maximum", () => {
    const x = tf.tensor4d([0.5, 2, 2, 2], [1, 2, 2, 1]);
    const [grad] = runOn("wasm", () =>
      tf.grad((input: tf.Tensor) => tf.maxPool(input as tf.Tensor4D, 2, 2, "valid").sum())(x),
    );
    expect(Array.from(grad as Values)).toEqual([0, 1, 0, 0]);
  });
});

describe("BatchMatMul on wasm", () => {
  const shapes = [
    { a: [5, 7], b: [7, 3] },
    { a: [128, 300], b: [300, 16] },
    { a: [2, 6, 4], b: [2, 4, 5] },
    { a: [3, 6, 4], b: [4, 5] },
    // Over 2^20 multiply-adds: the SIMD kernel, with inner panels of 256 and a partial last one,
    // a block of 4 columns after the blocks of 8, a batch dimension of one, and 2 rows left over.
    { a: [1, 132, 600], b: [1, 600, 20] },
    { a: [130, 520], b: [520, 24] },
    // With transposeB, the product is formed transposed: its 66 rows leave 2 over.
    { a: [64, 300], b: [300, 66] },
  ];
  const transposes = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const;

  for (const { a, b } of shapes) {
    test.each(transposes)(
      `matches cpu for ${a.join("x")} by ${b.join("x")}, transposeA %s, transposeB %s`,
      (transposeA, transposeB) => {
        const shapeA = [...a];
        const shapeB = [...b];
        const rank = shapeA.length;
        if (transposeA) [shapeA[rank - 1], shapeA[rank - 2]] = [a[rank - 2] ?? 0, a[rank - 1] ?? 0];
        const rankB = shapeB.length;
        if (transposeB)
          [shapeB[rankB - 1], shapeB[rankB - 2]] = [b[rankB - 2] ?? 0, b[rankB - 1] ?? 0];
        const aValues = randomValues(tf.util.sizeFromShape(shapeA), 10);
        const bValues = randomValues(tf.util.sizeFromShape(shapeB), 11);
        expectSameOnBothBackends(() =>
          tf.matMul(tf.tensor(aValues, shapeA), tf.tensor(bValues, shapeB), transposeA, transposeB),
        );
      },
    );
  }

  test.each(transposes)(
    "fused product matches cpu, transposeA %s, transposeB %s",
    (transposeA, transposeB) => {
      const aValues = randomValues(6 * 9, 12);
      const bValues = randomValues(9 * 4, 13);
      const biasValues = randomValues(4, 14);
      expectSameOnBothBackends(() =>
        tf.fused.matMul({
          a: tf.tensor2d(aValues, transposeA ? [9, 6] : [6, 9]),
          b: tf.tensor2d(bValues, transposeB ? [4, 9] : [9, 4]),
          transposeA,
          transposeB,
          bias: tf.tensor1d(biasValues),
          activation: "relu",
        }),
      );
    },
  );
});

describe("Sum on wasm", () => {
  test.each([
    [[0], false],
    [[0, 1, 2], false],
    [[0, 1], true],
    [[3], false],
    [[1, 2], false],
    [[0, 1, 2, 3], false],
  ] as const)("matches cpu over axes %j, keepDims %s", (axes, keepDims) => {
    const values = randomValues(4 * 6 * 5 * 3, 15);
    expectSameOnBothBackends(() => tf.tensor4d(values, [4, 6, 5, 3]).sum([...axes], keepDims));
  });

  test("matches cpu over 21 leading rows, eight at a time and five left over", () => {
    const values = randomValues(3 * 7 * 5, 16);
    expectSameOnBothBackends(() => tf.tensor3d(values, [3, 7, 5]).sum([0, 1]));
  });

  // Twelve columns take the SIMD kernel; 1,001 rows end inside a 64-row block, and an offset of
  // 50 would show float32 running sums drifting.
  test("matches cpu for SIMD column sums", () => {
    const values = randomValues(7 * 143 * 12, 22, 49, 51);
    expectSameOnBothBackends(() => tf.tensor3d(values, [7, 143, 12]).sum([0, 1]));
  });
});

describe("Transpose on wasm", () => {
  test.each([
    // Sides that are multiples of 4 take the SIMD kernel; 20 rows end inside a 16-row tile.
    [
      [20, 12],
      [1, 0],
    ],
    [
      [128, 36],
      [1, 0],
    ],
    [
      [6, 8],
      [1, 0],
    ],
    [
      [3, 4, 8],
      [2, 0, 1],
    ],
  ] as const)("matches cpu for %j, perm %j", (shape, perm) => {
    const values = randomValues(tf.util.sizeFromShape([...shape]), 23);
    expectSameOnBothBackends(() => tf.transpose(tf.tensor(values, [...shape]), [...perm]));
  });

  test("keeps int32 values exact", () => {
    const values = Int32Array.from({ length: 32 }, (_, index) => index * 1_000_003);
    const [transposed] = runOn("wasm", () => tf.transpose(tf.tensor2d(values, [4, 8], "int32")));
    const expected = Array.from(
      { length: 32 },
      (_, index) => values[(index % 4) * 8 + Math.floor(index / 4)],
    );
    expect(Array.from(transposed as Values)).toEqual(expected);
  });
});

describe("Mean and Tile on wasm", () => {
  test.each([[[0]], [[0, 1, 2]], [[3]], [[1, 2]]] as const)(
    "mean matches cpu over axes %j",
    (axes) => {
      const values = randomValues(4 * 6 * 5 * 3, 25);
      expectSameOnBothBackends(() => tf.tensor4d(values, [4, 6, 5, 3]).mean([...axes]));
    },
  );

  test.each([
    [
      [1, 1, 1, 3],
      [4, 6, 5, 1],
    ],
    [
      [2, 1, 3, 2],
      [1, 3, 2, 2],
    ],
    [
      [2, 3, 1, 1],
      [2, 1, 1, 3],
    ],
    [
      [1, 2, 3],
      [5, 1, 1],
    ],
  ] as const)("tile of shape %j by %j matches cpu", (shape, reps) => {
    const values = randomValues(tf.util.sizeFromShape([...shape]), 26);
    expectSameOnBothBackends(() => tf.tensor(values, [...shape]).tile([...reps]));
  });

  test("tile of int32 channel values matches cpu", () => {
    const values = randomIntegers(4, 27, -50, 50);
    expectSameOnBothBackends(() => tf.tensor3d(values, [1, 1, 4], "int32").tile([2, 3, 1]));
  });

  test.each([
    [
      [0, 1, 2],
      [3, 5, 4, 6],
    ],
    [[0], [7, 5]],
    [
      [1, 2],
      [3, 5, 4, 6],
    ],
  ] as const)("mean gradient over axes %j of %j matches cpu", (axes, shape) => {
    const values = randomValues(tf.util.sizeFromShape([...shape]), 28);
    const weights = randomValues(tf.util.sizeFromShape([...shape]), 29);
    expectSameOnBothBackends(() => {
      const w = tf.tensor(weights, [...shape]);
      const loss = (x: tf.Tensor) =>
        x
          .mean([...axes])
          .square()
          .sum()
          .add(
            x
              .mul(w)
              .mean([...axes])
              .sum(),
          );
      return tf.grad(loss)(tf.tensor(values, [...shape]));
    });
  });

  test("mean gradient is dy over the count, broadcast", () => {
    tf.setBackend("wasm");
    const gradient = tf.tidy(() => {
      const dy = tf.tensor1d([1, 2, 3]);
      const loss = (x: tf.Tensor) => x.mean([0, 1]).mul(dy).sum();
      return tf
        .grad(loss)(tf.zeros([2, 2, 3]))
        .dataSync();
    });
    const quarter = [0.25, 0.5, 0.75];
    expect(Array.from(gradient)).toEqual([...quarter, ...quarter, ...quarter, ...quarter]);
  });
});

describe("FusedBatchNorm on wasm", () => {
  test.each([
    ["per-channel statistics", [4, 5, 6, 8], [8], true],
    ["statistics of shape [1, 1, 1, c]", [3, 4, 4, 5], [1, 1, 1, 5], true],
    ["no scale or offset", [4, 5, 6, 8], [8], false],
    ["a dense layer's statistics", [16, 12], [12], true],
    ["single-value statistics", [2, 3, 3, 4], [1], true],
  ] as const)("matches cpu for %s", (_, xShape, statShape, affine) => {
    const size = tf.util.sizeFromShape([...statShape]);
    const x = randomValues(tf.util.sizeFromShape([...xShape]), 30, -3, 5);
    const mean = randomValues(size, 31);
    const variance = randomValues(size, 32, 0.1, 2);
    const offset = randomValues(size, 33);
    const scale = randomValues(size, 34, 0.5, 1.5);
    expectSameOnBothBackends(() =>
      tf.batchNorm(
        tf.tensor(x, [...xShape]),
        tf.tensor(mean, [...statShape]),
        tf.tensor(variance, [...statShape]),
        affine ? tf.tensor(offset, [...statShape]) : undefined,
        affine ? tf.tensor(scale, [...statShape]) : undefined,
        1e-3,
      ),
    );
  });

  test.each([[[6, 3]], [[2, 3, 2, 4]]] as const)(
    "gradients for x of shape %j match the closed form",
    (xShape) => {
      const channels = xShape[xShape.length - 1] as number;
      const size = tf.util.sizeFromShape([...xShape]);
      const x = randomValues(size, 40, -2, 2);
      const weights = randomValues(size, 41);
      const mean = randomValues(channels, 42);
      const variance = randomValues(channels, 43, 0.2, 2);
      const offset = randomValues(channels, 44);
      const scale = randomValues(channels, 45, 0.5, 1.5);
      const epsilon = 1e-3;

      const expected = {
        x: new Float64Array(size),
        mean: new Float64Array(channels),
        variance: new Float64Array(channels),
        offset: new Float64Array(channels),
        scale: new Float64Array(channels),
      };
      for (let i = 0; i < size; i++) {
        const c = i % channels;
        const inverseStd = 1 / Math.sqrt((variance[c] as number) + epsilon);
        const w = weights[i] as number;
        const centered = (x[i] as number) - (mean[c] as number);
        const s = scale[c] as number;
        expected.x[i] = w * s * inverseStd;
        expected.mean[c] = (expected.mean[c] as number) - w * s * inverseStd;
        expected.variance[c] =
          (expected.variance[c] as number) - 0.5 * w * centered * s * inverseStd ** 3;
        expected.offset[c] = (expected.offset[c] as number) + w;
        expected.scale[c] = (expected.scale[c] as number) + w * centered * inverseStd;
      }

      for (const backend of ["cpu", "wasm"] as const) {
        tf.setBackend(backend);
        const actual = tf.tidy(() => {
          const w = tf.tensor(weights, [...xShape]);
          const loss = (...inputs: tf.Tensor[]) => {
            const [xs, means, variances, offsets, scales] = inputs as tf.Tensor1D[];
            return tf
              .batchNorm(
                xs as tf.Tensor,
                means as tf.Tensor1D,
                variances as tf.Tensor1D,
                offsets,
                scales,
                epsilon,
              )
              .mul(w)
              .sum();
          };
          return tf
            .grads(loss)([
              tf.tensor(x, [...xShape]),
              tf.tensor1d(mean),
              tf.tensor1d(variance),
              tf.tensor1d(offset),
              tf.tensor1d(scale),
            ])
            .map((gradient) => gradient.dataSync() as Values);
        });
        const names = ["x", "mean", "variance", "offset", "scale"] as const;
        names.forEach((name, index) => {
          const values = actual[index] as Values;
          expect(
            relativeError(values, Float32Array.from(expected[name])),
            `${backend} d${name}`,
          ).toBeLessThan(RELATIVE_TOLERANCE);
        });
      }
    },
  );

  test("matches cpu for statistics along another axis", () => {
    const x = randomValues(4 * 3 * 5, 35);
    const mean = randomValues(3, 36);
    const variance = randomValues(3, 37, 0.1, 2);
    expectSameOnBothBackends(() =>
      tf.batchNorm(
        tf.tensor3d(x, [4, 3, 5]),
        tf.tensor3d(mean, [1, 3, 1]),
        tf.tensor3d(variance, [1, 3, 1]),
      ),
    );
  });
});

describe("Slice on wasm", () => {
  test.each([
    [
      [1, 0, 0, 0],
      [2, 6, 5, 3],
    ],
    [
      [0, 2, 0, 0],
      [4, 3, 5, 3],
    ],
    [
      [1, 1, 2, 1],
      [2, 4, 3, 2],
    ],
    [
      [3, 5, 4, 2],
      [1, 1, 1, 1],
    ],
    [
      [0, 0, 0, 0],
      [-1, -1, -1, -1],
    ],
  ] as const)("matches cpu from %j with size %j", (begin, size) => {
    const values = randomValues(4 * 6 * 5 * 3, 23);
    expectSameOnBothBackends(() => tf.tensor4d(values, [4, 6, 5, 3]).slice([...begin], [...size]));
  });

  test("matches cpu for int32 rows", () => {
    const values = randomIntegers(40, 24, -9, 9);
    expectSameOnBothBackends(() => tf.tensor2d(values, [8, 5], "int32").slice([2, 1], [3, 3]));
  });
});

describe("Relu gradient on wasm", () => {
  // 4,099 values leave a tail of three after the SIMD vectors; integers make zeros frequent.
  test("matches cpu with zeros and a tail", () => {
    const xValues = randomIntegers(4099, 20, -3, 3);
    const dyValues = randomValues(4099, 21);
    expectSameOnBothBackends(() =>
      tf.grad((x: tf.Tensor) => tf.relu(x).mul(tf.tensor1d(dyValues)).sum())(tf.tensor1d(xValues)),
    );
  });

  test("passes NaN from x and nothing else", () => {
    const x = tf.tensor1d([Number.NaN, -1, 0, 2, Number.NaN, 3, -0.5]);
    const dy = tf.tensor1d([5, 6, 7, 8, 9, 10, 11]);
    const [wasmGrad] = runOn("wasm", () =>
      tf.grad((input: tf.Tensor) => tf.relu(input).mul(dy).sum())(x),
    );
    const values = Array.from(wasmGrad as Values);
    expect(values[0]).toBeNaN();
    expect(values[4]).toBeNaN();
    expect([values[1], values[2], values[3], values[5], values[6]]).toEqual([0, 0, 8, 10, 0]);
  });
});

describe("Identity and Cast on wasm", () => {
  test("identity keeps values after the source is disposed", () => {
    tf.setBackend("wasm");
    const source = tf.tensor1d([1, 2, 3]);
    const copy = tf.engine().runKernel("Identity", { x: source }, {}) as tf.Tensor;
    source.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3]);
    copy.dispose();
  });

  test.each([
    ["float32", "float32"],
    ["float32", "int32"],
    ["int32", "float32"],
    ["bool", "float32"],
  ] as const)("cast from %s to %s matches cpu", (from, to) => {
    const values = randomValues(20, 16, -5, 5);
    expectSameOnBothBackends(() => tf.tensor1d(values).cast(from).cast(to));
  });
});

describe("kernels that run on cpu for wasm", () => {
  test("UnsortedSegmentSum matches cpu", () => {
    const values = randomValues(6 * 4, 17);
    expectSameOnBothBackends(() =>
      tf.unsortedSegmentSum(
        tf.tensor2d(values, [6, 4]),
        tf.tensor1d([0, 2, 1, 0, 2, 2], "int32"),
        3,
      ),
    );
  });

  test("depthwise conv2d gradients match cpu", () => {
    const xValues = randomValues(2 * 7 * 7 * 3, 18);
    const filterValues = randomValues(3 * 3 * 3 * 2, 19);
    expectSameOnBothBackends(() =>
      tf.grads((x: tf.Tensor, filter: tf.Tensor) =>
        tf
          .depthwiseConv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, "same")
          .square()
          .sum(),
      )([tf.tensor4d(xValues, [2, 7, 7, 3]), tf.tensor4d(filterValues, [3, 3, 3, 2])]),
    );
  });

  test("ResizeNearestNeighborGrad matches cpu for a batch of three", () => {
    const xValues = randomValues(3 * 4 * 5 * 2, 20);
    expectSameOnBothBackends(() =>
      tf.grad((x: tf.Tensor) =>
        tf.image
          .resizeNearestNeighbor(x as tf.Tensor4D, [8, 10])
          .mul(tf.range(0, 160).reshape([8, 10, 2]))
          .sum(),
      )(tf.tensor4d(xValues, [3, 4, 5, 2])),
    );
  });
});

describe("whole-model gradients on wasm", () => {
  function seedCnn(): tf.Sequential {
    return tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [28, 28, 1],
          filters: 32,
          kernelSize: 3,
          activation: "relu",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 128,
          activation: "relu",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
        tf.layers.dense({
          units: 10,
          activation: "softmax",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
  }

  function batchNormCnn(): tf.Sequential {
    return tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [28, 28, 1],
          filters: 8,
          kernelSize: 3,
          padding: "same",
          useBias: false,
          kernelInitializer: tf.initializers.heNormal({ seed: 4 }),
        }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: "relu" }),
        tf.layers.conv2d({
          filters: 16,
          kernelSize: 3,
          padding: "same",
          useBias: false,
          kernelInitializer: tf.initializers.heNormal({ seed: 5 }),
        }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 10,
          activation: "softmax",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
        }),
      ],
    });
  }

  /** Computes every trainable weight's gradient in training mode on both backends and compares. */
  function expectSameModelGradients(build: () => tf.Sequential, expectedWeights: number): void {
    const images = randomValues(16 * 28 * 28, 21, 0, 1);
    const labels = randomIntegers(16, 22, 0, 9);
    const gradients: Record<string, Record<string, Values>> = {};
    for (const backend of ["cpu", "wasm"] as const) {
      tf.setBackend(backend);
      const model = build();
      gradients[backend] = tf.tidy(() => {
        const x = tf.tensor4d(images, [16, 28, 28, 1]);
        const y = tf.oneHot(tf.tensor1d(labels, "int32"), 10);
        const { grads } = tf.variableGrads(() =>
          tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
        );
        return Object.fromEntries(
          model.trainableWeights.map((weight, index) => [
            `${index}:${weight.shape.join("x")}`,
            grads[(weight.read() as tf.Variable).name]?.dataSync() as Values,
          ]),
        );
      });
      model.dispose();
    }
    const names = Object.keys(gradients.cpu ?? {});
    expect(names.length).toBe(expectedWeights);
    for (const name of names) {
      const actual = gradients.wasm?.[name];
      const expected = gradients.cpu?.[name];
      expect(actual, name).toBeDefined();
      expect(relativeError(actual as Values, expected as Values), name).toBeLessThan(
        RELATIVE_TOLERANCE,
      );
    }
  }

  test("seed CNN variable gradients match cpu", () => {
    expectSameModelGradients(seedCnn, 6);
  });

  test("batch-normalised CNN variable gradients match cpu", () => {
    expectSameModelGradients(batchNormCnn, 8);
  });
});
