import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { selectBackend } from "../src/backend";
import { canRunAdamUpdate } from "../src/backend/wasm/adam";
import { FusedAdam } from "../src/train/adam";

// FusedAdam is checked against tfjs's own AdamOptimizer on the same variables and gradients.

const SHAPES = [[37, 5], [3, 3, 1, 32], [7]];
// The last variable's gradients are small enough for epsilon (1e-7) to matter.
const GRADIENT_SCALES = [1, 1, 1e-7];
const STEPS = 6;

beforeAll(async () => {
  await selectBackend("cpu");
  await selectBackend("wasm");
});

/** Runs STEPS optimizer steps on fresh variables and returns their values and the optimizer's weights. */
async function train(optimizer: tf.Optimizer, prefix: string) {
  const variables = SHAPES.map((shape, index) =>
    tf.variable(tf.randomNormal(shape, 0, 1, "float32", index + 1), true, `${prefix}${index}`),
  );
  for (let step = 0; step < STEPS; step++) {
    const gradients = variables.map((variable, index) => ({
      name: variable.name,
      tensor: tf.randomNormal(
        variable.shape,
        0,
        (1 + step) * (GRADIENT_SCALES[index] as number),
        "float32",
        100 * step + index + 1,
      ),
    }));
    optimizer.applyGradients(gradients);
    tf.dispose(gradients.map((gradient) => gradient.tensor));
  }
  const values = variables.map((variable) => Array.from(variable.dataSync()));
  const weights = await optimizer.getWeights();
  const state = weights.map((weight) => ({
    name: weight.name.replace(prefix, ""),
    values: Array.from(weight.tensor.dataSync()),
  }));
  tf.dispose(variables);
  optimizer.dispose();
  return { values, state };
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((values, index) => {
    const reference = expected[index] as number[];
    expect(values.length).toBe(reference.length);
    const scale = Math.max(...reference.map(Math.abs), 1e-12);
    const difference = Math.max(
      ...values.map((value, i) => Math.abs(value - (reference[i] as number))),
    );
    expect(difference / scale).toBeLessThan(1e-6);
  });
}

describe("FusedAdam", () => {
  test.each(["wasm", "cpu"] as const)("matches AdamOptimizer on %s", async (backend) => {
    tf.setBackend(backend);
    expect(canRunAdamUpdate()).toBe(backend === "wasm");
    const fused = await train(new FusedAdam(0.01, 0.9, 0.999), `fused-${backend}-`);
    const stock = await train(tf.train.adam(0.01), `stock-${backend}-`);

    expectClose(fused.values, stock.values);
    expect(fused.state.map((weight) => weight.name)).toEqual(
      stock.state.map((weight) => weight.name),
    );
    expectClose(
      fused.state.map((weight) => weight.values),
      stock.state.map((weight) => weight.values),
    );
  });

  test("keeps the stock class name", () => {
    expect(FusedAdam.className).toBe("Adam");
  });
});
