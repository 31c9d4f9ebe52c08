import * as tf from "@tensorflow/tfjs";
import { filesLoadHandler } from "./checkpoint/model-files";
import { PIXELS_PER_IMAGE } from "./data";
import { IMAGE_SIZE } from "./models";

/** Loads a model saved in the tfjs layers format from in-memory model.json and weights.bin. */
export async function loadModelFromFiles(
  files: Record<string, Uint8Array>,
): Promise<tf.LayersModel> {
  return tf.loadLayersModel(filesLoadHandler(files));
}

/**
 * Returns the 10 class probabilities for one 28x28 image given as 784 row-major values in [0, 1]
 * (0 = background, 1 = ink, as in MNIST).
 */
export function predictDigit(model: tf.LayersModel, pixels: Float32Array | number[]): number[] {
  if (pixels.length !== PIXELS_PER_IMAGE) {
    throw new Error(
      `predictDigit expects ${PIXELS_PER_IMAGE} pixel values (28x28, row-major), got ${pixels.length}.`,
    );
  }
  const invalid = Array.from(pixels).findIndex((value) => !(value >= 0 && value <= 1));
  if (invalid >= 0) {
    throw new Error(
      `Pixel ${invalid} is ${pixels[invalid]}; scale pixels to [0, 1] (divide 0-255 values by 255).`,
    );
  }
  return tf.tidy(() => {
    const input = tf.tensor4d(Float32Array.from(pixels), [1, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const output = model.predict(input) as tf.Tensor;
    return Array.from(output.dataSync());
  });
}
