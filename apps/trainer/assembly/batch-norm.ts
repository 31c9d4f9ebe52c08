// Batch normalisation in training over channels-last float32 data read as [positions, channels],
// four channels per SIMD lane group. Callers pass byte addresses in the memory this module
// imports, and `channels` must be a multiple of 4.
//
// Sums run in float32 over blocks of BLOCK positions and are then added into float64 totals, and
// the variance is taken around the mean in a second pass, so that neither a large batch nor a
// large mean costs precision. Outputs use (x - mean) rather than x * factor - mean * factor for
// the same reason.

/** Positions per float32 partial sum. */
const BLOCK: i32 = 64;

/** Scratch bytes per channel (or column) that batchNormForward, batchNormGrad and columnSums need. */
export const SCRATCH_BYTES_PER_CHANNEL: i32 = 32;

/**
 * Adds each channel's sum of `a` (when `b` is 0), of (a - center)^2 (when `squares` is set), or
 * of a * (b - center) into the float64 totals at `totals`. `partial` has room for one float32 value per channel.
 */
function accumulate(
  a: usize,
  b: usize,
  center: usize,
  squares: bool,
  positions: i32,
  channels: i32,
  partial: usize,
  totals: usize,
): void {
  const rowBytes = (<usize>channels) << 2;
  for (let start = 0; start < positions; start += BLOCK) {
    const end = min(start + BLOCK, positions);
    memory.fill(partial, 0, rowBytes);
    for (let p = start; p < end; p++) {
      const row = <usize>p * rowBytes;
      for (let c: usize = 0; c < rowBytes; c += 16) {
        let value = v128.load(a + row + c);
        if (squares) {
          value = f32x4.sub(value, v128.load(center + c));
          value = f32x4.mul(value, value);
        } else if (b !== 0) {
          value = f32x4.mul(value, f32x4.sub(v128.load(b + row + c), v128.load(center + c)));
        }
        v128.store(partial + c, f32x4.add(v128.load(partial + c), value));
      }
    }
    for (let c: usize = 0; c < rowBytes; c += 16) {
      const sums = v128.load(partial + c);
      const low = totals + (c << 1);
      v128.store(low, f64x2.add(v128.load(low), f64x2.promote_low_f32x4(sums)));
      const high = i32x4.shuffle(sums, sums, 2, 3, 0, 1);
      v128.store(low + 16, f64x2.add(v128.load(low + 16), f64x2.promote_low_f32x4(high)));
    }
  }
}

/**
 * Writes the column sums of a [rows, columns] matrix to `out` as float32, summed as the batch
 * statistics are. `scratch` needs SCRATCH_BYTES_PER_CHANNEL bytes per column.
 */
export function columnSums(x: usize, out: usize, rows: i32, columns: i32, scratch: usize): void {
  const floatBytes = (<usize>columns) << 2;
  const totals = scratch + floatBytes;
  memory.fill(totals, 0, floatBytes << 1);
  accumulate(x, 0, 0, false, rows, columns, scratch, totals);
  for (let c: usize = 0; c < <usize>columns; c++) {
    store<f32>(out + (c << 2), <f32>load<f64>(totals + (c << 3)));
  }
}

/**
 * Writes y = (x - mean) * scale / sqrt(variance + epsilon) + offset, and the batch mean and
 * biased variance of each channel. `scratch` needs SCRATCH_BYTES_PER_CHANNEL bytes per channel.
 */
export function batchNormForward(
  x: usize,
  y: usize,
  positions: i32,
  channels: i32,
  scale: usize,
  offset: usize,
  epsilon: f64,
  mean: usize,
  variance: usize,
  scratch: usize,
): void {
  const floatBytes = (<usize>channels) << 2;
  const partial = scratch;
  const totals = scratch + floatBytes;
  const factors = totals + (floatBytes << 1);
  const count = <f64>positions;

  memory.fill(totals, 0, floatBytes << 1);
  accumulate(x, 0, 0, false, positions, channels, partial, totals);
  for (let c: usize = 0; c < <usize>channels; c++) {
    store<f32>(mean + (c << 2), <f32>(load<f64>(totals + (c << 3)) / count));
  }

  memory.fill(totals, 0, floatBytes << 1);
  accumulate(x, 0, mean, true, positions, channels, partial, totals);
  for (let c: usize = 0; c < <usize>channels; c++) {
    const v = load<f64>(totals + (c << 3)) / count;
    store<f32>(variance + (c << 2), <f32>v);
    store<f32>(
      factors + (c << 2),
      <f32>(<f64>load<f32>(scale + (c << 2)) / Math.sqrt(v + epsilon)),
    );
  }

  const end = <usize>positions * floatBytes;
  for (let row: usize = 0; row < end; row += floatBytes) {
    for (let c: usize = 0; c < floatBytes; c += 16) {
      const centered = f32x4.sub(v128.load(x + row + c), v128.load(mean + c));
      const scaled = f32x4.mul(centered, v128.load(factors + c));
      v128.store(y + row + c, f32x4.add(scaled, v128.load(offset + c)));
    }
  }
}

/**
 * Writes dx, dScale and dOffset of batchNormForward, including the paths through the batch mean
 * and variance: dx = k * dy + m * (x - mean) + b per channel. `dMean` and `dVariance` are the
 * gradients that reached the statistics directly, or 0 when none did. `scratch` needs
 * SCRATCH_BYTES_PER_CHANNEL bytes per channel.
 */
export function batchNormGrad(
  x: usize,
  dy: usize,
  dx: usize,
  positions: i32,
  channels: i32,
  mean: usize,
  variance: usize,
  scale: usize,
  epsilon: f64,
  dMean: usize,
  dVariance: usize,
  dScale: usize,
  dOffset: usize,
  scratch: usize,
): void {
  const floatBytes = (<usize>channels) << 2;
  const partial = scratch;
  const dySums = scratch + floatBytes;
  const centeredSums = dySums + (floatBytes << 1);
  const k = centeredSums + (floatBytes << 1);
  const m = k + floatBytes;
  const b = partial;
  const count = <f64>positions;

  memory.fill(dySums, 0, floatBytes << 2);
  accumulate(dy, 0, 0, false, positions, channels, partial, dySums);
  accumulate(dy, x, mean, false, positions, channels, partial, centeredSums);

  for (let c: usize = 0; c < <usize>channels; c++) {
    const s = 1 / Math.sqrt(<f64>load<f32>(variance + (c << 2)) + epsilon);
    const gamma = <f64>load<f32>(scale + (c << 2));
    const dySum = load<f64>(dySums + (c << 3));
    const centeredSum = load<f64>(centeredSums + (c << 3));
    store<f32>(dOffset + (c << 2), <f32>dySum);
    store<f32>(dScale + (c << 2), <f32>(s * centeredSum));
    const kc = gamma * s;
    let mc = (-gamma * s * s * s * centeredSum) / count;
    let bc = (-kc * dySum) / count;
    if (dVariance !== 0) mc += (2 * <f64>load<f32>(dVariance + (c << 2))) / count;
    if (dMean !== 0) bc += <f64>load<f32>(dMean + (c << 2)) / count;
    store<f32>(k + (c << 2), <f32>kc);
    store<f32>(m + (c << 2), <f32>mc);
    store<f32>(b + (c << 2), <f32>bc);
  }

  const end = <usize>positions * floatBytes;
  for (let row: usize = 0; row < end; row += floatBytes) {
    for (let c: usize = 0; c < floatBytes; c += 16) {
      const centered = f32x4.sub(v128.load(x + row + c), v128.load(mean + c));
      const fromDy = f32x4.mul(v128.load(dy + row + c), v128.load(k + c));
      const fromX = f32x4.mul(centered, v128.load(m + c));
      v128.store(dx + row + c, f32x4.add(f32x4.add(fromDy, fromX), v128.load(b + c)));
    }
  }
}
