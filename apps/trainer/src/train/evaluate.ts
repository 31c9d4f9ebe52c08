import * as tf from "@tensorflow/tfjs";
import type { LabeledImages } from "../data";
import { NUM_CLASSES } from "../models";
import { rangeBatch } from "./batches";
import type { Misclassification } from "./types";

const EVALUATION_BATCH_SIZE = 1000;

/** Same clipping as Keras's categorical cross-entropy, so log(0) never occurs. */
const EPSILON = 1e-7;

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** Predicted class per image. */
  predictions: Int32Array;
}

/** Computes mean cross-entropy, accuracy and predictions over a data set, in inference mode. */
export async function evaluate(model: tf.LayersModel, data: LabeledImages): Promise<Evaluation> {
  const predictions = new Int32Array(data.count);
  let lossSum = 0;
  let correct = 0;

  for (let start = 0; start < data.count; start += EVALUATION_BATCH_SIZE) {
    const end = Math.min(start + EVALUATION_BATCH_SIZE, data.count);
    const labels = data.labels.subarray(start, end);
    const [lossTensor, predictedTensor] = tf.tidy(() => {
      const probabilities = model.predict(rangeBatch(data, start, end)) as tf.Tensor2D;
      const labelTensor = tf.tensor1d(labels, "int32");
      const picked = tf.sum(tf.mul(probabilities, tf.oneHot(labelTensor, NUM_CLASSES)), 1);
      const loss = tf.sum(tf.neg(tf.log(tf.clipByValue(picked, EPSILON, 1 - EPSILON))));
      return [loss, tf.argMax(probabilities, 1)];
    });
    lossSum += (await lossTensor.data())[0] ?? 0;
    const predicted = (await predictedTensor.data()) as Int32Array;
    tf.dispose([lossTensor, predictedTensor]);

    predictions.set(predicted, start);
    for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  }

  return { loss: lossSum / data.count, accuracy: correct / data.count, predictions };
}

/** Counts confusionMatrix[label][predicted] over a data set. */
export function confusionMatrix(labels: Uint8Array, predictions: Int32Array): number[][] {
  const matrix = Array.from({ length: NUM_CLASSES }, () => new Array<number>(NUM_CLASSES).fill(0));
  labels.forEach((label, i) => {
    const row = matrix[label];
    const predicted = predictions[i] ?? 0;
    if (row !== undefined) row[predicted] = (row[predicted] ?? 0) + 1;
  });
  return matrix;
}

export function misclassifications(
  labels: Uint8Array,
  predictions: Int32Array,
): Misclassification[] {
  const result: Misclassification[] = [];
  labels.forEach((label, index) => {
    const predicted = predictions[index] ?? 0;
    if (predicted !== label) result.push({ index, label, predicted });
  });
  return result;
}
