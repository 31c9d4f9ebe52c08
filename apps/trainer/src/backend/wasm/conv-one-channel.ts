import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, type SimdKernels, simdKernels } from "../simd/module";
import { release } from "./kernel-calls";
import { padForWindows } from "./pad-one-channel";
import type { ConvEpilogue } from "./winograd";

/**
 * Returns whether convOneChannel can compute the convolution that `info` describes: NHWC images
 * with one channel, no dilation, and an output channel count that is a multiple of 4.
 */
export function convOneChannelApplies(
  backend: BackendWasm,
  info: backend_util.Conv2DInfo,
): boolean {
  return (
    info.dataFormat === "channelsLast" &&
    info.inChannels === 1 &&
    info.outChannels % SIMD_LANES === 0 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    simdKernels(backend) !== null
  );
}

/**
 * Convolves single-channel images with the SIMD kernel, which splats each input pixel once per
 * filter tap across a block of output channels. Call only where convOneChannelApplies returns true.
 */
export function convOneChannel(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  { bias, relu = false }: ConvEpilogue = {},
): TensorInfo {
  const simd = simdKernels(backend) as SimdKernels;
  const padded = padForWindows(backend, x, info);
  const y = backend.makeOutput(
    [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
    "float32",
  );
  simd.convOneChannel(
    addressOf(backend, padded.images),
    addressOf(backend, filter),
    bias ? addressOf(backend, bias) : 0,
    relu ? 1 : 0,
    addressOf(backend, y),
    info.batchSize,
    padded.height,
    padded.width,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
  );
  if (padded.images !== x) release(backend, padded.images);
  return y;
}
