import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  getBackend,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  backend as tfBackend,
  util,
} from "@tensorflow/tfjs-core";
import { addressOf, simdKernels } from "../simd/module";

/**
 * One Adam step for a float32 variable in one pass. Inputs are value, gradient, m, v and the
 * scalar tensors accBeta1 and accBeta2 (beta^t). Outputs are the new value, m and v.
 */
export const ADAM_UPDATE = "ConvnetAdamUpdate";

export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

const adamUpdate: KernelFunc = ({ inputs, attrs, backend }) => {
  const wasm = backend as BackendWasm;
  const simd = simdKernels(wasm);
  if (!simd)
    throw new Error(
      `${ADAM_UPDATE} needs the wasm SIMD kernels, which did not load; check canRunAdamUpdate() first.`,
    );
  const { value, gradient, m, v, accBeta1, accBeta2 } = inputs as Record<string, TensorInfo>;
  const { beta1, beta2, epsilon, learningRate } = attrs as unknown as AdamUpdateAttrs;
  const shape = (value as TensorInfo).shape;
  const outputs = [0, 1, 2].map(() => wasm.makeOutput(shape, "float32"));
  const [newValue, newM, newV] = outputs as [TensorInfo, TensorInfo, TensorInfo];
  // tfjs computes 1 - beta^t as a float32 subtraction from the float32 beta^t.
  const oneMinus = (info: TensorInfo | undefined) =>
    Math.fround(1 - ((wasm.typedArrayFromHeap(info as TensorInfo) as Float32Array)[0] as number));
  const at = (info: TensorInfo | undefined) => addressOf(wasm, info as TensorInfo);

  simd.adamUpdate(
    at(value),
    at(gradient),
    at(m),
    at(v),
    at(newValue),
    at(newM),
    at(newV),
    util.sizeFromShape(shape),
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    oneMinus(accBeta1),
    oneMinus(accBeta2),
    epsilon,
    -learningRate,
  );
  return outputs;
};

export const adamUpdateConfig: KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: "wasm",
  kernelFunc: adamUpdate,
};

/** Reports whether the current backend can run ADAM_UPDATE. */
export function canRunAdamUpdate(): boolean {
  if (!getKernel(ADAM_UPDATE, getBackend())) return false;
  return simdKernels(tfBackend() as BackendWasm) !== null;
}
