import { type Random, uniform } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";

/** Ranges of the random transforms, in Keras ImageDataGenerator terms. */
export interface AugmentationRanges {
  /** Maximum rotation in degrees; each image turns by a uniform angle in [-rotation, rotation]. */
  rotation: number;
  /** Maximum horizontal shift as a fraction of the width. */
  widthShift: number;
  /** Maximum vertical shift as a fraction of the height. */
  heightShift: number;
  /** Each axis is scaled by an independent factor drawn from [1 - zoom, 1 + zoom]. */
  zoom: number;
}

/** One image's transform: rotation in degrees, shift in pixels, zoom factor per axis. */
export interface ImageTransform {
  rotationDegrees: number;
  shiftX: number;
  shiftY: number;
  zoomX: number;
  zoomY: number;
}

export const IDENTITY_TRANSFORM: ImageTransform = {
  rotationDegrees: 0,
  shiftX: 0,
  shiftY: 0,
  zoomX: 1,
  zoomY: 1,
};

export function isAugmentationEnabled(ranges: AugmentationRanges): boolean {
  return ranges.rotation > 0 || ranges.widthShift > 0 || ranges.heightShift > 0 || ranges.zoom > 0;
}

/** Draws one transform per image, consuming `random` in a fixed order so a seed replays it. */
export function drawTransforms(
  count: number,
  ranges: AugmentationRanges,
  width: number,
  height: number,
  random: Random,
): ImageTransform[] {
  const transforms: ImageTransform[] = [];
  for (let i = 0; i < count; i++) {
    transforms.push({
      rotationDegrees: uniform(random, -ranges.rotation, ranges.rotation),
      shiftX: uniform(random, -ranges.widthShift, ranges.widthShift) * width,
      shiftY: uniform(random, -ranges.heightShift, ranges.heightShift) * height,
      zoomX: uniform(random, 1 - ranges.zoom, 1 + ranges.zoom),
      zoomY: uniform(random, 1 - ranges.zoom, 1 + ranges.zoom),
    });
  }
  return transforms;
}

/**
 * Returns the 8 projective coefficients that tf.image.transform expects for one image. They map
 * an output pixel (x, y) to the input pixel it samples: input = c + R * Z * (output - c - shift),
 * with c the image centre, R the rotation and Z the zoom. So a positive shiftX moves the content
 * right, and a zoom factor above 1 shrinks the content, as in Keras.
 */
export function projectiveCoefficients(
  transform: ImageTransform,
  width: number,
  height: number,
): number[] {
  const theta = (transform.rotationDegrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const a0 = cos * transform.zoomX;
  const a1 = -sin * transform.zoomY;
  const b0 = sin * transform.zoomX;
  const b1 = cos * transform.zoomY;

  const centreX = (width - 1) / 2;
  const centreY = (height - 1) / 2;
  const sourceX = centreX + transform.shiftX;
  const sourceY = centreY + transform.shiftY;
  const a2 = centreX - (a0 * sourceX + a1 * sourceY);
  const b2 = centreY - (b0 * sourceX + b1 * sourceY);
  return [a0, a1, a2, b0, b1, b2, 0, 0];
}

/**
 * Applies one transform per image of an [n, height, width, channels] batch in a single
 * tf.image.transform call, with nearest-neighbour sampling and zeros outside the image.
 */
export function applyTransforms(images: tf.Tensor4D, transforms: ImageTransform[]): tf.Tensor4D {
  const [count, height, width] = images.shape;
  if (transforms.length !== count) {
    throw new Error(
      `applyTransforms got ${transforms.length} transforms for a batch of ${count} images; pass one per image.`,
    );
  }
  return tf.tidy(() => {
    const coefficients = tf.tensor2d(
      transforms.flatMap((transform) => projectiveCoefficients(transform, width, height)),
      [count, 8],
    );
    if (tf.getBackend() !== "cpu")
      return tf.image.transform(images, coefficients, "nearest", "constant", 0);

    // NOTE: the cpu backend's Transform kernel (tfjs-backend-cpu 4.22.0) returns after the first
    // image and leaves the rest of a batch zero, so there each image is transformed on its own.
    const perImage = tf
      .split(images, count)
      .map((image, i) =>
        tf.image.transform(
          image as tf.Tensor4D,
          coefficients.slice([i, 0], [1, 8]),
          "nearest",
          "constant",
          0,
        ),
      );
    return tf.concat(perImage) as tf.Tensor4D;
  });
}

/** Augments a batch with transforms drawn from `ranges`; returns the batch unchanged when all ranges are 0. */
export function augmentBatch(
  images: tf.Tensor4D,
  ranges: AugmentationRanges,
  random: Random,
): tf.Tensor4D {
  if (!isAugmentationEnabled(ranges)) return images.clone();
  const [count, height, width] = images.shape;
  return applyTransforms(images, drawTransforms(count, ranges, width, height, random));
}
