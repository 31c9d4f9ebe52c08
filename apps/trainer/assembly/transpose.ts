// Transpose of a float32 matrix. Callers pass byte addresses in the memory this module imports.

/** Rows per tile: 16 rows of four bytes fill one 64-byte cache line of each output row. */
const TILE_ROWS: i32 = 16;

/**
 * Writes out[c, r] = x[r, c] for a [rows, columns] matrix, transposing 4x4 blocks in registers.
 * `rows` and `columns` must be multiples of 4.
 */
export function transpose2d(x: usize, out: usize, rows: i32, columns: i32): void {
  const inRowBytes = (<usize>columns) << 2;
  const outRowBytes = (<usize>rows) << 2;
  for (let tile = 0; tile < rows; tile += TILE_ROWS) {
    const tileEnd = min(tile + TILE_ROWS, rows);
    for (let column = 0; column < columns; column += 4) {
      const target = out + <usize>column * outRowBytes;
      for (let row = tile; row < tileEnd; row += 4) {
        const source = x + <usize>row * inRowBytes + ((<usize>column) << 2);
        const row0 = v128.load(source);
        const row1 = v128.load(source + inRowBytes);
        const row2 = v128.load(source + 2 * inRowBytes);
        const row3 = v128.load(source + 3 * inRowBytes);
        const low01 = i32x4.shuffle(row0, row1, 0, 4, 1, 5);
        const high01 = i32x4.shuffle(row0, row1, 2, 6, 3, 7);
        const low23 = i32x4.shuffle(row2, row3, 0, 4, 1, 5);
        const high23 = i32x4.shuffle(row2, row3, 2, 6, 3, 7);
        const block = target + ((<usize>row) << 2);
        v128.store(block, i32x4.shuffle(low01, low23, 0, 1, 4, 5));
        v128.store(block + outRowBytes, i32x4.shuffle(low01, low23, 2, 3, 6, 7));
        v128.store(block + 2 * outRowBytes, i32x4.shuffle(high01, high23, 0, 1, 4, 5));
        v128.store(block + 3 * outRowBytes, i32x4.shuffle(high01, high23, 2, 3, 6, 7));
      }
    }
  }
}
