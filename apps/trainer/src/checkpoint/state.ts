import type { Phase, RunConfig } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { copyToArrayBuffer } from "./model-files";

export const OPTIMIZER_JSON = "optimizer.json";
export const OPTIMIZER_BIN = "optimizer.bin";
export const TRAINER_STATE_JSON = "trainer-state.json";

/** Everything besides weights that a resumed run needs to continue where the last epoch ended. */
export interface TrainerState {
  /** Format version, raised when the fields change incompatibly. */
  version: 1;
  /** The configuration the checkpoint was trained with; a resume with another one is rejected. */
  config: RunConfig;
  phase: Phase;
  /** Epochs of `phase` completed so far. */
  epoch: number;
  /** Epochs completed across phases. */
  step: number;
  /** Lowest validation loss of the current phase, for early stopping; null before the first. */
  bestValLoss: number | null;
  epochsWithoutImprovement: number;
  /** True once early stopping ended the current phase. */
  phaseStoppedEarly: boolean;
  stoppedEarly: boolean;
}

interface OptimizerJson {
  optimizer: string;
  /** Weight specs in the order optimizer.getWeights() returned them, which setWeights relies on. */
  specs: tf.io.WeightsManifestEntry[];
  /** Adam's running powers of beta1 and beta2, which getWeights leaves out. */
  adamPowers?: { accBeta1: number; accBeta2: number };
}

/**
 * Adam's bias-correction powers as tfjs 4.22 keeps them. Adam.setWeights recomputes them with
 * pow(beta, iterations + 1), which differs in the last float32 bits from the repeated products an
 * uninterrupted run holds, so a resume restores the exact values instead.
 */
interface AdamPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function adamPowers(optimizer: tf.Optimizer): AdamPowers | null {
  // Not instanceof: tfjs 4.22's Optimizer overrides Symbol.hasInstance so that every optimizer
  // (SGD, RMSProp) passes `instanceof tf.AdamOptimizer`.
  if (optimizer.getClassName() !== "Adam") return null;
  const powers = optimizer as unknown as Partial<AdamPowers>;
  if (!(powers.accBeta1 instanceof tf.Variable) || !(powers.accBeta2 instanceof tf.Variable)) {
    throw new Error(
      "AdamOptimizer no longer has accBeta1/accBeta2 variables; update the checkpoint code to this tfjs version.",
    );
  }
  return { accBeta1: powers.accBeta1, accBeta2: powers.accBeta2 };
}

/** Encodes optimizer.getWeights() (iteration count and slot variables) into two files. */
export async function encodeOptimizerState(
  optimizer: tf.Optimizer,
): Promise<Record<string, Uint8Array>> {
  const weights = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  // getWeights returns the slot variables themselves but a fresh scalar for the iteration count.
  for (const { name, tensor } of weights) if (name === "iter") tensor.dispose();
  const json: OptimizerJson = { optimizer: optimizer.getClassName(), specs };
  const powers = adamPowers(optimizer);
  if (powers !== null) {
    json.adamPowers = {
      accBeta1: (await powers.accBeta1.data())[0] ?? 0,
      accBeta2: (await powers.accBeta2.data())[0] ?? 0,
    };
  }
  return {
    [OPTIMIZER_JSON]: new TextEncoder().encode(JSON.stringify(json)),
    [OPTIMIZER_BIN]: new Uint8Array(data),
  };
}

/** Restores what encodeOptimizerState saved into an optimizer of the same class. */
export async function restoreOptimizerState(
  optimizer: tf.Optimizer,
  files: Record<string, Uint8Array>,
): Promise<void> {
  const jsonBytes = files[OPTIMIZER_JSON];
  const data = files[OPTIMIZER_BIN];
  if (jsonBytes === undefined || data === undefined) {
    throw new Error(
      `The checkpoint lacks ${OPTIMIZER_JSON} or ${OPTIMIZER_BIN}, so the optimizer state cannot be restored; delete the checkpoint folder to start over.`,
    );
  }
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as OptimizerJson;
  if (json.optimizer !== optimizer.getClassName()) {
    throw new Error(
      `The checkpoint contains ${json.optimizer} state but the run uses ${optimizer.getClassName()}; resume with the configuration the checkpoint was made with.`,
    );
  }
  const decoded = tf.io.decodeWeights(copyToArrayBuffer(data), json.specs);
  const weights = json.specs.map((spec) => {
    const tensor = decoded[spec.name];
    if (tensor === undefined)
      throw new Error(
        `Optimizer weight ${spec.name} is missing from ${OPTIMIZER_BIN}; the checkpoint is corrupt.`,
      );
    return { name: spec.name, tensor };
  });
  await optimizer.setWeights(weights);
  for (const { tensor } of weights) tensor.dispose();

  const powers = adamPowers(optimizer);
  if (powers !== null && json.adamPowers !== undefined) {
    const { accBeta1, accBeta2 } = json.adamPowers;
    tf.tidy(() => {
      powers.accBeta1.assign(tf.scalar(accBeta1));
      powers.accBeta2.assign(tf.scalar(accBeta2));
    });
  }
}

export function encodeTrainerState(state: TrainerState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state, null, 2));
}

export function decodeTrainerState(files: Record<string, Uint8Array>): TrainerState {
  const bytes = files[TRAINER_STATE_JSON];
  if (bytes === undefined) {
    throw new Error(
      `The checkpoint lacks ${TRAINER_STATE_JSON}; delete the checkpoint folder to start over.`,
    );
  }
  const state = JSON.parse(new TextDecoder().decode(bytes)) as TrainerState;
  if (state.version !== 1) {
    throw new Error(
      `${TRAINER_STATE_JSON} has format version ${String(state.version)}, expected 1; this trainer cannot resume it.`,
    );
  }
  return state;
}
