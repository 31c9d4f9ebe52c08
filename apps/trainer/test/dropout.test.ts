import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";
import { Dropout } from "../src/models/dropout";

let input: tf.Tensor;

beforeAll(async () => {
  await selectBackend("wasm");
  input = tf.ones([64, 10, 10, 8]);
});

function applyWithSeed(layer: Dropout, input: tf.Tensor, seed: number): Float32Array {
  (layer as unknown as { seed: number }).seed = seed;
  return tf.tidy(
    () => (layer.apply(input, { training: true }) as tf.Tensor).dataSync() as Float32Array,
  );
}

describe("Dropout", () => {
  test("keeps about 1 - rate, scaled", () => {
    const values = applyWithSeed(new Dropout({ rate: 0.25 }), input, 1);
    const keptValues = values.filter((value) => value !== 0);

    expect(keptValues.length / values.length).toBeCloseTo(0.75, 2);
    expect(new Set(keptValues)).toEqual(new Set([Math.fround(1 / 0.75)]));
  });

  test("repeats a mask for the same seed only", () => {
    const layer = new Dropout({ rate: 0.5 });

    expect(applyWithSeed(layer, input, 7)).toEqual(applyWithSeed(layer, input, 7));
    expect(applyWithSeed(layer, input, 8)).not.toEqual(applyWithSeed(layer, input, 7));
  });

  test("passes the gradient through the mask", () => {
    const layer = new Dropout({ rate: 0.5 });
    (layer as unknown as { seed: number }).seed = 3;
    const x = tf.randomNormal([4, 6]);
    const mask = tf.tidy(() =>
      tf.div(layer.apply(tf.ones([4, 6]), { training: true }) as tf.Tensor, 2),
    );
    const gradient = tf.grad((value: tf.Tensor) =>
      tf.sum(layer.apply(value, { training: true }) as tf.Tensor),
    )(x);

    expect(Array.from(gradient.dataSync())).toEqual(Array.from(tf.mul(mask, 2).dataSync()));
  });

  test("is the identity outside training", () => {
    const values = (new Dropout({ rate: 0.5 }).apply(input) as tf.Tensor).dataSync();

    expect(values.every((value) => value === 1)).toBe(true);
  });
});
