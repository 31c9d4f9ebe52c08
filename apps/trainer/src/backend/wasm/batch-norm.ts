import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type {
  FusedBatchNormAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from "@tensorflow/tfjs-core";
import { release, runStock } from "./kernel-calls";

// NOTE: heap views and dataId sharing rely on BackendWasm internals of tfjs-backend-wasm 4.22.0,
// which apps/trainer/package.json pins exactly; recheck these kernels before changing that version.

/**
 * Normalises as x * factor + shift, with factor = scale / sqrt(variance + epsilon) and
 * shift = offset - mean * factor folded per channel in doubles, then one stock Multiply and one
 * stock Add. For a [128, 28, 28, 32] activation on the 2-core benchmark machine, the stock
 * kernel of tfjs-backend-wasm 4.22 took about 11 ms and the two broadcasting ops take about 4 ms.
 * A plain JS loop was tried and took 9 ms. Statistics that are not one value per channel of the
 * last axis, or a single value, go to the stock kernel.
 */
export function fusedBatchNorm({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, mean, variance, offset, scale } = inputs as {
    x: TensorInfo;
    mean: TensorInfo;
    variance: TensorInfo;
    offset?: TensorInfo;
    scale?: TensorInfo;
  };
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const parameters = [mean, variance, offset, scale];
  const perChannel = parameters.every(
    (info) => info === undefined || isChannelVector(info, x.shape.length, channels),
  );
  if (x.dtype !== "float32" || x.shape.length === 0 || !perChannel) {
    return runStock("FusedBatchNorm", wasm, inputs, attrs);
  }

  const means = channelValues(wasm, mean, channels, 0);
  const variances = channelValues(wasm, variance, channels, 0);
  const offsets = channelValues(wasm, offset, channels, 0);
  const scales = channelValues(wasm, scale, channels, 1);
  const factor = wasm.makeOutput([channels], "float32");
  const shift = wasm.makeOutput([channels], "float32");
  const factors = wasm.typedArrayFromHeap(factor) as Float32Array;
  const shifts = wasm.typedArrayFromHeap(shift) as Float32Array;
  for (let c = 0; c < channels; c++) {
    const value = (scales[c] as number) / Math.sqrt((variances[c] as number) + varianceEpsilon);
    factors[c] = value;
    shifts[c] = (offsets[c] as number) - (means[c] as number) * value;
  }

  const scaled = runStock("Multiply", wasm, { a: x, b: factor });
  const output = runStock("Add", wasm, { a: scaled, b: shift });
  release(wasm, factor, shift, scaled);
  return output;
}

/** Whether `info` contains one value, or one per channel of the last axis of a rank-`rank` tensor. */
function isChannelVector(info: TensorInfo, rank: number, channels: number): boolean {
  if (info.dtype !== "float32" || info.shape.length > rank) return false;
  const size = info.shape.reduce((product, extent) => product * extent, 1);
  if (size === 1) return true;
  return size === channels && info.shape[info.shape.length - 1] === channels;
}

/** Copies a statistic into one double per channel, repeating a single value; `fill` when absent. */
function channelValues(
  backend: BackendWasm,
  info: TensorInfo | undefined,
  channels: number,
  fill: number,
): Float64Array {
  const values = new Float64Array(channels);
  if (info === undefined) return values.fill(fill);
  const heap = backend.typedArrayFromHeap(info) as Float32Array;
  if (heap.length === 1) return values.fill(heap[0] as number);
  values.set(heap);
  return values;
}

export const fusedBatchNormConfig: KernelConfig = {
  kernelName: "FusedBatchNorm",
  backendName: "wasm",
  kernelFunc: fusedBatchNorm,
};
