import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  getKernel,
  type KernelConfig,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

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

export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
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
