// Gradient of 2x2 max pooling with stride 2 and no padding over channels-last float32 data, four
// channels per SIMD lane group. Callers pass byte addresses in the memory this module imports,
// and `channels` must be a multiple of 4.

/**
 * Routes each window's gradient to the first maximum of the window in row-major order, as the
 * tfjs cpu backend does. Comparisons are strict and start from -Infinity, so ties go to the first
 * cell and NaN never wins. A window of only -Infinity and NaN passes no gradient. Input rows and
 * columns beyond the last full window get zero.
 */
export function maxPoolGrad2x2(
  x: usize,
  dy: usize,
  dx: usize,
  batch: i32,
  inHeight: i32,
  inWidth: i32,
  outHeight: i32,
  outWidth: i32,
  channels: i32,
): void {
  const pixelBytes = (<usize>channels) << 2;
  const rowBytes = <usize>inWidth * pixelBytes;
  if (outHeight * 2 < inHeight || outWidth * 2 < inWidth) {
    memory.fill(dx, 0, <usize>batch * <usize>inHeight * rowBytes);
  }
  const floor = f32x4.splat(-Infinity);
  let gradient = dy;
  for (let image = 0; image < batch; image++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      let topLeft = (<usize>image * <usize>inHeight + ((<usize>outRow) << 1)) * rowBytes;
      for (let outCol = 0; outCol < outWidth; outCol++) {
        for (let c: usize = 0; c < pixelBytes; c += 16) {
          const first = topLeft + c;
          const second = first + pixelBytes;
          const third = first + rowBytes;
          const fourth = third + pixelBytes;
          const a = v128.load(x + first);
          const b = v128.load(x + second);
          const cc = v128.load(x + third);
          const d = v128.load(x + fourth);

          const winsA = f32x4.gt(a, floor);
          let best = v128.bitselect(a, floor, winsA);
          const winsB = f32x4.gt(b, best);
          best = v128.bitselect(b, best, winsB);
          const winsC = f32x4.gt(cc, best);
          best = v128.bitselect(cc, best, winsC);
          const winsD = f32x4.gt(d, best);

          // A later strict win overrides every earlier one.
          const onlyC = v128.andnot(winsC, winsD);
          const onlyB = v128.andnot(v128.andnot(winsB, winsC), winsD);
          const onlyA = v128.andnot(v128.andnot(v128.andnot(winsA, winsB), winsC), winsD);
          const g = v128.load(gradient + c);
          v128.store(dx + first, v128.and(g, onlyA));
          v128.store(dx + second, v128.and(g, onlyB));
          v128.store(dx + third, v128.and(g, onlyC));
          v128.store(dx + fourth, v128.and(g, winsD));
        }
        topLeft += pixelBytes << 1;
        gradient += pixelBytes;
      }
    }
  }
}
