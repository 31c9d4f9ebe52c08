import * as tf from "@tensorflow/tfjs";
import {
  BATCH_NORM_TRAINING,
  type BatchNormTrainingAttrs,
  hasBatchNormTrainingKernel,
} from "../backend/batch-norm/kernels";
import { stockLayerClass } from "./stock-layer";

type BatchNormalizationArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;
type StockBatchNormalizationLayer = ReturnType<typeof tf.layers.batchNormalization>;

interface LayerVariableLike {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
}

/** Fields of tfjs-layers 4.22's BatchNormalization that the training path reads. */
interface BatchNormalizationState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: LayerVariableLike | null;
  beta: LayerVariableLike | null;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

const StockBatchNormalization = stockLayerClass<
  StockBatchNormalizationLayer,
  BatchNormalizationArgs
>("BatchNormalization");

/**
 * tfjs-layers' BatchNormalization whose training step runs two kernels, one for the batch
 * statistics and normalisation and one for every gradient, where the backend has them (wasm, cpu).
 * The stock layer builds the statistics from generic ops: in a VGG step on wasm it ran about 19
 * full-size kernels per activation, forward and backward, where these two make four passes.
 * The class name, configuration and weights are the stock ones, so saved models load anywhere.
 */
export class BatchNormalization extends StockBatchNormalization {
  static override className = "BatchNormalization";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    // A frozen layer normalises with its moving statistics and leaves them unchanged, as in Keras.
    if (!this.trainable && kwargs.training === true) {
      return super.call(inputs, { ...kwargs, training: false }) as tf.Tensor;
    }
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const state = this as unknown as BatchNormalizationState;
    const { gamma, beta } = state;
    const lastAxis = (input?.rank ?? 0) - 1;
    const fast =
      kwargs.training === true &&
      input !== undefined &&
      input.dtype === "float32" &&
      lastAxis >= 1 &&
      (state.axis === -1 || state.axis === lastAxis) &&
      gamma !== null &&
      beta !== null &&
      hasBatchNormTrainingKernel(tf.getBackend());
    if (!fast) return super.call(inputs, kwargs) as tf.Tensor;

    return tf.tidy(() => {
      const attrs: BatchNormTrainingAttrs = { varianceEpsilon: state.epsilon };
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING,
          { x: input, scale: gamma.read(), offset: beta.read() },
          attrs as unknown as tf.NamedAttrMap,
        ) as [tf.Tensor, tf.Tensor, tf.Tensor];
      updateMovingAverage(state.movingMean, mean, state.momentum);
      updateMovingAverage(state.movingVariance, variance, state.momentum);
      return y;
    });
  }
}

/** Moves `variable` towards `value` as the stock layer does: v - (v - value) * (1 - momentum). */
function updateMovingAverage(
  variable: LayerVariableLike,
  value: tf.Tensor,
  momentum: number,
): void {
  tf.tidy(() => {
    const current = variable.read();
    variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum)));
  });
}

// Models loaded from model.json (checkpoints included) get this class in this process.
tf.serialization.registerClass(BatchNormalization);
