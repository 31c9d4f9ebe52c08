import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type TensorInfo, util } from "@tensorflow/tfjs-core";

// NOTE: views register a second tensor id over memory that another tensor owns, which relies on
// BackendWasm internals of tfjs-backend-wasm 4.22.0 (pinned in apps/trainer/package.json).

/**
 * Returns a tensor over `shape.length`-D float32 data inside `base`, starting `offset` elements in,
 * without copying. The view must be released with releaseView before `base` is disposed, and
 * never with disposeData, which would free memory that `base` owns.
 */
export function heapView(
  backend: BackendWasm,
  base: TensorInfo,
  offset: number,
  shape: number[],
): TensorInfo {
  const size = util.sizeFromShape(shape);
  const baseSize = util.sizeFromShape(base.shape);
  if (base.dtype !== "float32" || offset < 0 || offset + size > baseSize) {
    throw new Error(
      `A view of [${shape.join(", ")}] at element ${offset} does not fit in a ${base.dtype} tensor of ${baseSize} elements.`,
    );
  }
  const data = backend.dataIdMap.get(base.dataId);
  if (!data) throw new Error("The tensor to take a view of is not on the wasm backend.");
  return backend.makeOutput(shape, "float32", data.memoryOffset + offset * 4);
}

/** Forgets a view made by heapView, and any XNNPACK operator cached for it, leaving the memory. */
export function releaseView(backend: BackendWasm, view: TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  if (!data) return;
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}
