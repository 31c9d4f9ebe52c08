import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunConfig } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import type { Logger } from "pino";
import { filesLoadHandler, MODEL_JSON, WEIGHTS_BIN } from "../checkpoint/model-files";
import { InvalidRunConfigError } from "./config";

/** Resolves a run configuration's baseModel reference to model.json and weights.bin bytes. */
export type BaseModelLoader = (reference: string) => Promise<Record<string, Uint8Array>>;

/**
 * Reads a model saved in the tfjs layers format from a local folder: model.json and the weight
 * shards its manifest lists, joined into one weights.bin in manifest order.
 */
export async function readModelFolder(dir: string): Promise<Record<string, Uint8Array>> {
  const modelJsonPath = join(dir, MODEL_JSON);
  if (!existsSync(modelJsonPath)) {
    throw baseModelError(
      `"${dir}" has no ${MODEL_JSON}; point it at a folder written by --save-model or tf.LayersModel.save`,
    );
  }
  const modelJsonBytes = new Uint8Array(await readFile(modelJsonPath));
  let manifest: tf.io.WeightsManifestConfig;
  try {
    manifest = (JSON.parse(new TextDecoder().decode(modelJsonBytes)) as tf.io.ModelJSON)
      .weightsManifest;
  } catch (error) {
    throw baseModelError(`${modelJsonPath} is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(manifest)) {
    throw baseModelError(
      `${modelJsonPath} has no weightsManifest, so it is not a tfjs layers model; save the model with tf.LayersModel.save`,
    );
  }

  const shards: Uint8Array[] = [];
  for (const group of manifest) {
    for (const path of group.paths) {
      const shardPath = join(dir, path);
      if (!existsSync(shardPath)) {
        throw baseModelError(
          `${shardPath} is missing, but ${modelJsonPath} lists it; copy the whole saved model folder`,
        );
      }
      shards.push(await readFile(shardPath));
    }
  }
  const weights = Buffer.concat(shards);
  return { [MODEL_JSON]: modelJsonBytes, [WEIGHTS_BIN]: weights };
}

/**
 * Marks the first config.freezeLayers layers as not trainable. Call before compiling, because
 * compile collects the trainable weights. Frozen batch normalisation then normalises with its
 * moving statistics, as Keras does.
 */
export function freezeLayers(model: tf.LayersModel, config: RunConfig): void {
  const count = config.freezeLayers ?? 0;
  if (count >= model.layers.length) {
    throw new InvalidRunConfigError([
      {
        field: "freezeLayers",
        message: `freezeLayers ${count} would freeze all ${model.layers.length} layers of ${config.architecture}, leaving nothing to train; use at most ${model.layers.length - 1}`,
      },
    ]);
  }
  model.layers.forEach((layer, index) => {
    layer.trainable = index >= count;
  });
}

/**
 * Copies the base model's weights into `model`, layer by layer where the names and weight shapes
 * match. Every frozen layer with weights must match, since it would otherwise stay random.
 */
export async function applyBaseModel(
  model: tf.LayersModel,
  config: RunConfig,
  loader: BaseModelLoader,
  logger: Logger,
): Promise<void> {
  const reference = config.baseModel;
  if (reference === undefined) return;
  const base = await tf.loadLayersModel(filesLoadHandler(await loader(reference)));
  try {
    const frozen = config.freezeLayers ?? 0;
    const copied: string[] = [];
    const skipped: string[] = [];
    model.layers.forEach((layer, index) => {
      const weights = layer.getWeights();
      if (weights.length === 0) return;
      const source = base.layers.find((candidate) => candidate.name === layer.name);
      const sourceWeights = source?.getWeights() ?? [];
      const matches =
        sourceWeights.length === weights.length &&
        sourceWeights.every((weight, i) =>
          tf.util.arraysEqual(weight.shape, weights[i]?.shape ?? []),
        );
      if (matches) {
        layer.setWeights(sourceWeights);
        copied.push(layer.name);
      } else if (index < frozen) {
        throw new InvalidRunConfigError([
          {
            field: "freezeLayers",
            message: `frozen layer ${layer.name} of ${config.architecture} has no layer with the same name and weight shapes in baseModel "${reference}"; freeze fewer layers or use a base model of the same architecture`,
          },
        ]);
      } else {
        skipped.push(layer.name);
      }
    });
    if (copied.length === 0) {
      throw baseModelError(
        `"${reference}" shares no layer (by name and weight shapes) with ${config.architecture}; use a model trained with this architecture`,
      );
    }
    logger.info(
      { baseModel: reference, copied, keptInitial: skipped, frozenLayers: frozen },
      "Started from the base model's weights.",
    );
  } finally {
    base.dispose();
  }
}

/** Builds the error for a base model that cannot serve the run, which a retry cannot fix. */
export function baseModelError(message: string): InvalidRunConfigError {
  return new InvalidRunConfigError([{ field: "baseModel", message }]);
}
