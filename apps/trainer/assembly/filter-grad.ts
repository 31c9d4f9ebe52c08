// Filter gradient of a convolution with one input channel and three filter columns, such as a
// first layer on grey images. Callers pass byte addresses in the memory this module imports.

/** Adds two vectors of float32 sums into four float64 totals starting at `totals`. */

function foldInto(totals: usize, low: v128, high: v128): void {
  v128.store(totals, f64x2.add(v128.load(totals), f64x2.promote_low_f32x4(low)));
  const lowHigh = i32x4.shuffle(low, low, 2, 3, 0, 1);
  v128.store(totals + 16, f64x2.add(v128.load(totals + 16), f64x2.promote_low_f32x4(lowHigh)));
  v128.store(totals + 32, f64x2.add(v128.load(totals + 32), f64x2.promote_low_f32x4(high)));
  const highHigh = i32x4.shuffle(high, high, 2, 3, 0, 1);
  v128.store(totals + 48, f64x2.add(v128.load(totals + 48), f64x2.promote_low_f32x4(highHigh)));
}

/**
 * Writes grad[i, j, 0, o] = sum over images and output positions (y, x) of
 * x[image, y * strideHeight + i, x * strideWidth + j] * dy[image, y, x, o], for j in 0..2: the
 * filter gradient of a 'valid' convolution over `x` [images, inHeight, inWidth, 1], which callers
 * pad beforehand. Sums run in float32 within an image and in float64 across images, kept in
 * `scratch` (filterHeight * 3 * outChannels * 8 bytes). `outChannels` must be a multiple of 8.
 *
 * Each pass keeps the sums of one filter row's three columns for eight output channels in six
 * vector registers, so it reads dy and x once and writes only when the image is done.
 */
export function filterGradOneChannel3(
  x: usize,
  dy: usize,
  grad: usize,
  scratch: usize,
  images: i32,
  inHeight: i32,
  inWidth: i32,
  outHeight: i32,
  outWidth: i32,
  outChannels: i32,
  filterHeight: i32,
  strideHeight: i32,
  strideWidth: i32,
): void {
  const taps = filterHeight * 3;
  const tapBytes = (<usize>outChannels) << 2;
  const totalsTapBytes = tapBytes << 1;
  memory.fill(scratch, 0, <usize>taps * totalsTapBytes);

  const inRowBytes = (<usize>inWidth) << 2;
  const imageBytes = <usize>inHeight * inRowBytes;
  const dyImageBytes = <usize>outHeight * <usize>outWidth * tapBytes;
  const xStepBytes = (<usize>strideWidth) << 2;
  const zero = f32x4.splat(0);

  for (let image = 0; image < images; image++) {
    const xImage = x + <usize>image * imageBytes;
    const dyImage = dy + <usize>image * dyImageBytes;
    for (let i = 0; i < filterHeight; i++) {
      for (let o: usize = 0; o < tapBytes; o += 32) {
        let left0 = zero;
        let left1 = zero;
        let middle0 = zero;
        let middle1 = zero;
        let right0 = zero;
        let right1 = zero;
        for (let y = 0; y < outHeight; y++) {
          let xAt = xImage + <usize>(y * strideHeight + i) * inRowBytes;
          let dyAt = dyImage + <usize>y * <usize>outWidth * tapBytes + o;
          for (let column = 0; column < outWidth; column++) {
            const gradient0 = v128.load(dyAt);
            const gradient1 = v128.load(dyAt + 16);
            const pixel0 = f32x4.splat(load<f32>(xAt));
            const pixel1 = f32x4.splat(load<f32>(xAt + 4));
            const pixel2 = f32x4.splat(load<f32>(xAt + 8));
            left0 = f32x4.add(left0, f32x4.mul(pixel0, gradient0));
            left1 = f32x4.add(left1, f32x4.mul(pixel0, gradient1));
            middle0 = f32x4.add(middle0, f32x4.mul(pixel1, gradient0));
            middle1 = f32x4.add(middle1, f32x4.mul(pixel1, gradient1));
            right0 = f32x4.add(right0, f32x4.mul(pixel2, gradient0));
            right1 = f32x4.add(right1, f32x4.mul(pixel2, gradient1));
            xAt += xStepBytes;
            dyAt += tapBytes;
          }
        }
        const row = scratch + <usize>(i * 3) * totalsTapBytes + (o << 1);
        foldInto(row, left0, left1);
        foldInto(row + totalsTapBytes, middle0, middle1);
        foldInto(row + 2 * totalsTapBytes, right0, right1);
      }
    }
  }

  const count = <usize>taps * <usize>outChannels;
  for (let k: usize = 0; k < count; k++) {
    store<f32>(grad + (k << 2), <f32>load<f64>(scratch + (k << 3)));
  }
}
