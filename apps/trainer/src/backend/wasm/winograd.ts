import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, type SimdKernels, simdKernels, withScratch } from "../simd/module";
import { release } from "./kernel-calls";

/** Points of the 6x6 windows of the Winograd transform F(4x4, 3x3), one product each. */
export const WINDOW_POINTS = 36;

/**
 * Output tiles per round of transforms and products. A round's transformed input and products
 * take 36 * tiles * channels floats each, and rounds this small keep them in the caches. On the
 * 2-core benchmark machine, the VGG model's 3x3 convolutions at batch 128 took about the same time
 * with rounds of 64 and 128 tiles. With 256 tiles, its 14x14x64 layer took 25% longer.
 */
const TILES_PER_ROUND = 64;

/**
 * Minimum output tiles for the Winograd path, below which the transforms cost more than the
 * multiplications they save. On the 2-core benchmark machine, one 14x14x64 image (16 tiles) took
 * 0.41 ms against XNNPACK's 0.56 ms, and one 7x7x64 image (4 tiles) 0.24 ms against 0.15 ms.
 */
const MIN_TILES = 16;

/** Epilogue of the Winograd convolution: an optional bias of outChannels, then optional ReLU. */
export interface ConvEpilogue {
  bias?: TensorInfo;
  relu?: boolean;
}

/**
 * Returns whether winogradConv2d can compute the convolution that `info` describes. That needs a
 * 3x3 filter at stride 1 and dilation 1 on NHWC tensors whose channel counts are multiples of the
 * SIMD width, and enough output tiles to pay for the transforms.
 */
export function winogradApplies(backend: BackendWasm, info: backend_util.Conv2DInfo): boolean {
  const tiles = info.batchSize * Math.ceil(info.outHeight / 4) * Math.ceil(info.outWidth / 4);
  return (
    info.dataFormat === "channelsLast" &&
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.inChannels % SIMD_LANES === 0 &&
    info.outChannels % SIMD_LANES === 0 &&
    tiles >= MIN_TILES &&
    simdKernels(backend) !== null
  );
}

/**
 * Floats between consecutive window points' matrices in the transform buffers: the 64 bytes of
 * gap that pointStride in assembly/winograd.ts adds.
 */
const POINT_GAP_FLOATS = 16;

/**
 * Allocates the 36 [tiles, channels] matrices of one round's transformed windows or products,
 * with the gaps between them that the SIMD kernels expect.
 */
export function pointMatrices(backend: BackendWasm, tiles: number, channels: number): TensorInfo {
  return backend.makeOutput([WINDOW_POINTS * (tiles * channels + POINT_GAP_FLOATS)], "float32");
}

/** Output tiles of a Winograd convolution, taken in rounds of whole images. */
export interface WinogradTiling {
  tileRows: number;
  tileColumns: number;
  tilesPerImage: number;
  imagesPerRound: number;
  /** Tiles in a full round. */
  roundTiles: number;
}

/** Splits the output into 4x4 tiles and the batch into rounds of about `tilesPerRound` tiles. */
export function winogradTiling(
  info: backend_util.Conv2DInfo,
  tilesPerRound: number,
): WinogradTiling {
  const tileRows = Math.ceil(info.outHeight / 4);
  const tileColumns = Math.ceil(info.outWidth / 4);
  const tilesPerImage = tileRows * tileColumns;
  const imagesPerRound = Math.min(
    info.batchSize,
    Math.max(1, Math.floor(tilesPerRound / tilesPerImage)),
  );
  return {
    tileRows,
    tileColumns,
    tilesPerImage,
    imagesPerRound,
    roundTiles: imagesPerRound * tilesPerImage,
  };
}

/**
 * Returns the scratch bytes that the transforms of a convolution need: a window of one channel
 * vector, twice, and one window of every input channel or one 4x4 tile of every output channel
 * for tiles at the image's edge.
 */
export function winogradScratchBytes(simd: SimdKernels, info: backend_util.Conv2DInfo): number {
  return (
    simd.winogradScratchBytes + WINDOW_POINTS * 4 * Math.max(info.inChannels, info.outChannels)
  );
}

/**
 * Writes the transformed 6x6 input windows of `images` images from `first` on into `windows`
 * (pointMatrices of inChannels), with the padding that `info` gives.
 */
export function transformWindows(
  backend: BackendWasm,
  simd: SimdKernels,
  x: TensorInfo,
  windows: TensorInfo,
  info: backend_util.Conv2DInfo,
  { tileRows, tileColumns }: WinogradTiling,
  first: number,
  images: number,
  scratch: number,
): void {
  const { inHeight, inWidth, inChannels } = info;
  simd.winogradInput(
    addressOf(backend, x) + first * inHeight * inWidth * inChannels * 4,
    addressOf(backend, windows),
    images,
    inHeight,
    inWidth,
    inChannels,
    info.padInfo.top,
    info.padInfo.left,
    tileRows,
    tileColumns,
    scratch,
  );
}

/**
 * Computes a 3x3 stride-1 convolution of x [batch, inHeight, inWidth, inChannels] with filter
 * [3, 3, inChannels, outChannels] as Winograd F(4x4, 3x3). The 6x6 input windows and the filter
 * are transformed, and each of the 36 window points becomes one matrix product of [tiles,
 * inChannels] by [inChannels, outChannels]. The products are transformed back into 4x4 output
 * tiles. That takes 36 multiplications per tile and channel pair where the direct convolution
 * takes 144. The products run in a SIMD kernel rather than XNNPACK, which was about 13% slower
 * for them on the 2-core benchmark machine, mostly in per-call setup. Call only where
 * winogradApplies returns true.
 */
export function winogradConv2d(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  { bias, relu = false }: ConvEpilogue = {},
): TensorInfo {
  const simd = simdKernels(backend) as SimdKernels;
  const { batchSize, inChannels, outHeight, outWidth, outChannels } = info;
  const tiling = winogradTiling(info, TILES_PER_ROUND);
  const { tileRows, tileColumns, tilesPerImage, imagesPerRound, roundTiles } = tiling;

  const transformed = backend.makeOutput([WINDOW_POINTS, inChannels, outChannels], "float32");
  const windows = pointMatrices(backend, roundTiles, inChannels);
  const products = pointMatrices(backend, roundTiles, outChannels);
  const y = backend.makeOutput([batchSize, outHeight, outWidth, outChannels], "float32");
  const outputImageBytes = outHeight * outWidth * outChannels * 4;

  withScratch(backend, winogradScratchBytes(simd, info), (scratch) => {
    simd.winogradFilter(
      addressOf(backend, filter),
      addressOf(backend, transformed),
      inChannels,
      outChannels,
      scratch,
    );
    for (let first = 0; first < batchSize; first += imagesPerRound) {
      const images = Math.min(imagesPerRound, batchSize - first);
      const tiles = images * tilesPerImage;
      transformWindows(backend, simd, x, windows, info, tiling, first, images, scratch);
      simd.winogradProducts(
        addressOf(backend, windows),
        addressOf(backend, transformed),
        addressOf(backend, products),
        tiles,
        inChannels,
        outChannels,
      );
      simd.winogradOutput(
        addressOf(backend, products),
        addressOf(backend, y) + first * outputImageBytes,
        bias ? addressOf(backend, bias) : 0,
        relu ? 1 : 0,
        images,
        outHeight,
        outWidth,
        outChannels,
        tileRows,
        tileColumns,
        scratch,
      );
    }
  });
  release(backend, transformed, windows, products);
  return y;
}
