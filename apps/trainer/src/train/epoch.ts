import type { OptimizerName, RunConfig } from "@convnet/shared";
import { createRandom, deriveSeed, shuffledIndices } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import type { LabeledImages } from "../data";
import { augmentBatch } from "./augment";
import { gatherBatch } from "./batches";
import type { BatchProgress } from "./types";

/** One phase of a run as the loop executes it. */
export interface PhasePlan {
  phase: "train" | "finetune";
  /** Position of the phase in the run, mixed into every random seed of the phase. */
  index: number;
  epochs: number;
  optimizer: OptimizerName;
  learningRate: number;
  augment: boolean;
}

export interface EpochTotals {
  loss: number;
  accuracy: number;
  trainSeconds: number;
}

interface DropoutSeed {
  seed?: number;
}

/**
 * Trains one epoch with model.trainOnBatch. The shuffle, the augmentation and the dropout masks
 * are drawn from generators seeded by (run seed, phase, epoch, batch), so a resumed run replays
 * exactly the batches an uninterrupted one would have seen.
 */
export async function trainEpoch(
  model: tf.LayersModel,
  train: LabeledImages,
  config: RunConfig,
  plan: PhasePlan,
  epoch: number,
  signal: AbortSignal | undefined,
  onBatch: ((progress: BatchProgress) => void) | undefined,
): Promise<EpochTotals> {
  const random = createRandom(deriveSeed(config.seed, plan.index, epoch));
  const order = shuffledIndices(train.count, random);
  const batches = Math.ceil(train.count / config.batchSize);
  const dropoutLayers = model.layers.filter((layer) => layer.getClassName() === "Dropout");
  const started = performance.now();
  let lossSum = 0;
  let accuracySum = 0;
  let seen = 0;

  for (let batch = 0; batch < batches; batch++) {
    signal?.throwIfAborted();

    dropoutLayers.forEach((layer, layerIndex) => {
      // tfjs's Dropout draws its mask from `seed` when set; a fresh seed per batch keeps masks
      // varied but reproducible.
      (layer as unknown as DropoutSeed).seed = deriveSeed(
        config.seed,
        plan.index,
        epoch,
        batch,
        layerIndex,
      );
    });
    const indices = order.subarray(
      batch * config.batchSize,
      Math.min((batch + 1) * config.batchSize, train.count),
    );
    const { xs, ys } = gatherBatch(train, indices);
    const inputs = plan.augment ? augmentBatch(xs, config, random) : xs;
    const outputs = await model.trainOnBatch(inputs, ys);
    tf.dispose(inputs === xs ? [xs, ys] : [xs, ys, inputs]);

    const [loss = Number.NaN, accuracy = Number.NaN] = Array.isArray(outputs) ? outputs : [outputs];
    lossSum += loss * indices.length;
    accuracySum += accuracy * indices.length;
    seen += indices.length;
    onBatch?.({
      phase: plan.phase,
      epoch,
      epochs: plan.epochs,
      batch: batch + 1,
      batches,
      loss: lossSum / seen,
      accuracy: accuracySum / seen,
      elapsedSeconds: (performance.now() - started) / 1000,
    });
    // Lets timers and signal handlers run, so an abort requested mid-epoch takes effect at once.
    await new Promise((resolve) => setImmediate(resolve));
  }

  return {
    loss: lossSum / seen,
    accuracy: accuracySum / seen,
    trainSeconds: (performance.now() - started) / 1000,
  };
}
