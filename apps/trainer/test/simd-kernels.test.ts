import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import asc from "assemblyscript/asc";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";
import { channelMoments, normalize, normalizeGrad } from "../src/backend/batch-norm/math";
import { addressOf, type SimdKernels, simdKernels } from "../src/backend/simd/module";

// The SIMD kernels are checked against the JS loops that the cpu backend runs, on the same
// inputs, and the committed binary against its AssemblyScript source.

const WASM_PATH = new URL("../src/backend/simd/kernels.wasm", import.meta.url);
const ASSEMBLY = new URL("../assembly/", import.meta.url).pathname;

/** Ids of the sections of a wasm binary, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let position = 8; // magic number and version
  while (position < bytes.length) {
    const id = bytes[position++] as number;
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[position++] as number;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    position += size;
  }
  return ids;
}

function randomArray(size: number, seed: number, mean: number, spread: number): Float32Array {
  return tf.tidy(
    () => tf.randomNormal([size], mean, spread, "float32", seed).dataSync() as Float32Array,
  );
}

function maxRelativeDifference(actual: Float32Array, expected: ArrayLike<number>): number {
  let scale = 0;
  let difference = 0;
  for (let i = 0; i < actual.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i] as number));
    difference = Math.max(difference, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  return difference / (scale || 1);
}

let backend: BackendWasm;
let kernels: SimdKernels;

beforeAll(async () => {
  await selectBackend("wasm");
  backend = tf.backend() as BackendWasm;
  const loaded = simdKernels(backend);
  if (loaded === null) throw new Error("The SIMD kernels did not load on the wasm backend.");
  kernels = loaded;
});

describe("SIMD kernel binary", () => {
  test("matches its AssemblyScript source", async () => {
    let built: Uint8Array | undefined;
    const result = await asc.main(
      [`${ASSEMBLY}index.ts`, "--config", `${ASSEMBLY}asconfig.json`, "--outFile", "check.wasm"],
      {
        writeFile: (name, contents) => {
          if (name.endsWith("check.wasm")) built = contents as Uint8Array;
        },
      },
    );
    expect(result.error?.message).toBeUndefined();
    expect(built, "rebuild with `npm run build:simd -w apps/trainer`").toEqual(
      new Uint8Array(readFileSync(WASM_PATH)),
    );
  });

  test("imports only memory and writes none", () => {
    const bytes = new Uint8Array(readFileSync(WASM_PATH));
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: "env", name: "memory", kind: "memory" },
    ]);
    // Data segments would overwrite the backend's heap when the instance starts.
    expect(sectionIds(bytes)).not.toContain(11);
    expect(sectionIds(bytes)).not.toContain(12);
  });
});

describe("SIMD kernel loading", () => {
  // The threaded build of tfjs-backend-wasm, which Node does not load, runs on a shared memory.
  test("returns null for a shared memory", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const threaded = { wasm: { asm: { memory } } } as unknown as BackendWasm;
    expect(simdKernels(threaded)).toBeNull();
    expect(simdKernels(threaded)).toBeNull();
  });

  test("reuses one instance per memory", () => {
    expect(simdKernels(backend)).toBe(kernels);
  });
});

describe("SIMD batch normalisation", () => {
  // 1,000 positions cross several 64-position blocks and end inside one; a mean of 30 tests
  // that neither the variance nor dx loses precision to it.
  const positions = 1000;
  const channels = 12;
  const epsilon = 1e-3;

  function wasmTensor(values: Float32Array, shape: number[]): tf.Tensor {
    return tf.tensor(values, shape, "float32");
  }

  test("forward matches the JS loops", () => {
    const xValues = randomArray(positions * channels, 1, 30, 2);
    const scaleValues = randomArray(channels, 2, 1, 0.3);
    const offsetValues = randomArray(channels, 3, 0, 0.5);
    const moments = channelMoments(xValues, channels);
    const expected = new Float32Array(xValues.length);
    normalize(xValues, expected, moments, scaleValues, offsetValues, epsilon);

    const [x, scale, offset, y, mean, variance, scratch] = [
      wasmTensor(xValues, [positions, channels]),
      wasmTensor(scaleValues, [channels]),
      wasmTensor(offsetValues, [channels]),
      tf.zeros([positions, channels]),
      tf.zeros([channels]),
      tf.zeros([channels]),
      tf.zeros([(channels * kernels.scratchBytesPerChannel) / 4]),
    ] as tf.Tensor[];
    const at = (tensor: tf.Tensor | undefined) => addressOf(backend, tensor as tf.Tensor);
    kernels.batchNormForward(
      at(x),
      at(y),
      positions,
      channels,
      at(scale),
      at(offset),
      epsilon,
      at(mean),
      at(variance),
      at(scratch),
    );

    expect(maxRelativeDifference(mean?.dataSync() as Float32Array, moments.mean)).toBeLessThan(
      1e-6,
    );
    expect(
      maxRelativeDifference(variance?.dataSync() as Float32Array, moments.variance),
    ).toBeLessThan(1e-5);
    expect(maxRelativeDifference(y?.dataSync() as Float32Array, expected)).toBeLessThan(1e-5);
    tf.dispose([x, scale, offset, y, mean, variance, scratch]);
  });

  test.each([
    ["with statistics gradients", true],
    ["without statistics gradients", false],
  ])("gradient matches the JS loops %s", (_, withMomentGrads) => {
    const xValues = randomArray(positions * channels, 4, 30, 2);
    const dyValues = randomArray(positions * channels, 5, 0.1, 1);
    const scaleValues = randomArray(channels, 6, 1, 0.3);
    const dMeanValues = randomArray(channels, 7, 0, 1);
    const dVarianceValues = randomArray(channels, 8, 0, 1);
    const moments = channelMoments(xValues, channels);
    const meanValues = Float32Array.from(moments.mean);
    const varianceValues = Float32Array.from(moments.variance);
    const expected = {
      dx: new Float32Array(xValues.length),
      dScale: new Float32Array(channels),
      dOffset: new Float32Array(channels),
    };
    normalizeGrad(
      xValues,
      dyValues,
      expected.dx,
      expected.dScale,
      expected.dOffset,
      { mean: Float64Array.from(meanValues), variance: Float64Array.from(varianceValues) },
      scaleValues,
      epsilon,
      withMomentGrads ? { mean: dMeanValues, variance: dVarianceValues } : {},
    );

    const tensors = {
      x: wasmTensor(xValues, [positions, channels]),
      dy: wasmTensor(dyValues, [positions, channels]),
      dx: tf.zeros([positions, channels]),
      mean: wasmTensor(meanValues, [channels]),
      variance: wasmTensor(varianceValues, [channels]),
      scale: wasmTensor(scaleValues, [channels]),
      dMean: wasmTensor(dMeanValues, [channels]),
      dVariance: wasmTensor(dVarianceValues, [channels]),
      dScale: tf.zeros([channels]),
      dOffset: tf.zeros([channels]),
      scratch: tf.zeros([(channels * kernels.scratchBytesPerChannel) / 4]),
    };
    const at = (tensor: tf.Tensor) => addressOf(backend, tensor);
    kernels.batchNormGrad(
      at(tensors.x),
      at(tensors.dy),
      at(tensors.dx),
      positions,
      channels,
      at(tensors.mean),
      at(tensors.variance),
      at(tensors.scale),
      epsilon,
      withMomentGrads ? at(tensors.dMean) : 0,
      withMomentGrads ? at(tensors.dVariance) : 0,
      at(tensors.dScale),
      at(tensors.dOffset),
      at(tensors.scratch),
    );

    const dx = tensors.dx.dataSync() as Float32Array;
    expect(maxRelativeDifference(dx, expected.dx)).toBeLessThan(1e-4);
    const dScale = tensors.dScale.dataSync() as Float32Array;
    expect(maxRelativeDifference(dScale, expected.dScale)).toBeLessThan(1e-4);
    const dOffset = tensors.dOffset.dataSync() as Float32Array;
    expect(maxRelativeDifference(dOffset, expected.dOffset)).toBeLessThan(1e-5);
    tf.dispose(Object.values(tensors));
  });
});
