import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

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
  // Views are taken after the last allocation because growing the wasm heap detaches them.
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const gradOut = wasm.typedArrayFromHeap(dy) as Float32Array;
  const gradIn = wasm.typedArrayFromHeap(output) as Float32Array;
  gradIn.fill(0);

  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const channels = info.inChannels;
  const best = new Float32Array(channels);
  const bestIndex = new Int32Array(channels);

  for (let b = 0; b < info.batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = outRow * strideHeight - info.padInfo.top;
      const rowFrom = Math.max(rowStart, 0);
      const rowTo = Math.min(rowStart + info.filterHeight, inHeight);
      for (let outCol = 0; outCol < outWidth; outCol++) {
        const colStart = outCol * strideWidth - info.padInfo.left;
        const colFrom = Math.max(colStart, 0);
        const colTo = Math.min(colStart + info.filterWidth, inWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        bestIndex.fill(-1);

        for (let row = rowFrom; row < rowTo; row++) {
          for (let col = colFrom; col < colTo; col++) {
            const base = ((b * inHeight + row) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[base + c] as number;
              if (value > (best[c] as number)) {
                best[c] = value;
                bestIndex[c] = base + c;
              }
            }
          }
        }

        const dyBase = ((b * outHeight + outRow) * outWidth + outCol) * channels;
        for (let c = 0; c < channels; c++) {
          const index = bestIndex[c] as number;
          if (index >= 0)
            gradIn[index] = (gradIn[index] as number) + (gradOut[dyBase + c] as number);
        }
      }
    }
  }
  return output;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: "MaxPoolGrad",
  backendName: "wasm",
  kernelFunc: maxPoolGrad,
};
