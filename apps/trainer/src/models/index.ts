import type { Architecture, RunConfig } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { BatchNormalization } from "./batch-normalization";
import { Dropout } from "./dropout";

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** MNIST and Fashion-MNIST images: 28x28 pixels, one grey channel. */
export const IMAGE_SIZE = 28;
export const IMAGE_SHAPE: [number, number, number] = [IMAGE_SIZE, IMAGE_SIZE, 1];
export const NUM_CLASSES = 10;

export type ModelConfig = Pick<RunConfig, "architecture" | "seed" | "dropout">;

/**
 * Hands out one initializer seed per weight tensor. Each layer gets its own seed derived from the
 * run seed, so two same-shaped layers do not start with identical weights and the whole model is
 * reproducible from `config.seed` alone.
 */
class SeedSequence {
  private next: number;

  constructor(seed: number) {
    this.next = seed;
  }

  take(): number {
    this.next = (this.next + 0x9e3779b1) % 2 ** 31;
    return this.next;
  }

  glorot(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.take() });
  }

  he(): Initializer {
    return tf.initializers.heNormal({ seed: this.take() });
  }
}

/** Builds a fresh, uncompiled model for the architecture named in the config. */
export function buildModel(config: ModelConfig): tf.LayersModel {
  const seeds = new SeedSequence(config.seed);
  switch (config.architecture) {
    case "seed-cnn":
      return buildSeedCnn(seeds);
    case "vgg-bn":
      return buildVggBn(seeds, config.dropout);
    case "resnet-small":
      return buildResnetSmall(seeds, config.dropout);
    default:
      return assertNever(config.architecture);
  }
}

function assertNever(architecture: never): never {
  throw new Error(
    `Unknown architecture "${String(architecture)}": use one of seed-cnn, vgg-bn, resnet-small.`,
  );
}

/** Builds the Keras MNIST tutorial network, layer for layer. */
function buildSeedCnn(seeds: SeedSequence): tf.Sequential {
  const model = tf.sequential({ name: "seed_cnn" });
  model.add(
    tf.layers.conv2d({
      name: "conv1",
      inputShape: IMAGE_SHAPE,
      filters: 32,
      kernelSize: 3,
      activation: "relu",
      kernelInitializer: seeds.glorot(),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: "pool1", poolSize: 2 }));
  model.add(tf.layers.flatten({ name: "flatten" }));
  model.add(
    tf.layers.dense({
      name: "dense1",
      units: 128,
      activation: "relu",
      kernelInitializer: seeds.glorot(),
    }),
  );
  model.add(
    tf.layers.dense({
      name: "logits",
      units: NUM_CLASSES,
      activation: "softmax",
      kernelInitializer: seeds.glorot(),
    }),
  );
  return model;
}

/**
 * Builds two VGG blocks (two 3x3 convolutions each, 32 then 64 filters) with batch normalisation before
 * each ReLU, max pooling and dropout after each block, then a 128-unit dense head.
 */
function buildVggBn(seeds: SeedSequence, dropout: number): tf.Sequential {
  const model = tf.sequential({ name: "vgg_bn" });
  const blocks = [32, 64];
  blocks.forEach((filters, blockIndex) => {
    for (let convIndex = 1; convIndex <= 2; convIndex++) {
      const name = `block${blockIndex + 1}_conv${convIndex}`;
      model.add(
        tf.layers.conv2d({
          name,
          ...(blockIndex === 0 && convIndex === 1 ? { inputShape: IMAGE_SHAPE } : {}),
          filters,
          kernelSize: 3,
          padding: "same",
          useBias: false,
          kernelInitializer: seeds.he(),
        }),
      );
      model.add(new BatchNormalization({ name: `${name}_bn` }));
      model.add(tf.layers.activation({ name: `${name}_relu`, activation: "relu" }));
    }
    model.add(tf.layers.maxPooling2d({ name: `block${blockIndex + 1}_pool`, poolSize: 2 }));
    model.add(
      new Dropout({
        name: `block${blockIndex + 1}_dropout`,
        rate: dropout,
        seed: seeds.take(),
      }),
    );
  });
  model.add(tf.layers.flatten({ name: "flatten" }));
  model.add(
    tf.layers.dense({ name: "dense1", units: 128, useBias: false, kernelInitializer: seeds.he() }),
  );
  model.add(new BatchNormalization({ name: "dense1_bn" }));
  model.add(tf.layers.activation({ name: "dense1_relu", activation: "relu" }));
  model.add(new Dropout({ name: "dense1_dropout", rate: dropout, seed: seeds.take() }));
  model.add(
    tf.layers.dense({
      name: "logits",
      units: NUM_CLASSES,
      activation: "softmax",
      kernelInitializer: seeds.glorot(),
    }),
  );
  return model;
}

/**
 * Builds a small ResNet: a 16-filter stem, then three residual stages of 16, 32 and 64 filters (the last
 * two halve the resolution and use a 1x1 projection shortcut), global average pooling and a
 * softmax head.
 */
function buildResnetSmall(seeds: SeedSequence, dropout: number): tf.LayersModel {
  const input = tf.input({ name: "image", shape: IMAGE_SHAPE });
  let x = convBnRelu(seeds, input, "stem", 16, 1);
  x = residualBlock(seeds, x, "stage1", 16, 1);
  x = residualBlock(seeds, x, "stage2", 32, 2);
  x = residualBlock(seeds, x, "stage3", 64, 2);
  x = tf.layers.globalAveragePooling2d({ name: "pool" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dropout({ name: "dropout", rate: dropout, seed: seeds.take() })
    .apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({
      name: "logits",
      units: NUM_CLASSES,
      activation: "softmax",
      kernelInitializer: seeds.glorot(),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ name: "resnet_small", inputs: input, outputs: output });
}

function convBn(
  seeds: SeedSequence,
  input: tf.SymbolicTensor,
  name: string,
  filters: number,
  strides: number,
  kernelSize = 3,
): tf.SymbolicTensor {
  const conv = tf.layers
    .conv2d({
      name: `${name}_conv`,
      filters,
      kernelSize,
      strides,
      padding: "same",
      useBias: false,
      kernelInitializer: seeds.he(),
    })
    .apply(input) as tf.SymbolicTensor;
  return new BatchNormalization({ name: `${name}_bn` }).apply(conv) as tf.SymbolicTensor;
}

function convBnRelu(
  seeds: SeedSequence,
  input: tf.SymbolicTensor,
  name: string,
  filters: number,
  strides: number,
): tf.SymbolicTensor {
  const normalized = convBn(seeds, input, name, filters, strides);
  return tf.layers
    .activation({ name: `${name}_relu`, activation: "relu" })
    .apply(normalized) as tf.SymbolicTensor;
}

function residualBlock(
  seeds: SeedSequence,
  input: tf.SymbolicTensor,
  name: string,
  filters: number,
  strides: number,
): tf.SymbolicTensor {
  const inputChannels = input.shape[3];
  const branch = convBnRelu(seeds, input, `${name}_a`, filters, strides);
  const residual = convBn(seeds, branch, `${name}_b`, filters, 1);
  const shortcut =
    strides === 1 && inputChannels === filters
      ? input
      : convBn(seeds, input, `${name}_projection`, filters, strides, 1);
  const sum = tf.layers
    .add({ name: `${name}_add` })
    .apply([residual, shortcut]) as tf.SymbolicTensor;
  return tf.layers
    .activation({ name: `${name}_relu`, activation: "relu" })
    .apply(sum) as tf.SymbolicTensor;
}

/** Describes an architecture in one line, for help text. */
export function describeArchitecture(architecture: Architecture): string {
  switch (architecture) {
    case "seed-cnn":
      return "Conv2D 32 3x3, max pool, dense 128, softmax (the Keras MNIST tutorial)";
    case "vgg-bn":
      return "two VGG blocks (32, 64 filters) with batch normalisation and dropout";
    case "resnet-small":
      return "three residual stages (16, 32, 64 filters), global average pooling";
    default:
      return assertNever(architecture);
  }
}
