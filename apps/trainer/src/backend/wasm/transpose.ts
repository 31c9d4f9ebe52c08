import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KernelConfig, TensorInfo, TransposeAttrs } from "@tensorflow/tfjs-core";
import { transpose } from "./kernel-calls";

/** Transpose for wasm: float32 matrices go to the SIMD kernel, the rest to the stock kernel. */
export const transposeConfig: KernelConfig = {
  kernelName: "Transpose",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    const { perm } = attrs as unknown as TransposeAttrs;
    return transpose(backend as BackendWasm, x, perm);
  },
};
