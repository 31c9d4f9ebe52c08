// Adam update over float32 data. Callers pass byte addresses in the memory this module imports.

/**
 * Writes one Adam step for `size` values in the operation order of tfjs-core 4.22's
 * AdamOptimizer, so that it gives the same values up to rounding:
 * m' = m * beta1 + g * (1 - beta1), v' = v * beta2 + g^2 * (1 - beta2),
 * w' = (m' / (1 - beta1^t)) / (sqrt(v' / (1 - beta2^t)) + epsilon) * -learningRate + w.
 * The scalars arrive as float32 values, as tfjs's scalar tensors hold them.
 */
export function adamUpdate(
  value: usize,
  gradient: usize,
  m: usize,
  v: usize,
  newValue: usize,
  newM: usize,
  newV: usize,
  size: i32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  oneMinusAccBeta1: f32,
  oneMinusAccBeta2: f32,
  epsilon: f32,
  negativeLearningRate: f32,
): void {
  const bytes = (<usize>size) << 2;
  const vectorBytes = bytes & ~(<usize>15);
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(oneMinusBeta2);
  const a1 = f32x4.splat(oneMinusAccBeta1);
  const a2 = f32x4.splat(oneMinusAccBeta2);
  const e = f32x4.splat(epsilon);
  const rate = f32x4.splat(negativeLearningRate);
  for (let i: usize = 0; i < vectorBytes; i += 16) {
    const g = v128.load(gradient + i);
    const first = f32x4.add(f32x4.mul(v128.load(m + i), b1), f32x4.mul(g, c1));
    const second = f32x4.add(f32x4.mul(v128.load(v + i), b2), f32x4.mul(f32x4.mul(g, g), c2));
    v128.store(newM + i, first);
    v128.store(newV + i, second);
    const step = f32x4.div(f32x4.div(first, a1), f32x4.add(f32x4.sqrt(f32x4.div(second, a2)), e));
    v128.store(newValue + i, f32x4.add(f32x4.mul(step, rate), v128.load(value + i)));
  }
  for (let i = vectorBytes; i < bytes; i += 4) {
    const g = load<f32>(gradient + i);
    const first = load<f32>(m + i) * beta1 + g * oneMinusBeta1;
    const second = load<f32>(v + i) * beta2 + g * g * oneMinusBeta2;
    store<f32>(newM + i, first);
    store<f32>(newV + i, second);
    const step = first / oneMinusAccBeta1 / (Mathf.sqrt(second / oneMinusAccBeta2) + epsilon);
    store<f32>(newValue + i, step * negativeLearningRate + load<f32>(value + i));
  }
}
