export type { BackendInfo, BackendName, BackendPreference } from "./backend";
export { selectBackend } from "./backend";
export type { Checkpoint, CheckpointStore, TrainerState } from "./checkpoint";
export { DirectoryCheckpointStore, filesLoadHandler, saveModelToFiles } from "./checkpoint";
export type { DownloadProgress, LabeledImages, LoadMnistOptions, MnistData } from "./data";
export { DatasetFileError, loadMnist, splitValidation } from "./data";
export { loadModelFromFiles, predictDigit } from "./inference";
export type { ModelConfig } from "./models";
export { buildModel, describeArchitecture, IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES } from "./models";
export type {
  AugmentationRanges,
  BatchProgress,
  EpochReport,
  ImageTransform,
  Misclassification,
  RunResult,
  TrainOptions,
} from "./train";
export { augmentBatch, checkRunConfig, InvalidRunConfigError, trainRun } from "./train";
