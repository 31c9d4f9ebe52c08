import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { release, runStock, transpose } from "./kernel-calls";

/**
 * Stock tfjs-backend-wasm 4.22 leaves XNNPACK for a scalar loop whenever transposeA or transposeB
 * is set, which was about 13x slower for the dense-layer gradients of the seed CNN. Transposing
 * explicitly first keeps every product on XNNPACK. Either op(A) op(B) is formed directly, or
 * op(B)^T op(A)^T is formed and transposed back, whichever moves fewer elements. XNNPACK repacks
 * the right operand on every call, so its size counts as moved elements too.
 */
export function batchMatMul({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  if (!transposeA && !transposeB) return runStock("BatchMatMul", wasm, inputs, attrs);

  const sizeA = util.sizeFromShape(a.shape);
  const sizeB = util.sizeFromShape(b.shape);
  const rows = a.shape[a.shape.length - (transposeA ? 1 : 2)] ?? 1;
  const columns = b.shape[b.shape.length - (transposeB ? 2 : 1)] ?? 1;
  const batch = Math.max(
    util.sizeFromShape(a.shape.slice(0, -2)),
    util.sizeFromShape(b.shape.slice(0, -2)),
  );
  const directCost = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0) + sizeB;
  const swappedCost =
    (transposeA ? 0 : sizeA) + (transposeB ? 0 : sizeB) + batch * rows * columns + sizeA;

  if (directCost <= swappedCost) {
    const left = transposeA ? swapLastAxes(wasm, a) : a;
    const right = transposeB ? swapLastAxes(wasm, b) : b;
    const product = plainMatMul(wasm, left, right);
    if (left !== a) release(wasm, left);
    if (right !== b) release(wasm, right);
    return product;
  }

  // (op(A) op(B))^T = op(B)^T op(A)^T, and op(B)^T is B itself when transposeB is set.
  const left = transposeB ? b : swapLastAxes(wasm, b);
  const right = transposeA ? a : swapLastAxes(wasm, a);
  const productT = plainMatMul(wasm, left, right);
  const product = swapLastAxes(wasm, productT);
  release(wasm, productT);
  if (left !== b) release(wasm, left);
  if (right !== a) release(wasm, right);
  return product;
}

/** _FusedMatMul with a transpose flag: transposes the flagged inputs, then runs the stock kernel. */
export function fusedMatMul({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  if (!transposeA && !transposeB) return runStock("_FusedMatMul", wasm, inputs, attrs);

  const left = transposeA ? swapLastAxes(wasm, a) : a;
  const right = transposeB ? swapLastAxes(wasm, b) : b;
  const product = runStock(
    "_FusedMatMul",
    wasm,
    { ...inputs, a: left, b: right },
    { ...attrs, transposeA: false, transposeB: false },
  );
  if (left !== a) release(wasm, left);
  if (right !== b) release(wasm, right);
  return product;
}

function plainMatMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  const attrs: NamedAttrMap = { transposeA: false, transposeB: false };
  return runStock("BatchMatMul", backend, { a, b }, attrs);
}

function swapLastAxes(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const perm = x.shape.map((_, axis) => axis);
  const rank = perm.length;
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return transpose(backend, x, perm);
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: "BatchMatMul",
  backendName: "wasm",
  kernelFunc: batchMatMul,
};

export const fusedMatMulConfig: KernelConfig = {
  kernelName: "_FusedMatMul",
  backendName: "wasm",
  kernelFunc: fusedMatMul,
};
