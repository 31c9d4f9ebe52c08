import {
  type ConfigIssue,
  type OptimizerName,
  type RunConfig,
  validateRunConfig,
} from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { FusedAdam } from "./adam";

/** Adam's moment decay rates: the defaults of tf.train.adam and of Keras. */
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;

/** Raised before any work starts when a run configuration is invalid; lists every bad field. */
export class InvalidRunConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `Invalid run configuration: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}.`,
    );
    this.name = "InvalidRunConfigError";
  }
}

/**
 * Validates a configuration with the shared schema plus the checks that need several fields at
 * once, and returns it typed; throws InvalidRunConfigError listing every problem.
 */
export function checkRunConfig(input: unknown): RunConfig {
  const result = validateRunConfig(input);
  if (!result.ok) throw new InvalidRunConfigError(result.issues);
  const config = result.config;

  const issues: ConfigIssue[] = [];
  const trainImages = config.trainLimit ?? 60_000;
  const fitImages = trainImages - Math.floor(trainImages * config.validationSplit);
  if (config.batchSize > fitImages) {
    issues.push({
      field: "batchSize",
      message: `batchSize ${config.batchSize} exceeds the ${fitImages} training images left after the validation split; use at most ${fitImages}`,
    });
  }
  if (issues.length > 0) throw new InvalidRunConfigError(issues);
  return config;
}

export function createOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  switch (name) {
    case "adam":
      return new FusedAdam(learningRate, ADAM_BETA1, ADAM_BETA2);
    case "sgd":
      return tf.train.sgd(learningRate);
    case "rmsprop":
      return tf.train.rmsprop(learningRate);
    default: {
      const unknown: never = name;
      throw new Error(`Optimizer "${String(unknown)}" is not supported; use adam, sgd or rmsprop.`);
    }
  }
}

/** Serialises a configuration with sorted keys, so two equal configurations compare equal. */
export function canonicalConfig(config: RunConfig): string {
  return JSON.stringify(config, Object.keys(config).sort());
}
