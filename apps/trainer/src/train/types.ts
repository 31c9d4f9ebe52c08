import type { Phase } from "@convnet/shared";
import type { Logger } from "pino";
import type { BackendInfo, BackendPreference } from "../backend";
import type { CheckpointStore } from "../checkpoint";
import type { DownloadProgress } from "../data";
import type { BaseModelLoader } from "./base-model";

/** Metrics of one finished epoch, in the names Keras uses. */
export interface EpochReport {
  phase: Phase;
  /** 1-based epoch within the phase. */
  epoch: number;
  /** 1-based epoch count across phases. */
  step: number;
  /**
   * loss, accuracy, val_loss, val_accuracy (absent when validationSplit is 0), learning_rate,
   * epoch_seconds (training and validation) and samples_per_second (training images per second
   * of training time).
   */
  metrics: Record<string, number>;
}

/** Progress within an epoch, for progress bars; loss and accuracy are running means. */
export interface BatchProgress {
  phase: Phase;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  elapsedSeconds: number;
}

export interface TrainOptions {
  /** Folder with the data set's IDX files; see loadMnist for the fallbacks. */
  dataDir?: string;
  /** Compute backend; default "auto" (or the TRAINER_BACKEND environment variable). */
  backend?: BackendPreference;
  /** Receives a checkpoint per epoch; when it contains one already, the run resumes after it. */
  store?: CheckpointStore;
  /** Cancels the run between batches; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  logger?: Logger;
  onEpoch?(report: EpochReport): void | Promise<void>;
  onPhaseStart?(phase: Phase, epochs: number): void;
  onBatch?(progress: BatchProgress): void;
  onDownloadProgress?(progress: DownloadProgress): void;
  /** Resolves the configuration's baseModel; default: read it as a local folder. */
  loadBaseModel?: BaseModelLoader;
}

export interface Misclassification {
  /** Index of the image in the test set. */
  index: number;
  label: number;
  predicted: number;
}

export interface RunResult {
  testLoss: number;
  testAccuracy: number;
  /** confusionMatrix[label][predicted] counts test images. */
  confusionMatrix: number[][];
  misclassified: Misclassification[];
  backend: BackendInfo;
  durationSeconds: number;
  stoppedEarly: boolean;
  /** Final model in the tfjs layers format: model.json and weights.bin. */
  model: Record<string, Uint8Array>;
}
