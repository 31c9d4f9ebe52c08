import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type KernelConfig,
  type KernelFunc,
  type SliceAttrs,
  slice_util,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { runStock } from "./kernel-calls";

// NOTE: heap views and dataId sharing rely on BackendWasm internals of tfjs-backend-wasm 4.22.0,
// which apps/trainer/package.json pins exactly; recheck these kernels before changing that version.

/**
 * Copies the selected rows straight from the wasm heap. The stock kernel of tfjs-backend-wasm
 * 4.22 first copies the whole input out of the heap with readSync, so cutting one batch of 128
 * images out of a 60,000-image tensor copied 188 MB.
 */
export function slice({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === "string") return runStock("Slice", wasm, inputs, attrs);
  const { begin, size } = attrs as unknown as SliceAttrs;
  const [start, extent] = slice_util.parseSliceParams(x, begin, size) as [number[], number[]];

  const output = wasm.makeOutput(extent, x.dtype);
  // Views are taken after the allocation because growing the wasm heap detaches older views.
  const source = wasm.typedArrayFromHeap(x);
  const target = wasm.typedArrayFromHeap(output);
  if (target.length === 0) return output;

  const rank = x.shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let axis = rank - 2; axis >= 0; axis--) {
    strides[axis] = (strides[axis + 1] ?? 1) * (x.shape[axis + 1] ?? 1);
  }
  const offsetOf = (index: number[]) =>
    index.reduce(
      (offset, value, axis) => offset + ((start[axis] ?? 0) + value) * (strides[axis] ?? 0),
      0,
    );

  if (slice_util.isSliceContinous(x.shape, start, extent)) {
    const offset = offsetOf(new Array<number>(rank).fill(0));
    target.set(source.subarray(offset, offset + target.length));
    return output;
  }

  // Copy one innermost row at a time, advancing the outer index like an odometer.
  const rowLength = extent[rank - 1] ?? 1;
  const index = new Array<number>(rank).fill(0);
  for (let next = 0; next < target.length; next += rowLength) {
    const offset = offsetOf(index);
    target.set(source.subarray(offset, offset + rowLength), next);
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis] = (index[axis] ?? 0) + 1;
      if ((index[axis] ?? 0) < (extent[axis] ?? 1)) break;
      index[axis] = 0;
    }
  }
  return output;
}

export const sliceConfig: KernelConfig = {
  kernelName: "Slice",
  backendName: "wasm",
  kernelFunc: slice,
};
