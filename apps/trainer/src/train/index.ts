export { createRandom, deriveSeed } from "@convnet/shared";
export type { AugmentationRanges, ImageTransform } from "./augment";
export {
  applyTransforms,
  augmentBatch,
  drawTransforms,
  IDENTITY_TRANSFORM,
  projectiveCoefficients,
} from "./augment";
export { checkRunConfig, InvalidRunConfigError } from "./config";
export { trainRun } from "./run";
export type {
  BatchProgress,
  EpochReport,
  Misclassification,
  RunResult,
  TrainOptions,
} from "./types";
