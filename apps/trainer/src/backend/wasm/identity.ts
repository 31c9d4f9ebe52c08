import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { CastAttrs, KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { runStock } from "./kernel-calls";

// NOTE: heap views and dataId sharing rely on BackendWasm internals of tfjs-backend-wasm 4.22.0,
// which apps/trainer/package.json pins exactly; recheck these kernels before changing that version.

/**
 * Shares the input's buffer instead of copying it, as the cpu backend does. Tensors are immutable
 * and the backend counts references per buffer, so sharing is safe.
 */
export function identity({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === "string") return runStock("Identity", wasm, inputs);
  wasm.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Casts to the same dtype share the buffer. Casts to bool compare with zero: the stock kernel of
 * tfjs-backend-wasm 4.22 copies into a byte array, which turned -3.2 into 253 instead of true.
 * Other conversions use the stock kernel.
 */
export function cast({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: TensorInfo };
  const { dtype } = attrs as unknown as CastAttrs;
  if (x.dtype === "string") return runStock("Cast", wasm, inputs, attrs);
  if (dtype === x.dtype) {
    wasm.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }
  if (dtype !== "bool") return runStock("Cast", wasm, inputs, attrs);

  const output = wasm.makeOutput(x.shape, "bool");
  const values = wasm.typedArrayFromHeap(x);
  const flags = wasm.typedArrayFromHeap(output);
  for (let i = 0; i < values.length; i++) flags[i] = values[i] !== 0 ? 1 : 0;
  return output;
}

export const identityConfig: KernelConfig = {
  kernelName: "Identity",
  backendName: "wasm",
  kernelFunc: identity,
};

export const castConfig: KernelConfig = {
  kernelName: "Cast",
  backendName: "wasm",
  kernelFunc: cast,
};
