import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  getKernel,
  type KernelConfig,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, simdKernels } from "../simd/module";

/** Stock wasm kernels captured before this package replaces them, so replacements can delegate. */
const stockKernels = new Map<string, KernelConfig>();

export function rememberStockKernel(kernelName: string): KernelConfig | undefined {
  const existing = stockKernels.get(kernelName);
  if (existing) return existing;
  const config = getKernel(kernelName, "wasm");
  if (!config) return undefined;
  stockKernels.set(kernelName, config);
  return config;
}

/** Runs the stock wasm kernel `kernelName` on tensors that already live on `backend`. */
export function runStock(
  kernelName: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const stock = rememberStockKernel(kernelName);
  if (!stock) throw new Error(`Kernel ${kernelName} is not registered for the wasm backend.`);
  const output = stock.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(output)) {
    throw new Error(
      `Kernel ${kernelName} returned ${output.length} outputs where one was expected.`,
    );
  }
  return output;
}

/** Releases intermediate tensors that a kernel created and does not return. */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * Transposes with the SIMD kernel where `x` is a float32 matrix whose sides are multiples of 4,
 * else with the stock kernel. For the seed CNN's [128, 5408] activations, the stock kernel of
 * tfjs-backend-wasm 4.22 took 4.3 to 5.2 ms per call and the SIMD kernel 0.6 to 0.7 ms (20-call
 * loops on a 2.1 GHz Xeon).
 */
export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  const [rows, columns] = x.shape as [number, number];
  const matrix = x.shape.length === 2 && perm[0] === 1 && perm[1] === 0;
  if (matrix && x.dtype === "float32" && rows % SIMD_LANES === 0 && columns % SIMD_LANES === 0) {
    const simd = simdKernels(backend);
    if (simd) {
      const output = backend.makeOutput([columns, rows], "float32");
      simd.transpose2d(addressOf(backend, x), addressOf(backend, output), rows, columns);
      return output;
    }
  }
  return runStock("Transpose", backend, { x }, { perm });
}

export function reshape(backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  return runStock("Reshape", backend, { x }, { shape });
}

export function slice(
  backend: BackendWasm,
  x: TensorInfo,
  begin: number[],
  size: number[],
): TensorInfo {
  return runStock("Slice", backend, { x }, { begin, size });
}

/** Pads as [top, bottom, left, right] rows and columns of zeros around an NHWC image batch. */
export type SpatialPadding = [number, number, number, number];

/** Runs the stock XNNPACK convolution (NHWC input, HWIO filter) with explicit padding. */
export function conv2d(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  strides: [number, number],
  dilations: [number, number],
  [top, bottom, left, right]: SpatialPadding,
): TensorInfo {
  const pad = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  return runStock("Conv2D", backend, { x, filter }, {
    strides,
    dilations,
    pad,
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
}
