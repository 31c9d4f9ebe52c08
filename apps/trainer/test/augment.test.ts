import { createRandom } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";
import { applyTransforms, augmentBatch, drawTransforms, IDENTITY_TRANSFORM } from "../src/train";

/** A batch of `count` 28x28 images, each black with one white pixel at (row, column). */
function dotImages(points: [number, number][]): tf.Tensor4D {
  const buffer = tf.buffer([points.length, 28, 28, 1]);
  points.forEach(([row, column], i) => {
    buffer.set(1, i, row, column, 0);
  });
  return buffer.toTensor() as tf.Tensor4D;
}

/** Lists the [row, column] of every non-zero pixel of image `index`. */
async function litPixels(images: tf.Tensor4D, index: number): Promise<[number, number][]> {
  const image = images.slice([index, 0, 0, 0], [1, 28, 28, 1]);
  const values = await image.data();
  image.dispose();
  const lit: [number, number][] = [];
  values.forEach((value, i) => {
    if (value > 0) lit.push([Math.floor(i / 28), i % 28]);
  });
  return lit;
}

describe.each(["auto", "cpu"] as const)("augmentation on the %s backend", (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  test("shifts move each image's content", async () => {
    const images = dotImages([
      [10, 12],
      [10, 12],
      [10, 12],
    ]);
    const shifted = applyTransforms(images, [
      { ...IDENTITY_TRANSFORM, shiftX: 3 },
      { ...IDENTITY_TRANSFORM, shiftY: -2 },
      IDENTITY_TRANSFORM,
    ]);

    expect(await litPixels(shifted, 0)).toEqual([[10, 15]]);
    expect(await litPixels(shifted, 1)).toEqual([[8, 12]]);
    expect(await litPixels(shifted, 2)).toEqual([[10, 12]]);
    tf.dispose([images, shifted]);
  });

  test("rotation by 180 degrees mirrors through the centre", async () => {
    const images = dotImages([[3, 5]]);
    const rotated = applyTransforms(images, [{ ...IDENTITY_TRANSFORM, rotationDegrees: 180 }]);

    expect(await litPixels(rotated, 0)).toEqual([[24, 22]]);
    tf.dispose([images, rotated]);
  });

  test("zoom factors scale distances from the centre", async () => {
    const images = dotImages([
      [3, 13],
      [3, 13],
    ]);
    const zoomed = applyTransforms(images, [
      { ...IDENTITY_TRANSFORM, zoomY: 2 },
      { ...IDENTITY_TRANSFORM, zoomY: 0.5 },
    ]);

    // The dot sits 10.5 rows above the centre (13.5): factor 2 halves that, factor 0.5 doubles it
    // and pushes the dot out of the image.
    expect(await litPixels(zoomed, 0)).toEqual([[8, 13]]);
    expect(await litPixels(zoomed, 1)).toEqual([]);
    tf.dispose([images, zoomed]);
  });

  test("random batch keeps shape and ink mass", async () => {
    const count = 16;
    const images = tf.tidy(() =>
      tf.pad(tf.ones([count, 8, 8, 1]), [
        [0, 0],
        [10, 10],
        [10, 10],
        [0, 0],
      ]),
    ) as tf.Tensor4D;
    const ranges = { rotation: 10, widthShift: 0.1, heightShift: 0.1, zoom: 0 };
    const augmented = augmentBatch(images, ranges, createRandom(7));

    expect(augmented.shape).toEqual([count, 28, 28, 1]);
    const perImage = await tf.tidy(() => tf.sum(augmented, [1, 2, 3])).data();
    for (const mass of perImage) {
      expect(mass).toBeGreaterThan(48);
      expect(mass).toBeLessThan(80);
    }
    tf.dispose([images, augmented]);
  });
});

describe("drawTransforms", () => {
  test("stays within the ranges", () => {
    const transforms = drawTransforms(
      500,
      { rotation: 10, widthShift: 0.1, heightShift: 0.2, zoom: 0.1 },
      28,
      28,
      createRandom(3),
    );
    for (const transform of transforms) {
      expect(Math.abs(transform.rotationDegrees)).toBeLessThanOrEqual(10);
      expect(Math.abs(transform.shiftX)).toBeLessThanOrEqual(2.8);
      expect(Math.abs(transform.shiftY)).toBeLessThanOrEqual(5.6);
      expect(transform.zoomX).toBeGreaterThanOrEqual(0.9);
      expect(transform.zoomY).toBeLessThanOrEqual(1.1);
    }
  });

  test("replays from the same seed", () => {
    const ranges = { rotation: 10, widthShift: 0.1, heightShift: 0.1, zoom: 0.1 };
    expect(drawTransforms(4, ranges, 28, 28, createRandom(9))).toEqual(
      drawTransforms(4, ranges, 28, 28, createRandom(9)),
    );
  });
});
