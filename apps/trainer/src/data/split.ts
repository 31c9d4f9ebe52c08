import { type LabeledImages, PIXELS_PER_IMAGE } from "./load";

/** Returns images [start, end) as views, without copying. */
export function sliceImages(data: LabeledImages, start: number, end: number): LabeledImages {
  return {
    images: data.images.subarray(start * PIXELS_PER_IMAGE, end * PIXELS_PER_IMAGE),
    labels: data.labels.subarray(start, end),
    count: end - start,
  };
}

/**
 * Holds out the last `validationSplit` fraction of the training images for validation, as
 * Keras's validation_split does: the split depends on the order of the file alone, never on a
 * shuffle, so every run and every resume uses the same validation set.
 */
export function splitValidation(
  train: LabeledImages,
  validationSplit: number,
): { train: LabeledImages; validation: LabeledImages | null } {
  const validationCount = Math.floor(train.count * validationSplit);
  if (validationCount === 0) return { train, validation: null };
  const trainCount = train.count - validationCount;
  return {
    train: sliceImages(train, 0, trainCount),
    validation: sliceImages(train, trainCount, train.count),
  };
}
