import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";
import { BATCH_NORM_TRAINING } from "../src/backend/batch-norm/kernels";
import { BatchNormalization } from "../src/models/batch-normalization";

// The fused training kernels are checked against tfjs-layers' own BatchNormalization, whose
// statistics come from generic ops, on each backend the kernels are registered for.

const RELATIVE_TOLERANCE = 1e-4;
const BACKENDS = ["wasm", "cpu"] as const;

function randomTensor(shape: number[], seed: number, offset = 0): tf.Tensor {
  return tf.add(tf.randomNormal(shape, 0, 1.5, "float32", seed), offset);
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const scale = tf.max(tf.abs(expected)).dataSync()[0] as number;
  const difference = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] as number;
  expect(difference / (scale || 1)).toBeLessThan(RELATIVE_TOLERANCE);
}

/** Runs one training-mode call of `layer` and returns y and the gradients of a weighted loss. */
function trainingStep(layer: tf.layers.Layer, x: tf.Tensor, weights: tf.Tensor) {
  const [gamma, beta] = layer.trainableWeights.map((weight) => weight.read());
  const loss = (input: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
    layer.trainableWeights[0]?.write(scale);
    layer.trainableWeights[1]?.write(offset);
    const y = layer.apply(input, { training: true }) as tf.Tensor;
    // Squaring makes dy depend on y, so every term of the gradient matters.
    return tf.sum(tf.mul(tf.square(y), weights));
  };
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const grads = tf.grads(loss)([x, gamma as tf.Tensor, beta as tf.Tensor]);
  return { y, grads };
}

function buildPair(channels: number, inputShape: number[]) {
  const options = {
    gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 3 }),
    betaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 4 }),
    momentum: 0.9,
  };
  const fused = new BatchNormalization(options);
  const stock = tf.layers.batchNormalization(options);
  fused.build(inputShape);
  stock.build(inputShape);
  stock.setWeights(fused.getWeights());
  expect(fused.getWeights()[0]?.shape).toEqual([channels]);
  return { fused, stock };
}

beforeAll(async () => {
  await selectBackend("cpu");
  await selectBackend("wasm");
});

describe.each(BACKENDS)("BatchNormalization training on %s", (backend) => {
  test.each([
    ["NHWC", [6, 5, 5, 8]],
    ["dense", [16, 12]],
  ])("matches stock layer for %s", (_, shape) => {
    tf.setBackend(backend);
    tf.tidy(() => {
      const channels = shape[shape.length - 1] as number;
      const { fused, stock } = buildPair(channels, shape);
      // A large mean tests the one-pass variance.
      const x = randomTensor(shape, 1, 20);
      const weights = randomTensor(shape, 2);

      const fusedStep = trainingStep(fused, x, weights);
      const stockStep = trainingStep(stock, x, weights);

      expectClose(fusedStep.y, stockStep.y);
      fusedStep.grads.forEach((grad, index) => {
        expectClose(grad, stockStep.grads[index] as tf.Tensor);
      });
      const fusedWeights = fused.getWeights();
      stock.getWeights().forEach((weight, index) => {
        expectClose(fusedWeights[index] as tf.Tensor, weight);
      });
    });
  });

  // On wasm, 8 channels take the SIMD kernels and 5 the JS loops.
  test.each([5, 8])("kernel gradient includes statistics paths, %i channels", (channels) => {
    tf.setBackend(backend);
    tf.tidy(() => {
      const shape = [4, 3, 3, channels];
      const x = randomTensor(shape, 5, 2);
      const scale = randomTensor([channels], 6, 1);
      const offset = randomTensor([channels], 7);
      const wy = randomTensor(shape, 8);
      const [wm, wv] = [randomTensor([channels], 9), randomTensor([channels], 10)];
      const epsilon = 1e-3;

      const fusedLoss = (input: tf.Tensor) => {
        const [y, mean, variance] = tf
          .engine()
          .runKernel(
            BATCH_NORM_TRAINING,
            { x: input, scale, offset },
            { varianceEpsilon: epsilon },
          ) as tf.Tensor[];
        return tf.addN([
          tf.sum(tf.mul(y as tf.Tensor, wy as tf.Tensor)),
          tf.sum(tf.mul(mean as tf.Tensor, wm as tf.Tensor)),
          tf.sum(tf.mul(variance as tf.Tensor, wv as tf.Tensor)),
        ]);
      };
      const referenceLoss = (input: tf.Tensor) => {
        const { mean, variance } = tf.moments(input, [0, 1, 2]);
        const y = tf.batchNorm(input, mean, variance, offset, scale, epsilon);
        return tf.addN([
          tf.sum(tf.mul(y, wy as tf.Tensor)),
          tf.sum(tf.mul(mean, wm as tf.Tensor)),
          tf.sum(tf.mul(variance, wv as tf.Tensor)),
        ]);
      };

      expectClose(fusedLoss(x), referenceLoss(x));
      expectClose(tf.grad(fusedLoss)(x), tf.grad(referenceLoss)(x));
    });
  });
});

describe("BatchNormalization serialisation", () => {
  test("saves and loads as stock class", async () => {
    tf.setBackend("cpu");
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3 }), new BatchNormalization({})],
    });
    const topology = model.toJSON(undefined, false) as {
      config: { layers: { class_name: string }[] };
    };
    expect(topology.config.layers.map((layer) => layer.class_name)).toEqual([
      "Dense",
      "BatchNormalization",
    ]);

    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void model.save(
        tf.io.withSaveHandler(async (saved) => {
          resolve(saved);
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
        }),
      );
    });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(loaded.layers[1]).toBeInstanceOf(BatchNormalization);
  });
});
