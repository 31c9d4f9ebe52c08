import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, simdKernels } from "../simd/module";

// NOTE: heap views and dataId sharing rely on BackendWasm internals of tfjs-backend-wasm 4.22.0,
// which apps/trainer/package.json pins exactly; recheck these kernels before changing that version.

type Shape4D = [number, number, number, number];

/**
 * Routes each window's gradient to the first maximum of the window in row-major order, as
 * TensorFlow and the tfjs cpu backend do. The stock wasm kernel of tfjs-backend-wasm 4.22 starts
 * its search at 0, so windows whose values are all <= 0 lose their gradient, and it lets the last
 * of tied maxima win. Padding never wins because windows are clipped to the input.
 */
export function maxPoolGrad({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as Shape4D,
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );

  const output = wasm.makeOutput(input.shape, "float32");
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const channels = info.inChannels;
  const tiles2x2 =
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    outHeight * 2 <= inHeight &&
    outWidth * 2 <= inWidth;
  const simd = tiles2x2 && channels % SIMD_LANES === 0 ? simdKernels(wasm) : null;
  if (simd) {
    simd.maxPoolGrad2x2(
      addressOf(wasm, input),
      addressOf(wasm, dy),
      addressOf(wasm, output),
      info.batchSize,
      inHeight,
      inWidth,
      outHeight,
      outWidth,
      channels,
    );
    return output;
  }

  // Views are taken after the last allocation because growing the wasm heap detaches them.
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const gradOut = wasm.typedArrayFromHeap(dy) as Float32Array;
  const gradIn = wasm.typedArrayFromHeap(output) as Float32Array;
  gradIn.fill(0);

  if (tiles2x2) {
    routeTiles2x2(
      x,
      gradOut,
      gradIn,
      info.batchSize,
      inHeight,
      inWidth,
      outHeight,
      outWidth,
      channels,
    );
    return output;
  }

  // Each window is scanned per channel; gradients add up where windows overlap.
  for (let b = 0; b < info.batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = outRow * strideHeight - info.padInfo.top;
      const rowFrom = Math.max(rowStart, 0);
      const rowTo = Math.min(rowStart + info.filterHeight, inHeight);
      for (let outCol = 0; outCol < outWidth; outCol++) {
        const colStart = outCol * strideWidth - info.padInfo.left;
        const colFrom = Math.max(colStart, 0);
        const colTo = Math.min(colStart + info.filterWidth, inWidth);
        const dyBase = ((b * outHeight + outRow) * outWidth + outCol) * channels;

        for (let c = 0; c < channels; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let bestIndex = -1;
          for (let row = rowFrom; row < rowTo; row++) {
            let index = ((b * inHeight + row) * inWidth + colFrom) * channels + c;
            for (let col = colFrom; col < colTo; col++, index += channels) {
              const value = x[index] as number;
              if (value > best) {
                best = value;
                bestIndex = index;
              }
            }
          }
          if (bestIndex >= 0) {
            gradIn[bestIndex] = (gradIn[bestIndex] as number) + (gradOut[dyBase + c] as number);
          }
        }
      }
    }
  }
  return output;
}

/**
 * Routes the gradient of 2x2 pools with stride 2 and no padding, the common case, whose windows
 * do not overlap and never leave the input. Conditional selects instead of nested loops took
 * this from about 20 ms to 14 ms for the seed CNN's 128x26x26x32 input.
 */
function routeTiles2x2(
  x: Float32Array,
  gradOut: Float32Array,
  gradIn: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  outHeight: number,
  outWidth: number,
  channels: number,
): void {
  const rowStride = inWidth * channels;
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      for (let outCol = 0; outCol < outWidth; outCol++) {
        const base = ((b * inHeight + outRow * 2) * inWidth + outCol * 2) * channels;
        for (let c = 0; c < channels; c++, dyIndex++) {
          const topLeft = base + c;
          const topRight = topLeft + channels;
          const bottomLeft = topLeft + rowStride;
          const bottomRight = bottomLeft + channels;
          // Strict comparisons keep the first maximum, and NaN never wins, as on cpu.
          let best = Number.NEGATIVE_INFINITY;
          let bestIndex = -1;
          let value = x[topLeft] as number;
          let wins = value > best;
          best = wins ? value : best;
          bestIndex = wins ? topLeft : bestIndex;
          value = x[topRight] as number;
          wins = value > best;
          best = wins ? value : best;
          bestIndex = wins ? topRight : bestIndex;
          value = x[bottomLeft] as number;
          wins = value > best;
          best = wins ? value : best;
          bestIndex = wins ? bottomLeft : bestIndex;
          value = x[bottomRight] as number;
          bestIndex = value > best ? bottomRight : bestIndex;
          if (bestIndex >= 0) gradIn[bestIndex] = gradOut[dyIndex] as number;
        }
      }
    }
  }
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: "MaxPoolGrad",
  backendName: "wasm",
  kernelFunc: maxPoolGrad,
};
