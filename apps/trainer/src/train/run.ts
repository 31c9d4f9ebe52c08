import type { OptimizerName, Phase, RunConfig } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import type { Logger } from "pino";
import { selectBackend } from "../backend";
import type { Checkpoint } from "../checkpoint";
import { filesLoadHandler, saveModelToFiles } from "../checkpoint/model-files";
import {
  decodeTrainerState,
  encodeOptimizerState,
  encodeTrainerState,
  restoreOptimizerState,
  TRAINER_STATE_JSON,
  type TrainerState,
} from "../checkpoint/state";
import { type LabeledImages, loadMnist, splitValidation } from "../data";
import { buildModel } from "../models";
import { applyBaseModel, freezeLayers, readModelFolder } from "./base-model";
import { canonicalConfig, checkRunConfig, createOptimizer } from "./config";
import { type PhasePlan, trainEpoch } from "./epoch";
import { confusionMatrix, evaluate, misclassifications } from "./evaluate";
import { trainLogger } from "./logger";
import type { EpochReport, RunResult, TrainOptions } from "./types";

/**
 * Trains a model from a run configuration: the 'train' phase, then the augmented 'finetune' phase
 * when finetuneEpochs > 0, with a checkpoint after every epoch, then evaluates it on the test set.
 * With a store that already contains a checkpoint of the same configuration, the run resumes after it.
 */
export async function trainRun(input: RunConfig, options: TrainOptions = {}): Promise<RunResult> {
  const config = checkRunConfig(input);
  const started = performance.now();
  const logger = options.logger ?? trainLogger;
  options.signal?.throwIfAborted();

  const backend = await selectBackend(options.backend, { logger });
  const model = buildModel(config);
  try {
    // Before the data loads, so that a bad layer count or base model is reported first.
    freezeLayers(model, config);
    const checkpoint = (await options.store?.latest()) ?? null;
    if (checkpoint === null) {
      await applyBaseModel(model, config, options.loadBaseModel ?? readModelFolder, logger);
    }
    const data = await loadMnist({
      dataset: config.dataset,
      dataDir: options.dataDir,
      trainLimit: config.trainLimit,
      testLimit: config.testLimit,
      onDownloadProgress: options.onDownloadProgress,
    });
    const { train, validation } = splitValidation(data.train, config.validationSplit);
    logger.info(
      {
        backend: backend.name,
        dataDir: data.dir,
        train: train.count,
        validation: validation?.count ?? 0,
        test: data.test.count,
      },
      "Starting the run.",
    );

    let state =
      checkpoint === null
        ? initialState(config)
        : await restoreCheckpoint(model, checkpoint, config, logger);
    // Fine-tuning continues the training phase's optimizer state (Adam's moments) with its own
    // learning rate, as Keras does when fit is called again on the compiled model. A fresh
    // optimizer there takes full-size first steps and wrecks a trained model for an epoch.
    let pendingOptimizerState: PendingOptimizerState | null =
      checkpoint !== null && state.epoch > 0
        ? { files: checkpoint.files, optimizer: phaseOptimizer(config, state.phase) }
        : null;

    for (const plan of phasePlans(config)) {
      if (plan.epochs === 0 || phaseIndex(state.phase) > plan.index) continue;
      if (phaseIndex(state.phase) < plan.index) {
        state = enterPhase(state, plan.phase);
      }
      if (state.phaseStoppedEarly || state.epoch >= plan.epochs) continue;

      const optimizer = createOptimizer(plan.optimizer, plan.learningRate);
      try {
        model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
        // A different optimizer has no use for the previous one's state, so it starts fresh.
        if (pendingOptimizerState !== null && pendingOptimizerState.optimizer === plan.optimizer) {
          await restoreOptimizerState(optimizer, pendingOptimizerState.files);
        }
        pendingOptimizerState = null;
        options.onPhaseStart?.(plan.phase, plan.epochs);
        state = await runPhase(model, optimizer, plan, state, {
          config,
          train,
          validation,
          options,
          logger,
        });
        pendingOptimizerState = {
          files: await encodeOptimizerState(optimizer),
          optimizer: plan.optimizer,
        };
      } finally {
        optimizer.dispose();
      }
    }

    const evaluation = await evaluate(model, data.test);
    const result: RunResult = {
      testLoss: evaluation.loss,
      testAccuracy: evaluation.accuracy,
      confusionMatrix: confusionMatrix(data.test.labels, evaluation.predictions),
      misclassified: misclassifications(data.test.labels, evaluation.predictions),
      backend,
      durationSeconds: (performance.now() - started) / 1000,
      stoppedEarly: state.stoppedEarly,
      model: await saveModelToFiles(model),
    };
    logger.info(
      {
        testLoss: result.testLoss,
        testAccuracy: result.testAccuracy,
        durationSeconds: result.durationSeconds,
      },
      "Finished the run.",
    );
    return result;
  } finally {
    model.dispose();
  }
}

interface PhaseContext {
  config: RunConfig;
  train: LabeledImages;
  validation: LabeledImages | null;
  options: TrainOptions;
  logger: Logger;
}

/** Runs the remaining epochs of one phase, saving a checkpoint and reporting after each. */
async function runPhase(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  plan: PhasePlan,
  startState: TrainerState,
  context: PhaseContext,
): Promise<TrainerState> {
  const { config, train, validation, options, logger } = context;
  let state = startState;

  // The first epoch of a phase allocates the optimizer's slot variables, so leaks are counted
  // from the end of that epoch on.
  let tensorsAfterFirstEpoch: number | null = null;
  for (let epoch = state.epoch + 1; epoch <= plan.epochs; epoch++) {
    const epochStarted = performance.now();
    const totals = await trainEpoch(
      model,
      train,
      config,
      plan,
      epoch,
      options.signal,
      options.onBatch,
    );
    const validationResult = validation === null ? null : await evaluate(model, validation);
    const epochSeconds = (performance.now() - epochStarted) / 1000;

    const metrics: Record<string, number> = { loss: totals.loss, accuracy: totals.accuracy };
    if (validationResult !== null) {
      metrics.val_loss = validationResult.loss;
      metrics.val_accuracy = validationResult.accuracy;
    }
    metrics.learning_rate = plan.learningRate;
    metrics.epoch_seconds = epochSeconds;
    metrics.samples_per_second = train.count / totals.trainSeconds;

    state = updateEarlyStopping(
      { ...state, epoch, step: state.step + 1 },
      validationResult?.loss ?? totals.loss,
      config,
    );
    await saveCheckpoint(model, optimizer, state, options);

    const report: EpochReport = { phase: plan.phase, epoch, step: state.step, metrics };
    logger.info(
      { ...report, tensors: tf.memory().numTensors },
      `Finished ${plan.phase} epoch ${epoch}/${plan.epochs}.`,
    );
    const tensors = tf.memory().numTensors;
    if (tensorsAfterFirstEpoch === null) {
      tensorsAfterFirstEpoch = tensors;
    } else if (tensors > tensorsAfterFirstEpoch) {
      const leaked = tensors - tensorsAfterFirstEpoch;
      logger.warn(
        { leaked, phase: plan.phase, epoch },
        "Tensors leaked since the phase's first epoch.",
      );
    }
    await options.onEpoch?.(report);

    if (state.phaseStoppedEarly) {
      logger.info(
        { phase: plan.phase, epoch, bestValLoss: state.bestValLoss },
        "Stopping the phase early: the monitored loss stopped improving.",
      );
      break;
    }
  }
  return state;
}

/**
 * Tracks the best monitored loss (val_loss, or loss without a validation set) and ends the phase
 * after earlyStoppingPatience epochs without improvement, as Keras's EarlyStopping with
 * min_delta 0 does. Patience 0 disables it.
 */
function updateEarlyStopping(
  state: TrainerState,
  monitored: number,
  config: RunConfig,
): TrainerState {
  if (state.bestValLoss === null || monitored < state.bestValLoss) {
    return { ...state, bestValLoss: monitored, epochsWithoutImprovement: 0 };
  }
  const epochsWithoutImprovement = state.epochsWithoutImprovement + 1;
  const stop =
    config.earlyStoppingPatience > 0 && epochsWithoutImprovement >= config.earlyStoppingPatience;
  return {
    ...state,
    epochsWithoutImprovement,
    phaseStoppedEarly: stop,
    stoppedEarly: state.stoppedEarly || stop,
  };
}

async function saveCheckpoint(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainerState,
  options: TrainOptions,
): Promise<void> {
  if (options.store === undefined) return;
  const files = {
    ...(await saveModelToFiles(model)),
    ...(await encodeOptimizerState(optimizer)),
    [TRAINER_STATE_JSON]: encodeTrainerState(state),
  };
  const checkpoint: Checkpoint = {
    phase: state.phase,
    epoch: state.epoch,
    step: state.step,
    files,
  };
  await options.store.save(checkpoint);
}

/** Loads a checkpoint's weights into the model and returns its trainer state. */
async function restoreCheckpoint(
  model: tf.LayersModel,
  checkpoint: Checkpoint,
  config: RunConfig,
  logger: Logger,
): Promise<TrainerState> {
  const state = decodeTrainerState(checkpoint.files);
  if (canonicalConfig(state.config) !== canonicalConfig(config)) {
    throw new Error(
      `The checkpoint store contains a checkpoint of a different configuration (${canonicalConfig(state.config)}); resume with that configuration or use an empty checkpoint directory.`,
    );
  }
  const saved = await tf.loadLayersModel(filesLoadHandler(checkpoint.files));
  try {
    model.setWeights(saved.getWeights());
  } finally {
    saved.dispose();
  }
  logger.info(
    { phase: state.phase, epoch: state.epoch, step: state.step },
    "Resuming from the latest checkpoint.",
  );
  return state;
}

function initialState(config: RunConfig): TrainerState {
  return {
    version: 1,
    config,
    phase: "train",
    epoch: 0,
    step: 0,
    bestValLoss: null,
    epochsWithoutImprovement: 0,
    phaseStoppedEarly: false,
    stoppedEarly: false,
  };
}

function enterPhase(state: TrainerState, phase: Phase): TrainerState {
  return {
    ...state,
    phase,
    epoch: 0,
    bestValLoss: null,
    epochsWithoutImprovement: 0,
    phaseStoppedEarly: false,
  };
}

function phasePlans(config: RunConfig): PhasePlan[] {
  return [
    {
      phase: "train",
      index: 0,
      epochs: config.epochs,
      optimizer: config.optimizer,
      learningRate: config.learningRate,
      augment: false,
    },
    {
      phase: "finetune",
      index: 1,
      epochs: config.finetuneEpochs,
      optimizer: phaseOptimizer(config, "finetune"),
      learningRate: config.finetuneLearningRate,
      augment: true,
    },
  ];
}

/** Saved optimizer state waiting for the next compile, with the optimizer it belongs to. */
interface PendingOptimizerState {
  files: Record<string, Uint8Array>;
  optimizer: OptimizerName;
}

function phaseOptimizer(config: RunConfig, phase: Phase): OptimizerName {
  return phase === "finetune" ? (config.finetuneOptimizer ?? config.optimizer) : config.optimizer;
}

function phaseIndex(phase: Phase): number {
  return phase === "train" ? 0 : 1;
}
