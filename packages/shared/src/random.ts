/** A uniform generator on [0, 1), the shape of Math.random. */
export type Random = () => number;

/**
 * Mixes a run seed with context numbers (phase, epoch, batch) into one 32-bit seed, so each
 * random stream is a function of where it is used and never of what ran before it in the process.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let hash = seed >>> 0;
  for (const part of [parts.length, ...parts]) {
    hash = Math.imul(hash ^ (part >>> 0), 0x85ebca6b);
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** Creates a mulberry32 generator: small, fast and good enough for shuffles and augmentation. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Returns 0..count-1 in a Fisher-Yates order drawn from `random`. */
export function shuffledIndices(count: number, random: Random): Uint32Array {
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = indices[i] ?? 0;
    indices[i] = indices[j] ?? 0;
    indices[j] = swap;
  }
  return indices;
}

/** Draws from the uniform distribution on [low, high). */
export function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}
