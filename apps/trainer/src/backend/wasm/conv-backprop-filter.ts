import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, type SimdKernels, simdKernels, withScratch } from "../simd/module";
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
import { padForWindows } from "./pad-one-channel";
import { patchOffsets, writePatches } from "./patches";
import { winogradApplies } from "./winograd";
import { winogradFilterGradient } from "./winograd-filter-grad";

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

  if (winogradApplies(wasm, info)) return winogradFilterGradient(wasm, x, dy, info);

  const oneChannel = info.inChannels === 1 && info.filterWidth === 3 && info.outChannels % 8 === 0;
  const simd = oneChannel ? simdKernels(wasm) : null;
  if (simd) return filterGradOneChannel(wasm, simd, x, dy, info);

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
 * Computes the filter gradient of a layer with one input channel and three filter columns with
 * the SIMD kernel, over the input padded as the forward pass saw it. In 20-call loops on a
 * 2.1 GHz Xeon, a 3x3x1x32 gradient over [128, 28, 28, 1] took 2.8 to 5.8 ms ('valid') and 4.3 to
 * 5.1 ms ('same'). filterGradFromPatches took 13 to 21 ms for the same work per channel.
 */
function filterGradOneChannel(
  backend: BackendWasm,
  simd: SimdKernels,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const padded = padForWindows(backend, x, info);
  const grad = backend.makeOutput([filterHeight, filterWidth, 1, outChannels], "float32");

  // The kernel sums in float64: eight bytes per filter entry.
  withScratch(backend, filterHeight * filterWidth * outChannels * 8, (scratch) => {
    simd.filterGradOneChannel3(
      addressOf(backend, padded.images),
      addressOf(backend, dy),
      addressOf(backend, grad),
      scratch,
      batchSize,
      padded.height,
      padded.width,
      outHeight,
      outWidth,
      outChannels,
      filterHeight,
      strideHeight,
      strideWidth,
    );
  });
  if (padded.images !== x) release(backend, padded.images);
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

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter,
};
