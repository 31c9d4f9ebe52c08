// Gradient of ReLU over float32 data. Callers pass byte addresses in the memory this module
// imports.

/**
 * Writes dx = dy where x > 0, else 0, over `size` values. A NaN in x gives NaN, as dy * step(x)
 * does in tfjs.
 */
export function reluGrad(dy: usize, x: usize, dx: usize, size: i32): void {
  const zero = f32x4.splat(0);
  const bytes = (<usize>size) << 2;
  const vectorBytes = bytes & ~(<usize>15);
  for (let i: usize = 0; i < vectorBytes; i += 16) {
    const value = v128.load(x + i);
    const passed = v128.and(v128.load(dy + i), f32x4.gt(value, zero));
    v128.store(dx + i, v128.bitselect(value, passed, f32x4.ne(value, value)));
  }
  for (let i = vectorBytes; i < bytes; i += 4) {
    const value = load<f32>(x + i);
    let gradient: f32 = 0;
    if (value > 0) gradient = load<f32>(dy + i);
    else if (F32.isNaN(value)) gradient = value;
    store<f32>(dx + i, gradient);
  }
}
