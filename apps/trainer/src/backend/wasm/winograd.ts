import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, type SimdKernels, simdKernels, withScratch } from "../simd/module";
import { heapView, releaseView } from "./heap-views";
import { release } from "./kernel-calls";

// NOTE: heap views rely on BackendWasm internals of tfjs-backend-wasm 4.22.0, which
// apps/trainer/package.json pins exactly; recheck this module before changing that version.

/** Points of the 6x6 windows of the Winograd transform F(4x4, 3x3), one product each. */
export const WINDOW_POINTS = 36;

/**
 * Output tiles per round of transforms and products. A round's transformed input and products
 * take 36 * tiles * channels floats each, and rounds this small keep them in the caches. On the
 * 2-core benchmark machine, the VGG model's 3x3 convolutions at batch 128 took about the same time
 * with rounds of 32 to 192 tiles. Rounds of 1,024 tiles took up to 30% longer.
 */
const TILES_PER_ROUND = 128;

/**
 * Minimum output tiles for the Winograd path. For fewer tiles, as in one 28x28 image, the 36
 * product calls cost more than the multiplications they save.
 */
const MIN_TILES = 64;

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
 * Writes the transformed 6x6 input windows of `images` images from `first` on into `windows`
 * [36, tiles, inChannels], with the padding that `info` gives.
 */
export function transformWindows(
  backend: BackendWasm,
  x: TensorInfo,
  windows: TensorInfo,
  info: backend_util.Conv2DInfo,
  first: number,
  images: number,
  scratch: number,
): void {
  const { inHeight, inWidth, inChannels } = info;
  const { tileRows, tileColumns } = winogradTiling(info, 1);
  (simdKernels(backend) as SimdKernels).winogradInput(
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
 * are transformed, and each of the 36 window points becomes one XNNPACK matrix product of [tiles,
 * inChannels] by [inChannels, outChannels]. The products are transformed back into 4x4 output
 * tiles. That takes 36 multiplications per tile and channel pair where the direct convolution
 * takes 144. Call only where winogradApplies returns true.
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
  const { tileRows, tileColumns, tilesPerImage, imagesPerRound, roundTiles } = winogradTiling(
    info,
    TILES_PER_ROUND,
  );

  const transformed = backend.makeOutput([WINDOW_POINTS, inChannels, outChannels], "float32");
  const windows = backend.makeOutput([WINDOW_POINTS, roundTiles, inChannels], "float32");
  const products = backend.makeOutput([WINDOW_POINTS, roundTiles, outChannels], "float32");
  const y = backend.makeOutput([batchSize, outHeight, outWidth, outChannels], "float32");
  const outputImageBytes = outHeight * outWidth * outChannels * 4;
  let multiply: PointProducts | null = null;

  withScratch(backend, simd.winogradScratchBytes, (scratch) => {
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
      transformWindows(backend, x, windows, info, first, images, scratch);
      if (multiply?.tiles !== tiles) {
        multiply?.release();
        multiply = new PointProducts(backend, windows, transformed, products, tiles);
      }
      multiply.run();
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
  (multiply as PointProducts | null)?.release();
  release(backend, transformed, windows, products);
  return y;
}

interface XnnpackExports {
  BatchMatMul(
    aId: number,
    aShape: number,
    aRank: number,
    bId: number,
    bShape: number,
    bRank: number,
    transposeA: number,
    transposeB: number,
    outId: number,
  ): void;
}

/**
 * Matrix products of one round, [tiles, inChannels] by [inChannels, outChannels] for each of the
 * 36 window points, written into `products`. It calls the backend's BatchMatMul export directly
 * on views of the round's buffers, because the stock kernel function allocates an output and two
 * reshapes per call. Reusing the views also lets later rounds reuse the operators that XNNPACK
 * cached for them, where a new filter view per call made XNNPACK pack the filter again.
 */
class PointProducts {
  private readonly views: TensorInfo[] = [];
  private readonly shapes: TensorInfo;
  private readonly calls: [number, number, number][] = [];

  constructor(
    private readonly backend: BackendWasm,
    windows: TensorInfo,
    transformed: TensorInfo,
    products: TensorInfo,
    readonly tiles: number,
  ) {
    const [, inChannels, outChannels] = transformed.shape as [number, number, number];
    this.shapes = backend.makeOutput([6], "int32");
    (backend.typedArrayFromHeap(this.shapes) as Int32Array).set([
      1,
      tiles,
      inChannels,
      1,
      inChannels,
      outChannels,
    ]);
    const idOf = (view: TensorInfo) => {
      this.views.push(view);
      return (backend.dataIdMap.get(view.dataId) as { id: number }).id;
    };
    for (let point = 0; point < WINDOW_POINTS; point++) {
      this.calls.push([
        idOf(heapView(backend, windows, point * tiles * inChannels, [1, tiles, inChannels])),
        idOf(
          heapView(backend, transformed, point * inChannels * outChannels, [
            1,
            inChannels,
            outChannels,
          ]),
        ),
        idOf(heapView(backend, products, point * tiles * outChannels, [1, tiles, outChannels])),
      ]);
    }
  }

  run(): void {
    const xnnpack = (this.backend.wasm as unknown as { asm: XnnpackExports }).asm;
    const shapes = addressOf(this.backend, this.shapes);
    for (const [a, b, out] of this.calls) {
      xnnpack.BatchMatMul(a, shapes, 3, b, shapes + 12, 3, 0, 0, out);
    }
  }

  release(): void {
    for (const view of this.views) releaseView(this.backend, view);
    release(this.backend, this.shapes);
  }
}
