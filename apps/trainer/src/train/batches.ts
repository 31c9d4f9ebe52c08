import * as tf from "@tensorflow/tfjs";
import { type LabeledImages, PIXELS_PER_IMAGE } from "../data";
import { IMAGE_SIZE, NUM_CLASSES } from "../models";

/** Copies the images at `indices` into one [n, 28, 28, 1] tensor, with one-hot labels. */
export function gatherBatch(
  data: LabeledImages,
  indices: ArrayLike<number>,
): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const count = indices.length;
  const pixels = new Float32Array(count * PIXELS_PER_IMAGE);
  const oneHot = new Float32Array(count * NUM_CLASSES);
  for (let i = 0; i < count; i++) {
    const index = indices[i] ?? 0;
    pixels.set(
      data.images.subarray(index * PIXELS_PER_IMAGE, (index + 1) * PIXELS_PER_IMAGE),
      i * PIXELS_PER_IMAGE,
    );
    oneHot[i * NUM_CLASSES + (data.labels[index] ?? 0)] = 1;
  }
  return {
    xs: tf.tensor4d(pixels, [count, IMAGE_SIZE, IMAGE_SIZE, 1]),
    ys: tf.tensor2d(oneHot, [count, NUM_CLASSES]),
  };
}

/** Returns the images [start, end) of a data set as a [n, 28, 28, 1] tensor without shuffling. */
export function rangeBatch(data: LabeledImages, start: number, end: number): tf.Tensor4D {
  return tf.tensor4d(data.images.subarray(start * PIXELS_PER_IMAGE, end * PIXELS_PER_IMAGE), [
    end - start,
    IMAGE_SIZE,
    IMAGE_SIZE,
    1,
  ]);
}
