import {
  getKernel,
  getKernelsForBackend,
  type KernelConfig,
  registerKernel,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { adamUpdateConfig } from "./adam";
import { fusedBatchNormConfig } from "./batch-norm";
import { conv2DBackpropFilterConfig } from "./conv-backprop-filter";
import { conv2DBackpropInputConfig } from "./conv-backprop-input";
import { conv2DConfig, fusedConv2DConfig } from "./conv2d";
import { cpuFallback } from "./cpu-fallback";
import { recordFusedConv2DAttrs } from "./fused-conv";
import { registerGradientOverrides } from "./gradients";
import { castConfig, identityConfig } from "./identity";
import { rememberStockKernel } from "./kernel-calls";
import { batchMatMulConfig, fusedMatMulConfig } from "./mat-mul";
import { maxPoolGradConfig } from "./max-pool-grad";
import { reluGradConfig } from "./relu-grad";
import { sliceConfig } from "./slice";
import { meanConfig, sumConfig } from "./sum";
import { tileConfig } from "./tile";
import { transposeConfig } from "./transpose";

/** Kernels this package implements for wasm, replacing the stock kernel where there is one. */
export const WASM_KERNELS: readonly KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  sumConfig,
  meanConfig,
  tileConfig,
  sliceConfig,
  identityConfig,
  castConfig,
  fusedBatchNormConfig,
  reluGradConfig,
  transposeConfig,
  adamUpdateConfig,
];

/**
 * Stock wasm kernels that give wrong results in tfjs-backend-wasm 4.22 and run on the cpu
 * backend instead. ResizeNearestNeighborGrad is only correct there for a batch of one.
 */
export const CPU_OVERRIDES: readonly string[] = ["ResizeNearestNeighborGrad"];

let registeredFallbacks: string[] | null = null;

/**
 * Registers the replacement kernels, then makes every kernel that the cpu backend has and wasm
 * lacks run on cpu. Also replaces the gradients of Mean, FusedBatchNorm and fused conv2d for every
 * backend, with ones that give the same values with fewer full-size intermediate tensors or fewer
 * unused gradients; fused conv2d's needs the wrapped FusedConv2D kernels of wasm and cpu.
 * Idempotent, and must run before the wasm backend first computes anything. Returns the names of the kernels that fall back to cpu.
 */
export function registerWasmKernels(): string[] {
  if (registeredFallbacks) return registeredFallbacks;

  registerGradientOverrides();

  for (const config of WASM_KERNELS) replaceKernel(config);
  recordFusedConv2DAttrs(["wasm", "cpu"]);

  for (const kernelName of CPU_OVERRIDES) {
    const cpuKernel = getKernel(kernelName, "cpu");
    if (cpuKernel) replaceKernel(cpuFallback(cpuKernel));
  }

  const onWasm = new Set(getKernelsForBackend("wasm").map((config) => config.kernelName));
  const fallbacks = [...CPU_OVERRIDES];
  for (const cpuKernel of getKernelsForBackend("cpu")) {
    if (onWasm.has(cpuKernel.kernelName)) continue;
    registerKernel(cpuFallback(cpuKernel));
    fallbacks.push(cpuKernel.kernelName);
  }

  registeredFallbacks = fallbacks.sort();
  return registeredFallbacks;
}

/**
 * Swaps in `config`, keeping the stock kernel's setup and dispose functions: the backend runs them
 * once at initialization, and the stock kernel function, which replacements delegate to, needs them.
 */
function replaceKernel(config: KernelConfig): void {
  const stock = rememberStockKernel(config.kernelName);
  if (!stock) {
    registerKernel(config);
    return;
  }
  unregisterKernel(config.kernelName, "wasm");
  registerKernel({ ...config, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc });
}
