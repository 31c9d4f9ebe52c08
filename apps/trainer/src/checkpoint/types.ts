import type { Phase } from "@convnet/shared";

/** One saved epoch: the model (model.json, weights.bin), optimizer state and trainer state. */
export interface Checkpoint {
  phase: Phase;
  /** 1-based epoch within the phase that this checkpoint completes. */
  epoch: number;
  /** 1-based epoch count across phases. */
  step: number;
  files: Record<string, Uint8Array>;
}

/** Storage for checkpoints; the trainer saves one per epoch and resumes from the latest. */
export interface CheckpointStore {
  save(checkpoint: Checkpoint): Promise<void>;
  latest(): Promise<Checkpoint | null>;
}
