import * as tf from "@tensorflow/tfjs";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

/**
 * Saves a model into two in-memory files in the tfjs layers format (model.json plus one
 * weights.bin shard), the same pair `tf.loadLayersModel` reads from a URL in a browser. A custom
 * IOHandler keeps this independent of the backend: tfjs-node's file:// handler is not needed.
 */
export async function saveModelToFiles(model: tf.LayersModel): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  const handler: tf.io.IOHandler = {
    save: async (artifacts) => {
      const weightData =
        artifacts.weightData === undefined
          ? new ArrayBuffer(0)
          : concatWeightData(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      files[MODEL_JSON] = new TextEncoder().encode(JSON.stringify(modelJson));
      files[WEIGHTS_BIN] = new Uint8Array(weightData);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
  await model.save(handler);
  return files;
}

/** Builds an IOHandler that loads a model from the files `saveModelToFiles` produced. */
export function filesLoadHandler(files: Record<string, Uint8Array>): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJsonBytes = files[MODEL_JSON];
      const weightBytes = files[WEIGHTS_BIN];
      if (modelJsonBytes === undefined || weightBytes === undefined) {
        throw new Error(
          `A saved model needs both ${MODEL_JSON} and ${WEIGHTS_BIN}; got ${Object.keys(files).join(", ") || "no files"}.`,
        );
      }
      const modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes)) as tf.io.ModelJSON;
      const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        weightSpecs,
        weightData: copyToArrayBuffer(weightBytes),
      };
    },
  };
}

/** Joins weight data that tfjs may hand over as several buffers. */
function concatWeightData(data: tf.io.WeightData): ArrayBuffer {
  if (!Array.isArray(data)) return data;
  const total = data.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const buffer of data) {
    joined.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return joined.buffer;
}

export function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}
