import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  cast,
  engine,
  type GradConfig,
  getBackend,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  mul,
  step,
  type Tensor,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { addressOf, simdKernels } from "../simd/module";

/** Gradient of Relu in one pass: inputs dy and x, output dy where x > 0, else 0. */
export const RELU_GRAD = "ConvnetReluGrad";

const reluGrad: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const dx = wasm.makeOutput(x.shape, "float32");
  const size = util.sizeFromShape(x.shape);
  const simd = simdKernels(wasm);
  if (simd) {
    simd.reluGrad(addressOf(wasm, dy), addressOf(wasm, x), addressOf(wasm, dx), size);
    return dx;
  }

  // Views are taken after the last allocation because growing the wasm heap detaches them.
  const dyValues = wasm.typedArrayFromHeap(dy) as Float32Array;
  const xValues = wasm.typedArrayFromHeap(x) as Float32Array;
  const dxValues = wasm.typedArrayFromHeap(dx) as Float32Array;
  for (let i = 0; i < size; i++) {
    const value = xValues[i] as number;
    if (value > 0) dxValues[i] = dyValues[i] as number;
    else dxValues[i] = Number.isNaN(value) ? value : 0;
  }
  return dx;
};

export const reluGradConfig: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: "wasm",
  kernelFunc: reluGrad,
};

/**
 * Gradient of Relu that runs RELU_GRAD where the backend has it, in place of tfjs-core 4.22's
 * dy * cast(step(x)), which takes a Step and a Multiply over the whole activation. Other backends
 * keep that formula.
 */
export const reluGradientConfig: GradConfig = {
  kernelName: "Relu",
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => {
    const [x] = saved as [Tensor];
    const gradient = dy as Tensor;
    if (x.dtype === "float32" && getKernel(RELU_GRAD, getBackend())) {
      return { x: () => engine().runKernel(RELU_GRAD, { dy: gradient, x }) as Tensor };
    }
    return { x: () => mul(gradient, cast(step(x), "float32")) };
  },
};
