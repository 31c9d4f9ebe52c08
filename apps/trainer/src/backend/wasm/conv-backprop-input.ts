import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { convolve } from "./conv2d";
import { release, reshape, runStock, slice, transpose } from "./kernel-calls";
import { patchOffsets } from "./patches";

// NOTE: heap views and dataId sharing rely on BackendWasm internals of tfjs-backend-wasm 4.22.0,
// which apps/trainer/package.json pins exactly; recheck these kernels before changing that version.

type Shape4D = [number, number, number, number];

/**
 * Computes dL/dinput as a stride-1 XNNPACK convolution of dy, with zeros inserted between its
 * rows and columns for strided layers, and the filter rotated by 180 degrees with its input and
 * output channels swapped.
 */
export function conv2DBackpropInput({
  inputs,
  attrs,
  backend,
}: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4D,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const patchSize = info.filterHeight * info.filterWidth * info.inChannels;
  if (info.dataFormat === "channelsLast" && patchSize < info.outChannels) {
    return inputGradFromColumns(wasm, dy, filter, info);
  }

  const top = info.filterHeight - 1 - info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  if (info.dataFormat !== "channelsLast" || top < 0 || left < 0) {
    // Explicit padding wider than the filter, or NCHW, is rare enough to leave to the stock kernel.
    return runStock("Conv2DBackpropInput", wasm, inputs, attrs);
  }

  let source = dilate(wasm, dy, info.strideHeight, info.strideWidth);
  const dilatedHeight = info.outHeight * info.strideHeight;
  const dilatedWidth = info.outWidth * info.strideWidth;
  const bottom = info.inHeight - dilatedHeight + info.padInfo.top;
  const right = info.inWidth - dilatedWidth + info.padInfo.left;
  if (bottom < 0 || right < 0) {
    // The rows being cropped are inserted zeros, so cropping changes no value.
    const cropped = slice(
      wasm,
      source,
      [0, 0, 0, 0],
      [
        info.batchSize,
        dilatedHeight + Math.min(bottom, 0),
        dilatedWidth + Math.min(right, 0),
        info.outChannels,
      ],
    );
    if (source !== dy) release(wasm, source);
    source = cropped;
  }

  const reversed = runStock("Reverse", wasm, { x: filter }, { dims: [0, 1] });
  const flipped = transpose(wasm, reversed, [0, 1, 3, 2]);
  const grad = convolve(wasm, source, flipped, [
    top,
    Math.max(bottom, 0),
    left,
    Math.max(right, 0),
  ]);

  release(wasm, reversed, flipped);
  if (source !== dy) release(wasm, source);
  return grad;
}

/**
 * Computes dL/dinput for layers whose patches are smaller than dy, such as a first layer on grey
 * images, as columns = dy W^T, one patch gradient per output position, then adds each column back
 * onto the input pixels it came from. As a convolution, the product had 1 output channel, which
 * fills one eighth of XNNPACK's 8-wide tiles: about 15 ms for the VGG model's 3x3x1x32 layer at
 * batch 128 on the 2-core benchmark machine, against about 11 ms this way.
 */
function inputGradFromColumns(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth } = info;
  const positions = batchSize * outHeight * outWidth;
  const patchSize = filterHeight * filterWidth * inChannels;

  const dyRows = reshape(backend, dy, [positions, outChannels]);
  const filterRows = reshape(backend, filter, [patchSize, outChannels]);
  const filterColumns = transpose(backend, filterRows, [1, 0]);
  const columns = runStock(
    "BatchMatMul",
    backend,
    { a: dyRows, b: filterColumns },
    { transposeA: false, transposeB: false },
  );
  const grad = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], "float32");
  // Views are taken after the allocation because growing the wasm heap detaches older views.
  const source = backend.typedArrayFromHeap(columns) as Float32Array;
  const target = backend.typedArrayFromHeap(grad) as Float32Array;
  target.fill(0);

  const offsets = patchOffsets(info);
  let next = 0;
  for (let b = 0; b < batchSize; b++) {
    const image = b * inHeight * inWidth * inChannels;
    for (const offset of offsets) {
      if (offset < 0) {
        next += inChannels;
        continue;
      }
      const base = image + offset;
      for (let c = 0; c < inChannels; c++) {
        target[base + c] = (target[base + c] as number) + (source[next++] as number);
      }
    }
  }

  release(backend, dyRows, filterRows, filterColumns, columns);
  return grad;
}

/** Inserts (stride - 1) zeros after every row and column of an NHWC tensor. */
function dilate(
  backend: BackendWasm,
  x: TensorInfo,
  strideHeight: number,
  strideWidth: number,
): TensorInfo {
  if (strideHeight === 1 && strideWidth === 1) return x;
  const [batch, height, width, channels] = x.shape as Shape4D;

  const split = reshape(backend, x, [batch, height, 1, width, 1, channels]);
  const padded = runStock(
    "PadV2",
    backend,
    { x: split },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, strideHeight - 1],
        [0, 0],
        [0, strideWidth - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const dilated = reshape(backend, padded, [
    batch,
    height * strideHeight,
    width * strideWidth,
    channels,
  ]);

  release(backend, split, padded);
  return dilated;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: "Conv2DBackpropInput",
  backendName: "wasm",
  kernelFunc: conv2DBackpropInput,
};
