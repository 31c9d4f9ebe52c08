// Transforms of the Winograd convolution F(4x4, 3x3): a 3x3 stride-1 convolution computed as 36
// matrix products over 6x6 input tiles, each giving a 4x4 output tile, with 36 multiplications
// per tile and channel pair instead of 144. Every kernel works on four channels per vector, so
// channel counts must be multiples of 4. Callers pass byte addresses in the memory this module
// imports. `scratch` needs WINOGRAD_SCRATCH_BYTES, plus the bytes that a kernel's doc adds.

import { multiplyInto } from "./mat-mul";

/** Bytes of one 6x6 window of vectors. */
const WINDOW_BYTES: usize = 36 * 16;

/**
 * Returns the bytes from one window point's [tiles, channels] matrix to the next. A cache line
 * of gap keeps the 36 matrices from sharing cache sets where their size is a multiple of 4 KiB,
 * as for 14x14 images with 64 channels, because the transforms touch all 36 at once.
 */
export function pointStride(tiles: usize, channelBytes: usize): usize {
  return tiles * channelBytes + 64;
}

/** Bytes of scratch that every transform needs: two windows of one channel vector. */
export const WINOGRAD_SCRATCH_BYTES: i32 = 2 * <i32>WINDOW_BYTES;

export const TILE: i32 = 4;
export const WINDOW: usize = 6;

/**
 * Applies B^T to six vectors: dst[r * dstStep] = sum over l of B^T[r][l] * src[l * srcStep], with
 * B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
 */
function inputColumn(src: usize, srcStep: usize, dst: usize, dstStep: usize): void {
  const d0 = v128.load(src);
  const d1 = v128.load(src + srcStep);
  const d2 = v128.load(src + 2 * srcStep);
  const d3 = v128.load(src + 3 * srcStep);
  const d4 = v128.load(src + 4 * srcStep);
  const d5 = v128.load(src + 5 * srcStep);
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  const two = f32x4.splat(2);
  const evenFar = f32x4.sub(d4, f32x4.mul(four, d2));
  const oddFar = f32x4.sub(d3, f32x4.mul(four, d1));
  const evenNear = f32x4.sub(d4, d2);
  const oddNear = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  v128.store(dst + dstStep, f32x4.add(evenFar, oddFar));
  v128.store(dst + 2 * dstStep, f32x4.sub(evenFar, oddFar));
  v128.store(dst + 3 * dstStep, f32x4.add(evenNear, oddNear));
  v128.store(dst + 4 * dstStep, f32x4.sub(evenNear, oddNear));
  v128.store(dst + 5 * dstStep, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

/**
 * Applies A^T to six vectors, writing four: A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
 * 0 1 -1 8 -8 1].
 */
function outputColumn(src: usize, srcStep: usize, dst: usize, dstStep: usize): void {
  const m0 = v128.load(src);
  const m1 = v128.load(src + srcStep);
  const m2 = v128.load(src + 2 * srcStep);
  const m3 = v128.load(src + 3 * srcStep);
  const m4 = v128.load(src + 4 * srcStep);
  const m5 = v128.load(src + 5 * srcStep);
  const nearSum = f32x4.add(m1, m2);
  const nearDifference = f32x4.sub(m1, m2);
  const farSum = f32x4.add(m3, m4);
  const farDifference = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, nearSum), farSum));
  v128.store(dst + dstStep, f32x4.add(nearDifference, f32x4.mul(f32x4.splat(2), farDifference)));
  v128.store(dst + 2 * dstStep, f32x4.add(nearSum, f32x4.mul(f32x4.splat(4), farSum)));
  v128.store(
    dst + 3 * dstStep,
    f32x4.add(f32x4.add(nearDifference, f32x4.mul(f32x4.splat(8), farDifference)), m5),
  );
}

/**
 * Applies G to three vectors, writing six: G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 * 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
 */
function filterColumn(src: usize, srcStep: usize, dst: usize, dstStep: usize): void {
  const g0 = v128.load(src);
  const g1 = v128.load(src + srcStep);
  const g2 = v128.load(src + 2 * srcStep);
  const outer = f32x4.add(g0, g2);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const outerSixth = f32x4.mul(f32x4.add(f32x4.mul(g0, f32x4.splat(0.25)), g2), sixth);
  const middleTwelfth = f32x4.mul(g1, f32x4.splat(<f32>(1.0 / 12.0)));
  v128.store(dst, f32x4.mul(g0, f32x4.splat(0.25)));
  v128.store(dst + dstStep, f32x4.neg(f32x4.mul(f32x4.add(outer, g1), sixth)));
  v128.store(dst + 2 * dstStep, f32x4.neg(f32x4.mul(f32x4.sub(outer, g1), sixth)));
  v128.store(dst + 3 * dstStep, f32x4.add(outerSixth, middleTwelfth));
  v128.store(dst + 4 * dstStep, f32x4.sub(outerSixth, middleTwelfth));
  v128.store(dst + 5 * dstStep, g2);
}

/**
 * Writes u[k][c][o] = (G g[:, :, c, o] G^T)[k / 6][k % 6] for a filter g [3, 3, channels,
 * outChannels] (HWIO), so u contains 36 matrices [channels, outChannels].
 */
export function winogradFilter(
  g: usize,
  u: usize,
  channels: i32,
  outChannels: i32,
  scratch: usize,
): void {
  const outBytes = (<usize>outChannels) << 2;
  const tapBytes = <usize>channels * outBytes;
  for (let c = 0; c < channels; c++) {
    for (let o: usize = 0; o < outBytes; o += 16) {
      const source = g + <usize>c * outBytes + o;
      // Columns first: scratch[r][j] = (G g)[r][j], rows of three vectors.
      for (let j: usize = 0; j < 3; j++) {
        filterColumn(source + j * tapBytes, 3 * tapBytes, scratch + j * 16, 48);
      }
      const target = u + <usize>c * outBytes + o;
      for (let r: usize = 0; r < WINDOW; r++) {
        filterColumn(scratch + r * 48, 16, target + r * WINDOW * tapBytes, tapBytes);
      }
    }
  }
}

/**
 * Writes the transformed input tiles v[k][tile][c] = (B^T d B)[k / 6][k % 6], where d is the 6x6
 * window of channel c whose top-left corner is input pixel (4 * tileRow - padTop, 4 * tileColumn -
 * padLeft), with zeros outside the image. x is NHWC [images, height, width, channels], tiles are
 * numbered image by image in row-major order, and the 36 matrices are pointStride apart.
 * `scratch` needs WINOGRAD_SCRATCH_BYTES + 144 *
 * channels bytes.
 */
export function winogradInput(
  x: usize,
  v: usize,
  images: i32,
  height: i32,
  width: i32,
  channels: i32,
  padTop: i32,
  padLeft: i32,
  tileRows: i32,
  tileColumns: i32,
  scratch: usize,
): void {
  const channelBytes = (<usize>channels) << 2;
  const rowBytes = <usize>width * channelBytes;
  const matrixBytes = pointStride(
    <usize>images * <usize>tileRows * <usize>tileColumns,
    channelBytes,
  );
  // A zero-padded copy of the window, all channels, for tiles that reach past the image's edge.
  const window = scratch + WINOGRAD_SCRATCH_BYTES;
  const windowRowBytes = WINDOW * channelBytes;
  let tile = 0;
  for (let image = 0; image < images; image++) {
    const imageAt = x + <usize>image * <usize>height * rowBytes;
    for (let tileRow = 0; tileRow < tileRows; tileRow++) {
      const top = tileRow * TILE - padTop;
      for (let tileColumn = 0; tileColumn < tileColumns; tileColumn++) {
        const left = tileColumn * TILE - padLeft;
        let source = imageAt + <usize>top * rowBytes + <usize>left * channelBytes;
        let sourceRowBytes = rowBytes;
        if (top < 0 || left < 0 || top + <i32>WINDOW > height || left + <i32>WINDOW > width) {
          copyWindow(imageAt, window, top, left, height, width, WINDOW, channelBytes);
          source = window;
          sourceRowBytes = windowRowBytes;
        }
        const target = v + <usize>tile * channelBytes;
        for (let c: usize = 0; c < channelBytes; c += 16) {
          // Along each row first (d B), then down each column (B^T (d B)).
          for (let i: usize = 0; i < WINDOW; i++) {
            inputColumn(
              source + i * sourceRowBytes + c,
              channelBytes,
              scratch + i * WINDOW * 16,
              16,
            );
          }
          for (let j: usize = 0; j < WINDOW; j++) {
            inputColumn(
              scratch + j * 16,
              WINDOW * 16,
              target + j * matrixBytes + c,
              WINDOW * matrixBytes,
            );
          }
        }
        tile++;
      }
    }
  }
}

/**
 * Copies the size x size window of all channels at (top, left) of an NHWC image into `window`,
 * with zeros where it reaches past the image's edge, as rows of size * channelBytes bytes.
 */
export function copyWindow(
  imageAt: usize,
  window: usize,
  top: i32,
  left: i32,
  height: i32,
  width: i32,
  size: usize,
  channelBytes: usize,
): void {
  const windowRowBytes = size * channelBytes;
  memory.fill(window, 0, size * windowRowBytes);
  const first = max(0, -left);
  const last = min(<i32>size, width - left);
  if (last <= first) return;
  const rowBytes = <usize>width * channelBytes;
  for (let i = 0; i < <i32>size; i++) {
    const row = top + i;
    if (row < 0 || row >= height) continue;
    memory.copy(
      window + <usize>i * windowRowBytes + <usize>first * channelBytes,
      imageAt + <usize>row * rowBytes + <usize>(left + first) * channelBytes,
      <usize>(last - first) * channelBytes,
    );
  }
}

/**
 * Writes y[image, 4 * tileRow + r, 4 * tileColumn + s, o] = (A^T m A)[r][s] + bias[o], for the
 * output pixels inside [outHeight, outWidth], where m is the 6x6 window of products p[k][tile][o]
 * (36 matrices [tiles, outChannels] pointStride apart, tiles numbered as in winogradInput). `bias` may be 0
 * for none; `relu` clamps at zero after the bias.
 */
export function winogradOutput(
  p: usize,
  y: usize,
  bias: usize,
  relu: bool,
  images: i32,
  outHeight: i32,
  outWidth: i32,
  outChannels: i32,
  tileRows: i32,
  tileColumns: i32,
  scratch: usize,
): void {
  const channelBytes = (<usize>outChannels) << 2;
  const rowBytes = <usize>outWidth * channelBytes;
  const matrixBytes = pointStride(
    <usize>images * <usize>tileRows * <usize>tileColumns,
    channelBytes,
  );
  const window = scratch + WINDOW_BYTES;
  const zero = f32x4.splat(0);
  let tile = 0;
  for (let image = 0; image < images; image++) {
    const imageAt = y + <usize>image * <usize>outHeight * rowBytes;
    for (let tileRow = 0; tileRow < tileRows; tileRow++) {
      const top = tileRow * TILE;
      const rows = min(TILE, outHeight - top);
      for (let tileColumn = 0; tileColumn < tileColumns; tileColumn++) {
        const left = tileColumn * TILE;
        const columns = min(TILE, outWidth - left);
        const source = p + <usize>tile * channelBytes;
        for (let o: usize = 0; o < channelBytes; o += 16) {
          // Down each column first (A^T m), then along each of the four rows ((A^T m) A).
          for (let j: usize = 0; j < WINDOW; j++) {
            outputColumn(
              source + j * matrixBytes + o,
              WINDOW * matrixBytes,
              scratch + j * 16,
              WINDOW * 16,
            );
          }
          const shift = bias !== 0 ? v128.load(bias + o) : zero;
          for (let r = 0; r < rows; r++) {
            outputColumn(scratch + <usize>r * WINDOW * 16, 16, window, 16);
            const rowAt = imageAt + <usize>(top + r) * rowBytes + <usize>left * channelBytes + o;
            for (let s = 0; s < columns; s++) {
              let value = f32x4.add(v128.load(window + <usize>s * 16), shift);
              if (relu) value = f32x4.max(value, zero);
              v128.store(rowAt + <usize>s * channelBytes, value);
            }
          }
        }
        tile++;
      }
    }
  }
}

/**
 * Writes p[k][tile][o] = sum over c of v[k][tile][c] * u[k][c][o] for the 36 window points k,
 * with v as winogradInput writes it for `tiles` tiles and u as winogradFilter writes it.
 */
export function winogradProducts(
  v: usize,
  u: usize,
  p: usize,
  tiles: i32,
  channels: i32,
  outChannels: i32,
): void {
  const inBytes = (<usize>channels) << 2;
  const outBytes = (<usize>outChannels) << 2;
  for (let point: usize = 0; point < 36; point++) {
    multiplyInto(
      v + point * pointStride(<usize>tiles, inBytes),
      u + point * <usize>channels * outBytes,
      p + point * pointStride(<usize>tiles, outBytes),
      tiles,
      channels,
      outChannels,
      false,
      false,
    );
  }
}
