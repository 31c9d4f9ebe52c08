// The filter gradient of a 3x3 stride-1 convolution in the Winograd domain of F(4x4, 3x3). The
// forward pass computes each 4x4 output tile as A^T [(G g G^T) * (B^T d B)] A. So the gradient
// of the transformed filter at each of the 36 window points is the sum over tiles of
// (B^T d B) * (A dy A^T), and the filter gradient is G^T times that times G. The sums are 36
// [channels, tiles] by [tiles, outChannels] products, a quarter of the direct multiplications.

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
 * 36 matrices [channels, outChannels]. Each pass keeps a block of four input channels by eight
 * output channels in eight vector registers across all tiles.
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
  const count = <usize>tiles;
  for (let point: usize = 0; point < 36; point++) {
    const vPoint = v + point * pointStride(count, inBytes);
    const ePoint = e + point * pointStride(count, outBytes);
    const mPoint = m + point * <usize>channels * outBytes;
    for (let c: usize = 0; c < inBytes; c += 16) {
      const mRows = mPoint + (c >> 2) * outBytes;
      let o: usize = 0;
      for (; o + 32 <= outBytes; o += 32) {
        let a0 = f32x4.splat(0);
        let b0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let b1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let b2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        let b3 = f32x4.splat(0);
        let vAt = vPoint + c;
        let eAt = ePoint + o;
        for (let t: usize = 0; t < count; t++) {
          const low = v128.load(eAt);
          const high = v128.load(eAt + 16);
          // Splatting loads leave the shuffle unit, which floating-point adds share, to the adds.
          const s0 = v128.load32_splat(vAt);
          const s1 = v128.load32_splat(vAt + 4);
          const s2 = v128.load32_splat(vAt + 8);
          const s3 = v128.load32_splat(vAt + 12);
          a0 = f32x4.add(a0, f32x4.mul(s0, low));
          b0 = f32x4.add(b0, f32x4.mul(s0, high));
          a1 = f32x4.add(a1, f32x4.mul(s1, low));
          b1 = f32x4.add(b1, f32x4.mul(s1, high));
          a2 = f32x4.add(a2, f32x4.mul(s2, low));
          b2 = f32x4.add(b2, f32x4.mul(s2, high));
          a3 = f32x4.add(a3, f32x4.mul(s3, low));
          b3 = f32x4.add(b3, f32x4.mul(s3, high));
          vAt += inBytes;
          eAt += outBytes;
        }
        addPair(mRows + o, a0, b0);
        addPair(mRows + outBytes + o, a1, b1);
        addPair(mRows + 2 * outBytes + o, a2, b2);
        addPair(mRows + 3 * outBytes + o, a3, b3);
      }
      if (o < outBytes) {
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        let vAt = vPoint + c;
        let eAt = ePoint + o;
        for (let t: usize = 0; t < count; t++) {
          const values = v128.load(eAt);
          a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(vAt), values));
          a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(vAt + 4), values));
          a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(vAt + 8), values));
          a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(vAt + 12), values));
          vAt += inBytes;
          eAt += outBytes;
        }
        v128.store(mRows + o, f32x4.add(v128.load(mRows + o), a0));
        v128.store(mRows + outBytes + o, f32x4.add(v128.load(mRows + outBytes + o), a1));
        v128.store(mRows + 2 * outBytes + o, f32x4.add(v128.load(mRows + 2 * outBytes + o), a2));
        v128.store(mRows + 3 * outBytes + o, f32x4.add(v128.load(mRows + 3 * outBytes + o), a3));
      }
    }
  }
}

function addPair(at: usize, low: v128, high: v128): void {
  v128.store(at, f32x4.add(v128.load(at), low));
  v128.store(at + 16, f32x4.add(v128.load(at + 16), high));
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
