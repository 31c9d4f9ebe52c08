// Matrix products for dense layers. XNNPACK, as tfjs-backend-wasm calls it, packs the right
// operand on every call, which for a layer's weights costs about as much as a third of the
// product. This kernel reads both operands in place, in panels of the inner dimension that keep a
// panel of the right operand and the whole output in the second-level cache.

/** Inner-dimension steps per panel. */
const PANEL: i32 = 256;

/**
 * Writes c = op(a) b for row-major float32 matrices: op(a) is [rows, inner], stored as a [rows,
 * inner] or, with `transposeA`, as [inner, rows]; b is [inner, columns] and c [rows, columns].
 * `columns` must be a multiple of 4.
 */
export function matMul(
  a: usize,
  b: usize,
  c: usize,
  rows: i32,
  inner: i32,
  columns: i32,
  transposeA: bool,
): void {
  multiplyInto(a, b, c, rows, inner, columns, transposeA, false);
}

/**
 * Computes op(a) b as matMul does, adding it to c where `accumulate` is set. Each pass keeps a
 * block of four rows by eight columns of c in eight vector registers.
 */
export function multiplyInto(
  a: usize,
  b: usize,
  c: usize,
  rows: i32,
  inner: i32,
  columns: i32,
  transposeA: bool,
  accumulate: bool,
): void {
  const columnBytes = (<usize>columns) << 2;
  // Byte steps through op(a): along a row of op(a) (k) and down its rows (m).
  const kStep: usize = transposeA ? (<usize>rows) << 2 : 4;
  const mStep: usize = transposeA ? 4 : (<usize>inner) << 2;
  if (!accumulate) memory.fill(c, 0, <usize>rows * columnBytes);
  const fullRows = rows & ~3;
  for (let first = 0; first < inner; first += PANEL) {
    const steps = <usize>min(PANEL, inner - first);
    const aPanel = a + <usize>first * kStep;
    const bPanel = b + <usize>first * columnBytes;
    let m = 0;
    for (; m < fullRows; m += 4) {
      const aRows = aPanel + <usize>m * mStep;
      const cRows = c + <usize>m * columnBytes;
      for (let n: usize = 0; n < columnBytes; n += 32) {
        const wide = n + 32 <= columnBytes;
        blockOfFour(aRows, bPanel + n, cRows + n, steps, kStep, mStep, columnBytes, wide);
      }
    }
    for (; m < rows; m++) {
      const aRow = aPanel + <usize>m * mStep;
      const cRow = c + <usize>m * columnBytes;
      for (let n: usize = 0; n < columnBytes; n += 16) {
        let sum = v128.load(cRow + n);
        let aAt = aRow;
        let bAt = bPanel + n;
        for (let k: usize = 0; k < steps; k++) {
          sum = f32x4.add(sum, f32x4.mul(v128.load32_splat(aAt), v128.load(bAt)));
          aAt += kStep;
          bAt += columnBytes;
        }
        v128.store(cRow + n, sum);
      }
    }
  }
}

/**
 * Adds one panel's products to a block of four rows of c by eight columns, or by four where
 * `wide` is false.
 */
function blockOfFour(
  aRows: usize,
  bAt: usize,
  cAt: usize,
  steps: usize,
  kStep: usize,
  mStep: usize,
  columnBytes: usize,
  wide: bool,
): void {
  let a0 = v128.load(cAt);
  let a1 = v128.load(cAt + columnBytes);
  let a2 = v128.load(cAt + 2 * columnBytes);
  let a3 = v128.load(cAt + 3 * columnBytes);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let b2 = f32x4.splat(0);
  let b3 = f32x4.splat(0);
  if (wide) {
    b0 = v128.load(cAt + 16);
    b1 = v128.load(cAt + columnBytes + 16);
    b2 = v128.load(cAt + 2 * columnBytes + 16);
    b3 = v128.load(cAt + 3 * columnBytes + 16);
  }

  let aAt = aRows;
  for (let k: usize = 0; k < steps; k++) {
    const low = v128.load(bAt);
    const high = wide ? v128.load(bAt + 16) : low;
    const s0 = v128.load32_splat(aAt);
    const s1 = v128.load32_splat(aAt + mStep);
    const s2 = v128.load32_splat(aAt + 2 * mStep);
    const s3 = v128.load32_splat(aAt + 3 * mStep);
    a0 = f32x4.add(a0, f32x4.mul(s0, low));
    b0 = f32x4.add(b0, f32x4.mul(s0, high));
    a1 = f32x4.add(a1, f32x4.mul(s1, low));
    b1 = f32x4.add(b1, f32x4.mul(s1, high));
    a2 = f32x4.add(a2, f32x4.mul(s2, low));
    b2 = f32x4.add(b2, f32x4.mul(s2, high));
    a3 = f32x4.add(a3, f32x4.mul(s3, low));
    b3 = f32x4.add(b3, f32x4.mul(s3, high));
    aAt += kStep;
    bAt += columnBytes;
  }

  v128.store(cAt, a0);
  v128.store(cAt + columnBytes, a1);
  v128.store(cAt + 2 * columnBytes, a2);
  v128.store(cAt + 3 * columnBytes, a3);
  if (wide) {
    v128.store(cAt + 16, b0);
    v128.store(cAt + columnBytes + 16, b1);
    v128.store(cAt + 2 * columnBytes + 16, b2);
    v128.store(cAt + 3 * columnBytes + 16, b3);
  }
}
