import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { addressOf, type SimdKernels, simdKernels, withScratch } from "../simd/module";
import { release } from "./kernel-calls";
import {
  pointMatrices,
  transformWindows,
  WINDOW_POINTS,
  winogradScratchBytes,
  winogradTiling,
} from "./winograd";

/**
 * Output tiles per round. A round's transformed input and output gradient take 36 * tiles *
 * channels floats each, so one point's share of both stays in the first-level cache while the
 * product kernel passes over it once per block of channels. On the 2-core benchmark machine,
 * rounds of 64 and 128 tiles were up to 10% faster than rounds of 256 or 512 for the VGG model.
 */
const TILES_PER_ROUND = 128;

/**
 * Computes the filter gradient [3, 3, inChannels, outChannels] of a 3x3 stride-1 convolution in
 * the Winograd domain of F(4x4, 3x3). Each round transforms its tiles' input windows and output
 * gradients, and adds their products, summed over tiles, to each of the 36 window points' sums.
 * The sums are transformed back once at the end. That takes 36 multiplications per tile and
 * channel pair where the direct sum takes 144. Call only where winogradApplies returns true.
 */
export function winogradFilterGradient(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const simd = simdKernels(backend) as SimdKernels;
  const { batchSize, inChannels, outHeight, outWidth, outChannels } = info;
  const tiling = winogradTiling(info, TILES_PER_ROUND);
  const { tileRows, tileColumns, tilesPerImage, imagesPerRound, roundTiles } = tiling;

  const sums = backend.makeOutput([WINDOW_POINTS, inChannels, outChannels], "float32");
  const windows = pointMatrices(backend, roundTiles, inChannels);
  const gradients = pointMatrices(backend, roundTiles, outChannels);
  const grad = backend.makeOutput([3, 3, inChannels, outChannels], "float32");
  (backend.typedArrayFromHeap(sums) as Float32Array).fill(0);
  const outputImageBytes = outHeight * outWidth * outChannels * 4;

  withScratch(backend, winogradScratchBytes(simd, info), (scratch) => {
    for (let first = 0; first < batchSize; first += imagesPerRound) {
      const images = Math.min(imagesPerRound, batchSize - first);
      transformWindows(backend, simd, x, windows, info, tiling, first, images, scratch);
      simd.winogradGradientTiles(
        addressOf(backend, dy) + first * outputImageBytes,
        addressOf(backend, gradients),
        images,
        outHeight,
        outWidth,
        outChannels,
        tileRows,
        tileColumns,
        scratch,
      );
      simd.winogradWeightProducts(
        addressOf(backend, windows),
        addressOf(backend, gradients),
        addressOf(backend, sums),
        images * tilesPerImage,
        inChannels,
        outChannels,
      );
    }
    simd.winogradFilterGrad(
      addressOf(backend, sums),
      addressOf(backend, grad),
      inChannels,
      outChannels,
      scratch,
    );
  });
  release(backend, sums, windows, gradients);
  return grad;
}
