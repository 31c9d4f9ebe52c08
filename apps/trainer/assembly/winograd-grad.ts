// The filter gradient of a 3x3 stride-1 convolution in the Winograd domain of F(4x4, 3x3). The
// forward pass computes each 4x4 output tile as A^T [(G g G^T) * (B^T d B)] A. So the gradient
// of the transformed filter at each of the 36 window points is the sum over tiles of
// (B^T d B) * (A dy A^T), and the filter gradient is G^T times that times G. The sums are 36
// [channels, tiles] by [tiles, outChannels] products, a quarter of the direct multiplications.

import { multiplyInto } from "./mat-mul";
import { copyWindow, pointStride, TILE, WINDOW, WINOGRAD_SCRATCH_BYTES } from "./winograd";

/**
 * Applies A to four vectors, writing six: A = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8;
 * 0 0 0 1].
 */
function gradientColumn(src: usize, srcStep: usize, dst: usize, dstStep: usize): void {
  const e0 = v128.load(src);
  const e1 = v128.load(src + srcStep);
  const e2 = v128.load(src + 2 * srcStep);
  const e3 = v128.load(src + 3 * srcStep);
  const evenNear = f32x4.add(e0, e2);
  const oddNear = f32x4.add(e1, e3);
  const evenFar = f32x4.add(e0, f32x4.mul(f32x4.splat(4), e2));
  const oddFar = f32x4.add(f32x4.mul(f32x4.splat(2), e1), f32x4.mul(f32x4.splat(8), e3));
  v128.store(dst, e0);
  v128.store(dst + dstStep, f32x4.add(evenNear, oddNear));
  v128.store(dst + 2 * dstStep, f32x4.sub(evenNear, oddNear));
  v128.store(dst + 3 * dstStep, f32x4.add(evenFar, oddFar));
  v128.store(dst + 4 * dstStep, f32x4.sub(evenFar, oddFar));
  v128.store(dst + 5 * dstStep, e3);
}

/**
 * Applies G^T to six vectors, writing three: G^T = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12
 * -1/12 0; 0 -1/6 -1/6 1/6 1/6 1].
 */
function filterGradColumn(src: usize, srcStep: usize, dst: usize, dstStep: usize): void {
  const m0 = v128.load(src);
  const m1 = v128.load(src + srcStep);
  const m2 = v128.load(src + 2 * srcStep);
  const m3 = v128.load(src + 3 * srcStep);
  const m4 = v128.load(src + 4 * srcStep);
  const m5 = v128.load(src + 5 * srcStep);
  const nearSumSixth = f32x4.mul(f32x4.add(m1, m2), f32x4.splat(<f32>(1.0 / 6.0)));
  const nearDifferenceSixth = f32x4.mul(f32x4.sub(m1, m2), f32x4.splat(<f32>(1.0 / 6.0)));
  const farSum = f32x4.add(m3, m4);
  const farDifference = f32x4.sub(m3, m4);
  v128.store(
    dst,
    f32x4.add(
      f32x4.sub(f32x4.mul(m0, f32x4.splat(0.25)), nearSumSixth),
      f32x4.mul(farSum, f32x4.splat(<f32>(1.0 / 24.0))),
    ),
  );
  v128.store(
    dst + dstStep,
    f32x4.sub(f32x4.mul(farDifference, f32x4.splat(<f32>(1.0 / 12.0))), nearDifferenceSixth),
  );
  v128.store(
    dst + 2 * dstStep,
    f32x4.add(f32x4.sub(f32x4.mul(farSum, f32x4.splat(<f32>(1.0 / 6.0))), nearSumSixth), m5),
  );
}

/**
 * Writes the transformed output-gradient tiles e[k][tile][o] = (A dy A^T)[k / 6][k % 6], where dy
 * is the 4x4 tile of channel o at output pixel (4 * tileRow, 4 * tileColumn), with zeros outside
 * [outHeight, outWidth]. Tiles are numbered, and the matrices spaced, as in winogradInput. dy is NHWC [images, outHeight,
 * outWidth, outChannels]; `scratch` needs WINOGRAD_SCRATCH_BYTES + 64 * outChannels bytes.
 */
export function winogradGradientTiles(
  dy: usize,
  e: usize,
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
  // A zero-padded copy of the tile, all channels, for tiles that reach past the edge.
  const block = scratch + WINOGRAD_SCRATCH_BYTES;
  let tile = 0;
  for (let image = 0; image < images; image++) {
    const imageAt = dy + <usize>image * <usize>outHeight * rowBytes;
    for (let tileRow = 0; tileRow < tileRows; tileRow++) {
      const top = tileRow * TILE;
      for (let tileColumn = 0; tileColumn < tileColumns; tileColumn++) {
        const left = tileColumn * TILE;
        let tileAt = imageAt + <usize>top * rowBytes + <usize>left * channelBytes;
        let sourceRowBytes = rowBytes;
        if (top + TILE > outHeight || left + TILE > outWidth) {
          copyWindow(imageAt, block, top, left, outHeight, outWidth, <usize>TILE, channelBytes);
          tileAt = block;
          sourceRowBytes = <usize>TILE * channelBytes;
        }
        const target = e + <usize>tile * channelBytes;
        for (let o: usize = 0; o < channelBytes; o += 16) {
          const source = tileAt + o;
          const sourceStep = channelBytes;
          // Along each row first (dy A^T), then down each of the six columns (A (dy A^T)).
          for (let r: usize = 0; r < <usize>TILE; r++) {
            gradientColumn(source + r * sourceRowBytes, sourceStep, scratch + r * WINDOW * 16, 16);
          }
          for (let j: usize = 0; j < WINDOW; j++) {
            gradientColumn(
              scratch + j * 16,
              WINDOW * 16,
              target + j * matrixBytes + o,
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
 * Adds the sums over tiles of v[k][tile][c] * e[k][tile][o] to m[k][c][o], for the 36 window
 * points k: v and e as winogradInput and winogradGradientTiles write them for `tiles` tiles, m as
 * 36 matrices [channels, outChannels].
 */
export function winogradWeightProducts(
  v: usize,
  e: usize,
  m: usize,
  tiles: i32,
  channels: i32,
  outChannels: i32,
): void {
  const inBytes = (<usize>channels) << 2;
  const outBytes = (<usize>outChannels) << 2;
  for (let point: usize = 0; point < 36; point++) {
    multiplyInto(
      v + point * pointStride(<usize>tiles, inBytes),
      e + point * pointStride(<usize>tiles, outBytes),
      m + point * <usize>channels * outBytes,
      channels,
      tiles,
      outChannels,
      true,
      true,
    );
  }
}

/**
 * Writes the filter gradient grad[i][j][c][o] = (G^T m[:, :][c][o] G)[i][j] from the 36 summed
 * matrices m [36, channels, outChannels] of winogradWeightProducts. `scratch` needs
 * WINOGRAD_SCRATCH_BYTES.
 */
export function winogradFilterGrad(
  m: usize,
  grad: usize,
  channels: i32,
  outChannels: i32,
  scratch: usize,
): void {
  const outBytes = (<usize>outChannels) << 2;
  const matrixBytes = <usize>channels * outBytes;
  for (let c = 0; c < channels; c++) {
    for (let o: usize = 0; o < outBytes; o += 16) {
      const source = m + <usize>c * outBytes + o;
      // Down each of the six columns first (G^T m), then along each of the three rows.
      for (let j: usize = 0; j < WINDOW; j++) {
        filterGradColumn(
          source + j * matrixBytes,
          WINDOW * matrixBytes,
          scratch + j * 16,
          WINDOW * 16,
        );
      }
      const target = grad + <usize>c * outBytes + o;
      for (let i: usize = 0; i < 3; i++) {
        filterGradColumn(scratch + i * WINDOW * 16, 16, target + i * 3 * matrixBytes, matrixBytes);
      }
    }
  }
}
