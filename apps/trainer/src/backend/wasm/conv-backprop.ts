import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, simdKernels } from "../simd/module";
import { heapView, releaseView } from "./heap-views";
import {
  conv2d,
  release,
  reshape,
  runStock,
  type SpatialPadding,
  slice,
  transpose,
} from "./kernel-calls";

// NOTE: heap views and dataId sharing rely on BackendWasm internals of tfjs-backend-wasm 4.22.0,
// which apps/trainer/package.json pins exactly; recheck these kernels before changing that version.

type Shape4D = [number, number, number, number];

/**
 * Computes dL/dfilter with XNNPACK convolutions instead of a scalar loop.
 * filterGrad[i, j, c, o] = sum over (b, y, x) of input[b, y*s + i - pad, x*s + j - pad, c] * dy[b, y, x, o].
 * Read with the batch as the channel axis, that is a convolution of input [c, H, W, b] with dy laid
 * out as a filter [outH, outW, b, o], at dilation = the forward stride, giving [c, kH, kW, o].
 * filterGradByChunks splits the batch into chunks and stacks the channels into one tall image.
 */
export function conv2DBackpropFilter({
  inputs,
  attrs,
  backend,
}: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== "channelsLast") {
    throw new Error(
      `Conv2DBackpropFilter on wasm supports dataFormat NHWC only, got ${dataFormat}; use channelsLast layers.`,
    );
  }

  const patchSize = info.filterHeight * info.filterWidth * info.inChannels;
  if (patchSize < info.outChannels) return filterGradFromPatches(wasm, x, dy, info);

  // The windows touch padded rows [0, usedHeight). Rows past that are never read, and a negative
  // bottom padding means trailing input rows that no window reaches, which are cropped.
  const usedHeight = info.filterHeight + (info.outHeight - 1) * info.strideHeight;
  const usedWidth = info.filterWidth + (info.outWidth - 1) * info.strideWidth;
  const bottom = usedHeight - info.padInfo.top - info.inHeight;
  const right = usedWidth - info.padInfo.left - info.inWidth;
  const cropped =
    bottom < 0 || right < 0
      ? slice(
          wasm,
          x,
          [0, 0, 0, 0],
          [
            info.batchSize,
            info.inHeight + Math.min(bottom, 0),
            info.inWidth + Math.min(right, 0),
            info.inChannels,
          ],
        )
      : x;

  const padding: SpatialPadding = [
    info.padInfo.top,
    Math.max(bottom, 0),
    info.padInfo.left,
    Math.max(right, 0),
  ];
  const grad = filterGradByChunks(wasm, cropped, dy, info, padding);
  if (cropped !== x) release(wasm, cropped);
  return grad;
}

/**
 * Images per chunk in filterGradByChunks. One convolution over the whole batch reduces over
 * outH * outW * batch values per output, so its operands outgrow the caches. Chunks of 16 images
 * took the VGG model's three large filter gradients at batch 128 from about 283 ms to about 210 ms
 * in all on the 2-core benchmark machine. Chunks of 8 and 32 were slower.
 */
const FILTER_GRAD_CHUNK_IMAGES = 16;

/**
 * Sums the filter gradients of chunks of whole images and returns them as [kH, kW, inChannels,
 * outChannels]. A chunk's input is padded and its channel planes stacked into one tall image
 * [1, inChannels * paddedHeight, paddedWidth, images], with dy as the filter [outH, outW, images,
 * outChannels]. With a vertical stride of one plane, a convolution per filter row gives every
 * input channel and filter column as an output pixel. XNNPACK tiles output pixels by four per
 * image, so one image per input channel (3x3 outputs) filled only 9 of 12 rows. Stacked, the rows
 * are all used and the filter rows share one packed filter. On the 2-core benchmark machine the
 * VGG model's three large filter gradients went from about 240 ms to about 209 ms.
 */
function filterGradByChunks(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  [top, bottom, left, right]: SpatialPadding,
): TensorInfo {
  const [batch, height, width, channels] = x.shape as Shape4D;
  const [, outHeight, outWidth, outChannels] = dy.shape as Shape4D;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const paddedHeight = height + top + bottom;
  const paddedWidth = width + left + right;
  // Rows of one filter row's view: the last plane needs only the rows its window reaches.
  const viewHeight = (channels - 1) * paddedHeight + (outHeight - 1) * strideHeight + 1;
  const grad = new Float64Array(filterHeight * filterWidth * channels * outChannels);

  for (let first = 0; first < batch; first += FILTER_GRAD_CHUNK_IMAGES) {
    const images = Math.min(FILTER_GRAD_CHUNK_IMAGES, batch - first);
    const xChunk = heapView(backend, x, first * height * width * channels, [
      images,
      height,
      width,
      channels,
    ]);
    const dyChunk = heapView(backend, dy, first * outHeight * outWidth * outChannels, [
      images,
      outHeight,
      outWidth,
      outChannels,
    ]);
    const planes = stackPlanes(backend, xChunk, [top, bottom, left, right]);
    const dyAsFilter = transpose(backend, dyChunk, [1, 2, 0, 3]);

    for (let row = 0; row < filterHeight; row++) {
      const input = heapView(backend, planes, row * paddedWidth * images, [
        1,
        viewHeight,
        paddedWidth,
        images,
      ]);
      // [1, channels, filterWidth, outChannels]
      const part = conv2d(
        backend,
        input,
        dyAsFilter,
        [paddedHeight, 1],
        [strideHeight, strideWidth],
        [0, 0, 0, 0],
      );
      const values = backend.typedArrayFromHeap(part) as Float32Array;
      for (let c = 0; c < channels; c++) {
        for (let column = 0; column < filterWidth; column++) {
          const from = (c * filterWidth + column) * outChannels;
          const to = ((row * filterWidth + column) * channels + c) * outChannels;
          for (let o = 0; o < outChannels; o++) {
            grad[to + o] = (grad[to + o] as number) + (values[from + o] as number);
          }
        }
      }
      release(backend, part);
      releaseView(backend, input);
    }

    release(backend, planes, dyAsFilter);
    releaseView(backend, xChunk);
    releaseView(backend, dyChunk);
  }

  const output = backend.makeOutput([filterHeight, filterWidth, channels, outChannels], "float32");
  (backend.typedArrayFromHeap(output) as Float32Array).set(grad);
  return output;
}

/**
 * Pads NHWC images and lays them out as channel planes [channels, paddedHeight, paddedWidth,
 * images], in one pass of the SIMD kernel where the counts allow, else with stock kernels.
 */
function stackPlanes(
  backend: BackendWasm,
  x: TensorInfo,
  [top, bottom, left, right]: SpatialPadding,
): TensorInfo {
  const [images, height, width, channels] = x.shape as Shape4D;
  const simd =
    images % SIMD_LANES === 0 && channels % SIMD_LANES === 0 ? simdKernels(backend) : null;
  if (simd) {
    const planes = backend.makeOutput(
      [channels, height + top + bottom, width + left + right, images],
      "float32",
    );
    simd.stackPlanes(
      addressOf(backend, x),
      addressOf(backend, planes),
      images,
      height,
      width,
      channels,
      top,
      bottom,
      left,
      right,
    );
    return planes;
  }

  if (top + bottom + left + right === 0) return swapBatchAndChannels(backend, x);
  const padded = runStock(
    "PadV2",
    backend,
    { x },
    {
      paddings: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const planes = swapBatchAndChannels(backend, padded);
  release(backend, padded);
  return planes;
}

/**
 * Transposes NHWC to CHWN in two passes, [n, hwc] to [hwc, n] and then [hw, c, n] to [c, hw, n].
 * The stock Transpose of tfjs-backend-wasm 4.22 took about 11 ms for perm [3, 1, 2, 0] on a
 * [128, 28, 28, 32] tensor, and the two passes about 6 ms, because each pass reads or writes rows.
 */
function swapBatchAndChannels(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const [batch, height, width, channels] = x.shape as Shape4D;
  const rows = reshape(backend, x, [batch, height * width * channels]);
  const columns = transpose(backend, rows, [1, 0]);
  const split = reshape(backend, columns, [height * width, channels, batch]);
  const swapped = transpose(backend, split, [1, 0, 2]);
  const result = reshape(backend, swapped, [channels, height, width, batch]);
  release(backend, rows, columns, split, swapped);
  return result;
}

/**
 * Image positions per product in filterGradFromPatches. With all 128 images of a batch in one
 * product, its operands outgrew the caches. Chunks of 8,192 positions (ten 28x28 images) took the
 * VGG model's 3x3x1x32 filter gradient from about 27 ms to about 14 ms on the 2-core benchmark machine.
 */
const PATCH_CHUNK_POSITIONS = 8192;

/**
 * Computes dL/dfilter as a matrix product with image patches, dW^T = dy^T patches, for layers whose
 * patches are smaller than dy, such as a first layer on grey images. XNNPACK repacks the filter of
 * a convolution and the right operand of a product on every call, at roughly 5 ns per element on
 * this machine, so packing the small patches beats packing dy as a filter. The batch is split into
 * chunks of whole images whose products are summed in doubles.
 */
function filterGradFromPatches(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, inChannels } = info;
  const positionsPerImage = outHeight * outWidth;
  const patchSize = filterHeight * filterWidth * inChannels;
  const imagesPerChunk = Math.max(1, Math.floor(PATCH_CHUNK_POSITIONS / positionsPerImage));

  const offsets = patchOffsets(info);
  // totals is dW^T, [outChannels, patchSize].
  const totals = new Float64Array(outChannels * patchSize);
  for (let first = 0; first < batchSize; first += imagesPerChunk) {
    const images = Math.min(imagesPerChunk, batchSize - first);
    const positions = images * positionsPerImage;
    const patches = backend.makeOutput([positions, patchSize], "float32");
    const dyRows = backend.makeOutput([positions, outChannels], "float32");
    // Views are taken after the allocations because growing the wasm heap detaches older views.
    writePatches(
      backend.typedArrayFromHeap(x) as Float32Array,
      backend.typedArrayFromHeap(patches) as Float32Array,
      info,
      offsets,
      first,
      images,
    );
    const dyStart = first * positionsPerImage * outChannels;
    (backend.typedArrayFromHeap(dyRows) as Float32Array).set(
      (backend.typedArrayFromHeap(dy) as Float32Array).subarray(
        dyStart,
        dyStart + positions * outChannels,
      ),
    );

    const dyColumns = transpose(backend, dyRows, [1, 0]);
    const gradT = runStock(
      "BatchMatMul",
      backend,
      { a: dyColumns, b: patches },
      { transposeA: false, transposeB: false },
    );
    const values = backend.typedArrayFromHeap(gradT) as Float32Array;
    for (let i = 0; i < totals.length; i++)
      totals[i] = (totals[i] as number) + (values[i] as number);
    release(backend, patches, dyRows, dyColumns, gradT);
  }

  const grad = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], "float32");
  const target = backend.typedArrayFromHeap(grad) as Float32Array;
  for (let o = 0; o < outChannels; o++) {
    for (let k = 0; k < patchSize; k++) {
      target[k * outChannels + o] = totals[o * patchSize + k] as number;
    }
  }
  return grad;
}

/**
 * Offsets into one NHWC image of each patch entry, in the order of the image's patch rows
 * [outHeight * outWidth, filterHeight, filterWidth], or -1 for entries in the padding.
 * Each offset is the entry's first channel; its inChannels channels follow it.
 */
function patchOffsets(info: backend_util.Conv2DInfo): Int32Array {
  const { inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const offsets = new Int32Array(outHeight * outWidth * filterHeight * filterWidth);
  let next = 0;
  for (let outRow = 0; outRow < outHeight; outRow++) {
    for (let outCol = 0; outCol < outWidth; outCol++) {
      for (let i = 0; i < filterHeight; i++) {
        const row = outRow * strideHeight + i - info.padInfo.top;
        for (let j = 0; j < filterWidth; j++) {
          const col = outCol * strideWidth + j - info.padInfo.left;
          const inside = row >= 0 && row < inHeight && col >= 0 && col < inWidth;
          offsets[next++] = inside ? (row * inWidth + col) * inChannels : -1;
        }
      }
    }
  }
  return offsets;
}

/**
 * Writes the patches of `images` images from `first` on as rows [filterHeight, filterWidth,
 * inChannels], reading the image offsets that patchOffsets gives for `info`.
 */
function writePatches(
  source: Float32Array,
  target: Float32Array,
  info: backend_util.Conv2DInfo,
  offsets: Int32Array,
  first: number,
  images: number,
): void {
  const { inHeight, inWidth, inChannels } = info;
  let next = 0;
  // Indexed loops with plain zero stores, and one pass without a channel loop for grey images:
  // against an iterator over `offsets` and fill() for padded entries, they took the VGG model's
  // first-layer filter gradient from about 16.5 ms to 11.7 ms on the 2-core benchmark machine.
  for (let b = first; b < first + images; b++) {
    const image = b * inHeight * inWidth * inChannels;
    if (inChannels === 1) {
      for (let k = 0; k < offsets.length; k++, next++) {
        const offset = offsets[k] as number;
        target[next] = offset < 0 ? 0 : (source[image + offset] as number);
      }
      continue;
    }
    for (let k = 0; k < offsets.length; k++) {
      const offset = offsets[k] as number;
      if (offset < 0) {
        for (let c = 0; c < inChannels; c++) target[next++] = 0;
      } else {
        const start = image + offset;
        for (let c = 0; c < inChannels; c++) target[next++] = source[start + c] as number;
      }
    }
  }
}

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
  const grad = conv2d(
    wasm,
    source,
    flipped,
    [1, 1],
    [1, 1],
    [top, Math.max(bottom, 0), left, Math.max(right, 0)],
  );

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

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter,
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: "Conv2DBackpropInput",
  backendName: "wasm",
  kernelFunc: conv2DBackpropInput,
};
