import { createRandom } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { stockLayerClass } from "./stock-layer";

type DropoutArgs = Parameters<typeof tf.layers.dropout>[0];
type StockDropoutLayer = ReturnType<typeof tf.layers.dropout>;

/** Fields of tfjs-layers 4.22's Dropout that the training path reads. */
interface DropoutState {
  rate: number;
  noiseShape?: number[];
  seed?: number;
}

const StockDropout = stockLayerClass<StockDropoutLayer, DropoutArgs>("Dropout");

/**
 * tfjs-layers' Dropout with its mask drawn by a mulberry32 generator straight into a typed array.
 * The stock layer draws through tf.randomUniform, whose per-value generator took about 10 ms of
 * a VGG training step on the 2-core benchmark machine for 1.2M values, and then runs three kernels
 * to turn the draws into a mask. The class name, configuration and behaviour outside training
 * are the stock ones.
 */
export class Dropout extends StockDropout {
  static override className = "Dropout";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const state = this as unknown as DropoutState;
    if (
      kwargs.training !== true ||
      input === undefined ||
      input.dtype !== "float32" ||
      state.noiseShape != null ||
      !(state.rate > 0 && state.rate < 1)
    ) {
      return super.call(inputs, kwargs) as tf.Tensor;
    }

    const keep = 1 - state.rate;
    const scale = 1 / keep;
    const random = createRandom(state.seed ?? Math.floor(Math.random() * 2 ** 32));
    const mask = new Float32Array(input.size);
    // Kept with probability `keep` and scaled by 1 / keep, as tf.dropout does.
    for (let i = 0; i < mask.length; i++) mask[i] = random() < keep ? scale : 0;
    return tf.tidy(() => tf.mul(input, tf.tensor(mask, input.shape, "float32")));
  }
}

// Models loaded from model.json (checkpoints included) get this class in this process.
tf.serialization.registerClass(Dropout);
