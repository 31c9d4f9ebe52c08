import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type BatchMatMulAttrs,
  broadcast_util,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { addressOf, SIMD_LANES, simdKernels } from "../simd/module";
import { release, reshape, runStock, transpose } from "./kernel-calls";

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
  const simdProduct = simdMatMul(wasm, a, b, transposeA, transposeB);
  if (simdProduct) return simdProduct;
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

/**
 * Minimum multiply-adds for which simdMatMul replaces XNNPACK, whose packing is then a large part
 * of the cost. On the 2-core benchmark machine, the seed CNN's forward product and weight gradient
 * (89 million multiply-adds each) took 4.5 and 5.8 ms against XNNPACK's 5.3 and 7.6 ms.
 */
const SIMD_MIN_PRODUCTS = 1 << 20;

/**
 * Computes a single (unbatched) float32 product with the SIMD kernel, which reads both operands
 * in place where XNNPACK packs the right one on every call. Returns null where it does not apply:
 * a batch of products, too little work, or a column count that is not a multiple of 4. A
 * transposed right operand is transposed first, and a transposed left one is read as it is.
 */
function simdMatMul(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo | null {
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  const single =
    util.sizeFromShape(a.shape.slice(0, -2)) === 1 &&
    util.sizeFromShape(b.shape.slice(0, -2)) === 1;
  const rows = a.shape[transposeA ? rankA - 1 : rankA - 2] ?? 1;
  const inner = a.shape[transposeA ? rankA - 2 : rankA - 1] ?? 1;
  const columns = b.shape[transposeB ? rankB - 2 : rankB - 1] ?? 1;
  // A transposed right operand is read as the left one of the transposed product, which needs
  // the row count to be a multiple of 4 instead.
  const outer = transposeB ? rows : columns;
  if (
    !single ||
    a.dtype !== "float32" ||
    b.dtype !== "float32" ||
    outer % SIMD_LANES !== 0 ||
    rows * inner * columns < SIMD_MIN_PRODUCTS
  ) {
    return null;
  }
  const simd = simdKernels(backend);
  if (!simd) return null;

  const outShape = broadcast_util
    .assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2))
    .concat([rows, columns]);
  if (!transposeB) {
    const product = backend.makeOutput(outShape, "float32");
    simd.matMul(
      addressOf(backend, a),
      addressOf(backend, b),
      addressOf(backend, product),
      rows,
      inner,
      columns,
      transposeA ? 1 : 0,
    );
    return product;
  }

  // (op(A) B^T)^T = B op(A)^T, where op(A)^T is A as stored when transposeA is set.
  let right = a;
  if (!transposeA) {
    const matrix = reshape(backend, a, [rows, inner]);
    right = transpose(backend, matrix, [1, 0]);
    release(backend, matrix);
  }
  const productT = backend.makeOutput([columns, rows], "float32");
  simd.matMul(
    addressOf(backend, b),
    addressOf(backend, right),
    addressOf(backend, productT),
    columns,
    inner,
    rows,
    0,
  );
  const product = transpose(backend, productT, [1, 0]);
  release(backend, productT);
  if (right !== a) release(backend, right);
  const shaped = reshape(backend, product, outShape);
  release(backend, product);
  return shaped;
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
