// Re-layout of channels-last images for filter gradients computed as convolutions. Callers pass
// byte addresses in the memory this module imports.

/**
 * Writes `images` NHWC images as zero-padded channel planes [channels, paddedHeight, paddedWidth,
 * images]: out[c, top + y, left + x, n] = x[n, y, x, c], and zero in the border. Blocks of four
 * images by four channels are transposed in registers, so both sides move whole vectors.
 * `images` and `channels` must be multiples of 4.
 */
export function stackPlanes(
  x: usize,
  out: usize,
  images: i32,
  height: i32,
  width: i32,
  channels: i32,
  top: i32,
  bottom: i32,
  left: i32,
  right: i32,
): void {
  const paddedHeight = height + top + bottom;
  const paddedWidth = width + left + right;
  const pixelBytes = (<usize>channels) << 2;
  const imageBytes = <usize>height * <usize>width * pixelBytes;
  const columnBytes = (<usize>images) << 2;
  const planeBytes = <usize>paddedHeight * <usize>paddedWidth * columnBytes;
  if (top + bottom + left + right > 0) memory.fill(out, 0, <usize>channels * planeBytes);

  for (let y = 0; y < height; y++) {
    for (let column = 0; column < width; column++) {
      const source = x + (<usize>y * <usize>width + <usize>column) * pixelBytes;
      const pixel = <usize>(y + top) * <usize>paddedWidth + <usize>(column + left);
      const target = out + pixel * columnBytes;
      for (let n: usize = 0; n < <usize>images; n += 4) {
        const image = source + n * imageBytes;
        for (let c: usize = 0; c < pixelBytes; c += 16) {
          const row0 = v128.load(image + c);
          const row1 = v128.load(image + imageBytes + c);
          const row2 = v128.load(image + 2 * imageBytes + c);
          const row3 = v128.load(image + 3 * imageBytes + c);
          const low01 = i32x4.shuffle(row0, row1, 0, 4, 1, 5);
          const high01 = i32x4.shuffle(row0, row1, 2, 6, 3, 7);
          const low23 = i32x4.shuffle(row2, row3, 0, 4, 1, 5);
          const high23 = i32x4.shuffle(row2, row3, 2, 6, 3, 7);
          // Channel c goes to plane c, whose four images are now one vector.
          const plane = target + (c >> 2) * planeBytes + (n << 2);
          v128.store(plane, i32x4.shuffle(low01, low23, 0, 1, 4, 5));
          v128.store(plane + planeBytes, i32x4.shuffle(low01, low23, 2, 3, 6, 7));
          v128.store(plane + 2 * planeBytes, i32x4.shuffle(high01, high23, 0, 1, 4, 5));
          v128.store(plane + 3 * planeBytes, i32x4.shuffle(high01, high23, 2, 3, 6, 7));
        }
      }
    }
  }
}
