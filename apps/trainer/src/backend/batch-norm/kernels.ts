import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  engine,
  type GradConfig,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  registerGradient,
  registerKernel,
  type Tensor,
  type TensorInfo,
  util,
  zerosLike,
} from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, type SimdKernels, simdKernels, withScratch } from "../simd/module";
import { type ChannelMoments, channelMoments, normalize, normalizeGrad } from "./math";

/**
 * Batch normalisation with the statistics of the batch itself, as training uses it. Inputs are x
 * (channels last), scale and offset (one value per channel). Outputs are y, mean and variance.
 */
export const BATCH_NORM_TRAINING = "ConvnetBatchNormTraining";
/**
 * Gradient kernel of BATCH_NORM_TRAINING. Inputs are x, dy, mean, variance, scale and optionally
 * dMean and dVariance. Outputs are dx, dScale and dOffset.
 */
export const BATCH_NORM_TRAINING_GRAD = "ConvnetBatchNormTrainingGrad";

export interface BatchNormTrainingAttrs {
  varianceEpsilon: number;
}

/** Backends with a kernel here: the JS ones, whose float32 data this process can read in place. */
const BACKENDS = ["wasm", "cpu"] as const;
type SupportedBackend = (typeof BACKENDS)[number];

/**
 * Reads and allocates float32 tensors on one backend. On wasm, every output is allocated before
 * any view is taken, because growing the heap detaches the views taken earlier.
 */
interface TensorAccess {
  allocate(shape: number[]): TensorInfo;
  values(info: TensorInfo): Float32Array;
}

function tensorAccess(backendName: SupportedBackend, backend: unknown): TensorAccess {
  if (backendName === "wasm") {
    const wasm = backend as BackendWasm;
    return {
      allocate: (shape) => wasm.makeOutput(shape, "float32"),
      values: (info) => wasm.typedArrayFromHeap(info) as Float32Array,
    };
  }
  const cpu = backend as MathBackendCPU;
  return {
    allocate: (shape) =>
      cpu.makeTensorInfo(
        shape,
        "float32",
        new Float32Array(shape.reduce((product, extent) => product * extent, 1)),
      ),
    values: (info) => cpu.data.get(info.dataId)?.values as Float32Array,
  };
}

function channelsOf(x: TensorInfo): number {
  const channels = x.shape[x.shape.length - 1];
  if (x.dtype !== "float32" || channels === undefined || channels === 0) {
    throw new Error(
      `${BATCH_NORM_TRAINING} needs float32 data with a channels-last axis, got ${x.dtype} [${x.shape.join(", ")}].`,
    );
  }
  return channels;
}

/**
 * Returns the wasm SIMD kernels when they can take this call: on the wasm backend, with a whole
 * number of SIMD vectors per position. In the vgg-bn profile (bench/profile.ts) they took 49 ms
 * per step where the JS loops took 174.
 */
function simdFor(
  backendName: SupportedBackend,
  backend: unknown,
  channels: number,
): SimdKernels | null {
  if (backendName !== "wasm" || channels % SIMD_LANES !== 0) return null;
  return simdKernels(backend as BackendWasm);
}

function forwardKernel(backendName: SupportedBackend): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { x, scale, offset } = inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
    const { varianceEpsilon } = attrs as unknown as BatchNormTrainingAttrs;
    const channels = channelsOf(x);
    const access = tensorAccess(backendName, backend);

    const y = access.allocate(x.shape);
    const mean = access.allocate([channels]);
    const variance = access.allocate([channels]);
    const simd = simdFor(backendName, backend, channels);
    if (simd) {
      const wasm = backend as BackendWasm;
      const at = (info: TensorInfo) => addressOf(wasm, info);
      withScratch(wasm, channels * simd.scratchBytesPerChannel, (scratch) => {
        simd.batchNormForward(
          at(x),
          at(y),
          util.sizeFromShape(x.shape) / channels,
          channels,
          at(scale),
          at(offset),
          varianceEpsilon,
          at(mean),
          at(variance),
          scratch,
        );
      });
      return [y, mean, variance];
    }

    const xValues = access.values(x);
    const moments = channelMoments(xValues, channels);
    normalize(
      xValues,
      access.values(y),
      moments,
      access.values(scale),
      access.values(offset),
      varianceEpsilon,
    );
    access.values(mean).set(moments.mean);
    access.values(variance).set(moments.variance);
    return [y, mean, variance];
  };
}

function gradKernel(backendName: SupportedBackend): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { x, dy, mean, variance, scale, dMean, dVariance } = inputs as Record<
      string,
      TensorInfo | undefined
    > & {
      x: TensorInfo;
      dy: TensorInfo;
      mean: TensorInfo;
      variance: TensorInfo;
      scale: TensorInfo;
    };
    const { varianceEpsilon } = attrs as unknown as BatchNormTrainingAttrs;
    const channels = channelsOf(x);
    const access = tensorAccess(backendName, backend);

    const dx = access.allocate(x.shape);
    const dScale = access.allocate([channels]);
    const dOffset = access.allocate([channels]);
    const simd = simdFor(backendName, backend, channels);
    if (simd) {
      const wasm = backend as BackendWasm;
      const at = (info: TensorInfo | undefined) => (info === undefined ? 0 : addressOf(wasm, info));
      withScratch(wasm, channels * simd.scratchBytesPerChannel, (scratch) => {
        simd.batchNormGrad(
          at(x),
          at(dy),
          at(dx),
          util.sizeFromShape(x.shape) / channels,
          channels,
          at(mean),
          at(variance),
          at(scale),
          varianceEpsilon,
          at(dMean),
          at(dVariance),
          at(dScale),
          at(dOffset),
          scratch,
        );
      });
      return [dx, dScale, dOffset];
    }

    const moments: ChannelMoments = {
      mean: Float64Array.from(access.values(mean)),
      variance: Float64Array.from(access.values(variance)),
    };
    normalizeGrad(
      access.values(x),
      access.values(dy),
      access.values(dx),
      access.values(dScale),
      access.values(dOffset),
      moments,
      access.values(scale),
      varianceEpsilon,
      {
        mean: dMean === undefined ? undefined : access.values(dMean),
        variance: dVariance === undefined ? undefined : access.values(dVariance),
      },
    );
    return [dx, dScale, dOffset];
  };
}

/**
 * Gradient of the training kernel: one grad kernel call gives all three input gradients, run
 * before the derivative functions because the engine disposes what each of those creates apart
 * from its result.
 */
const batchNormTrainingGradConfig: GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ["x", "scale"],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as (Tensor | null)[];
    const [x, scale, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
    // A null dy means only the statistics reached the loss.
    const inputs: Record<string, Tensor> = { x, dy: dy ?? zerosLike(x), mean, variance, scale };
    if (dMean) inputs.dMean = dMean;
    if (dVariance) inputs.dVariance = dVariance;
    const [dx, dScale, dOffset] = engine().runKernel(
      BATCH_NORM_TRAINING_GRAD,
      inputs,
      attrs as NamedAttrMap,
    ) as Tensor[];
    return {
      x: () => dx as Tensor,
      scale: () => dScale as Tensor,
      offset: () => dOffset as Tensor,
    };
  },
};

/** Registers both kernels for wasm and cpu, and the training kernel's gradient. Idempotent. */
export function registerBatchNormTrainingKernels(): void {
  for (const backendName of BACKENDS) {
    const configs: KernelConfig[] = [
      { kernelName: BATCH_NORM_TRAINING, backendName, kernelFunc: forwardKernel(backendName) },
      { kernelName: BATCH_NORM_TRAINING_GRAD, backendName, kernelFunc: gradKernel(backendName) },
    ];
    for (const config of configs) {
      if (!getKernel(config.kernelName, backendName)) registerKernel(config);
    }
  }
  registerGradient(batchNormTrainingGradConfig);
}

/** Reports whether the training kernel is registered for the backend `backendName`. */
export function hasBatchNormTrainingKernel(backendName: string): boolean {
  return getKernel(BATCH_NORM_TRAINING, backendName) !== undefined;
}
