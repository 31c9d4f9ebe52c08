import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type BackendValues,
  engine,
  type KernelConfig,
  type KernelFunc,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

/**
 * Wraps a cpu kernel so that it runs for the wasm backend: inputs are copied from the wasm heap
 * into the cpu backend, the cpu kernel runs, and its outputs are copied back. The copies cost
 * time, so this is for kernels that are missing on wasm or wrong there and off the hot path.
 */
export function cpuFallback(cpuKernel: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const cpu = cpuBackend();

    const cpuInputs: NamedTensorInfoMap = {};
    for (const [name, info] of Object.entries(inputs)) {
      if (info === undefined) continue;
      const values = wasm.readSync(info.dataId);
      cpuInputs[name] = {
        dataId: cpu.write(values, info.shape, info.dtype),
        shape: info.shape,
        dtype: info.dtype,
      };
    }

    let cpuOutput: TensorInfo | TensorInfo[];
    try {
      cpuOutput = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu });
    } finally {
      for (const info of Object.values(cpuInputs)) if (info) cpu.disposeData(info.dataId);
    }

    const outputs = Array.isArray(cpuOutput) ? cpuOutput : [cpuOutput];
    const copied = outputs.map((info) => {
      const values: BackendValues = cpu.readSync(info.dataId);
      const output = wasm.makeOutput(info.shape, info.dtype, undefined, values);
      cpu.disposeData(info.dataId);
      return output;
    });
    return Array.isArray(cpuOutput) ? copied : (copied[0] as TensorInfo);
  };
  return { kernelName: cpuKernel.kernelName, backendName: "wasm", kernelFunc };
}

function cpuBackend(): MathBackendCPU {
  const backend = engine().findBackend("cpu");
  if (!backend) {
    throw new Error(
      "The cpu backend is not registered, so kernels missing on wasm cannot run; import @tensorflow/tfjs-backend-cpu.",
    );
  }
  return backend as MathBackendCPU;
}
