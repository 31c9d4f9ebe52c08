import { readFileSync } from "node:fs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { TensorInfo } from "@tensorflow/tfjs-core";

// NOTE: the kernels work in place on the wasm backend's own memory, which they find through the
// Emscripten `asm.memory` export of tfjs-backend-wasm 4.22.0. That version is pinned in
// apps/trainer/package.json, so recheck this module before changing it.

/**
 * Exports of kernels.wasm, built from apps/trainer/assembly by `npm run build:simd -w
 * apps/trainer`. Every argument that names a tensor is a byte address in the backend's memory.
 */
export interface SimdKernels {
  batchNormForward(
    x: number,
    y: number,
    positions: number,
    channels: number,
    scale: number,
    offset: number,
    epsilon: number,
    mean: number,
    variance: number,
    scratch: number,
  ): void;
  batchNormGrad(
    x: number,
    dy: number,
    dx: number,
    positions: number,
    channels: number,
    mean: number,
    variance: number,
    scale: number,
    epsilon: number,
    dMean: number,
    dVariance: number,
    dScale: number,
    dOffset: number,
    scratch: number,
  ): void;
  maxPoolGrad2x2(
    x: number,
    dy: number,
    dx: number,
    batch: number,
    inHeight: number,
    inWidth: number,
    outHeight: number,
    outWidth: number,
    channels: number,
  ): void;
  stackPlanes(
    x: number,
    out: number,
    images: number,
    height: number,
    width: number,
    channels: number,
    top: number,
    bottom: number,
    left: number,
    right: number,
  ): void;
  reluGrad(dy: number, x: number, dx: number, size: number): void;
  adamUpdate(
    value: number,
    gradient: number,
    m: number,
    v: number,
    newValue: number,
    newM: number,
    newV: number,
    size: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    epsilon: number,
    negativeLearningRate: number,
  ): void;
  filterGradOneChannel3(
    x: number,
    dy: number,
    grad: number,
    scratch: number,
    images: number,
    inHeight: number,
    inWidth: number,
    outHeight: number,
    outWidth: number,
    outChannels: number,
    filterHeight: number,
    strideHeight: number,
    strideWidth: number,
  ): void;
  transpose2d(x: number, out: number, rows: number, columns: number): void;
  matMul(
    a: number,
    b: number,
    c: number,
    rows: number,
    inner: number,
    columns: number,
    transposeA: number,
  ): void;
  convOneChannel(
    x: number,
    filter: number,
    bias: number,
    relu: number,
    y: number,
    images: number,
    inHeight: number,
    inWidth: number,
    outHeight: number,
    outWidth: number,
    outChannels: number,
    filterHeight: number,
    filterWidth: number,
    strideHeight: number,
    strideWidth: number,
  ): void;
  columnSums(x: number, out: number, rows: number, columns: number, scratch: number): void;
  winogradFilter(
    g: number,
    u: number,
    channels: number,
    outChannels: number,
    scratch: number,
  ): void;
  winogradInput(
    x: number,
    v: number,
    images: number,
    height: number,
    width: number,
    channels: number,
    padTop: number,
    padLeft: number,
    tileRows: number,
    tileColumns: number,
    scratch: number,
  ): void;
  winogradOutput(
    products: number,
    y: number,
    bias: number,
    relu: number,
    images: number,
    outHeight: number,
    outWidth: number,
    outChannels: number,
    tileRows: number,
    tileColumns: number,
    scratch: number,
  ): void;
  winogradProducts(
    v: number,
    u: number,
    p: number,
    tiles: number,
    channels: number,
    outChannels: number,
  ): void;
  winogradGradientTiles(
    dy: number,
    e: number,
    images: number,
    outHeight: number,
    outWidth: number,
    outChannels: number,
    tileRows: number,
    tileColumns: number,
    scratch: number,
  ): void;
  winogradWeightProducts(
    v: number,
    e: number,
    m: number,
    tiles: number,
    channels: number,
    outChannels: number,
  ): void;
  winogradFilterGrad(
    m: number,
    grad: number,
    channels: number,
    outChannels: number,
    scratch: number,
  ): void;
  /** Scratch bytes per channel (or column) that the batch-norm kernels and columnSums need. */
  scratchBytesPerChannel: number;
  /** Scratch bytes that each Winograd transform needs. */
  winogradScratchBytes: number;
}

/** Lanes of one SIMD vector: the kernels need channel counts that are multiples of this. */
export const SIMD_LANES = 4;

const WASM_URL = new URL("./kernels.wasm", import.meta.url);

let compiled: WebAssembly.Module | null | undefined;
/** Kernels per backend memory, or null where they could not be instantiated against it. */
const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();

interface EmscriptenModule {
  asm?: { memory?: WebAssembly.Memory };
}

/**
 * Compiles kernels.wasm once, or returns null where the engine lacks wasm SIMD; callers then keep
 * their JS loops.
 */
function compiledModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const bytes = readFileSync(WASM_URL);
  compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  return compiled;
}

/**
 * Returns the SIMD kernels bound to `backend`'s memory, instantiating them on first use, or null
 * when they cannot run there. The instance imports that memory, so it reads and writes every tensor in place
 * and stays valid when the heap grows.
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  const memory = (backend.wasm as unknown as EmscriptenModule).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  const existing = instances.get(memory);
  if (existing !== undefined) return existing;

  const module = compiledModule();
  if (module === null) return null;
  let exports: WebAssembly.Exports;
  try {
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (error) {
    // A shared memory, as the threaded build of the backend uses, does not match the module's
    // unshared memory import, and the callers' JS loops then do the work.
    if (!(error instanceof WebAssembly.LinkError)) throw error;
    instances.set(memory, null);
    return null;
  }
  const kernels = {
    batchNormForward: exports.batchNormForward,
    batchNormGrad: exports.batchNormGrad,
    maxPoolGrad2x2: exports.maxPoolGrad2x2,
    stackPlanes: exports.stackPlanes,
    reluGrad: exports.reluGrad,
    adamUpdate: exports.adamUpdate,
    filterGradOneChannel3: exports.filterGradOneChannel3,
    transpose2d: exports.transpose2d,
    matMul: exports.matMul,
    convOneChannel: exports.convOneChannel,
    columnSums: exports.columnSums,
    winogradFilter: exports.winogradFilter,
    winogradInput: exports.winogradInput,
    winogradOutput: exports.winogradOutput,
    winogradProducts: exports.winogradProducts,
    winogradGradientTiles: exports.winogradGradientTiles,
    winogradWeightProducts: exports.winogradWeightProducts,
    winogradFilterGrad: exports.winogradFilterGrad,
    scratchBytesPerChannel: (exports.SCRATCH_BYTES_PER_CHANNEL as WebAssembly.Global).value,
    winogradScratchBytes: (exports.WINOGRAD_SCRATCH_BYTES as WebAssembly.Global).value,
  } as SimdKernels;
  instances.set(memory, kernels);
  return kernels;
}

/** Returns the byte address of a wasm tensor's data. */
export function addressOf(backend: BackendWasm, tensor: TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (!data) throw new Error("The tensor is not on the wasm backend.");
  return data.memoryOffset;
}

/** Runs `body` with a temporary wasm buffer of `bytes` bytes, freed afterwards. */
export function withScratch(
  wasm: BackendWasm,
  bytes: number,
  body: (address: number) => void,
): void {
  const scratch = wasm.makeOutput([Math.ceil(bytes / 4)], "float32");
  try {
    body(addressOf(wasm, scratch));
  } finally {
    wasm.disposeData(scratch.dataId);
  }
}
