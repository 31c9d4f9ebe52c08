/**
 * Times every wasm kernel that one architecture's training step runs, in the process's own CPU
 * time, so that figures hold up on a machine shared with other jobs. Run with
 * `npx tsx apps/trainer/bench/profile.ts [--model vgg-bn] [--steps 4] [--batch 128] [--shapes] [--inference]`;
 * --shapes lists each kernel once per set of input shapes, and --inference times prediction instead.
 * Each kernel's self time excludes the kernels it calls, so the self times add up to the kernel total.
 */
import { parseArgs } from "node:util";
import { ARCHITECTURES, type Architecture } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { pino } from "pino";
import { selectBackend } from "../src/backend";
import { buildModel, IMAGE_SHAPE, NUM_CLASSES } from "../src/models";
import { createOptimizer } from "../src/train/config";

interface KernelTotals {
  calls: number;
  /** CPU time inside the kernel, less the time of kernels it called. */
  cpuMs: number;
}

const totals = new Map<string, KernelTotals>();
/** CPU time of the kernels called by each kernel now running, innermost last. */
const childMs: number[] = [];

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Whether kernels are listed per input shape, set by --shapes. */
let byShape = false;

function describeInputs(inputs: tf.NamedTensorInfoMap): string {
  return Object.entries(inputs)
    .map(([name, info]) => `${name}=${info?.shape.join("x") ?? "none"}`)
    .join(" ");
}

/** Replaces each registered wasm kernel with one that adds its CPU time to `totals`. */
function wrapWasmKernels(): void {
  for (const config of tf.getKernelsForBackend("wasm")) {
    const inner = config.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      const started = cpuMs();
      childMs.push(0);
      let output: ReturnType<tf.KernelFunc>;
      try {
        output = inner(args);
      } finally {
        const elapsed = cpuMs() - started;
        const inChildren = childMs.pop() ?? 0;
        const parent = childMs.length - 1;
        if (parent >= 0) childMs[parent] = (childMs[parent] ?? 0) + elapsed;
        const key = byShape
          ? `${config.kernelName} ${describeInputs(args.inputs)}`
          : config.kernelName;
        const entry = totals.get(key) ?? { calls: 0, cpuMs: 0 };
        entry.calls += 1;
        entry.cpuMs += elapsed - inChildren;
        totals.set(key, entry);
      }
      return output;
    };
    tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel({ ...config, kernelFunc });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string", default: "vgg-bn" },
      steps: { type: "string", default: "4" },
      batch: { type: "string", default: "128" },
      shapes: { type: "boolean", default: false },
      inference: { type: "boolean", default: false },
    },
  });
  const architecture = values.model as Architecture;
  if (!ARCHITECTURES.includes(architecture)) {
    throw new Error(`--model ${values.model} is invalid; use one of ${ARCHITECTURES.join(", ")}.`);
  }
  const steps = Number(values.steps);
  const batch = Number(values.batch);
  byShape = values.shapes;

  await selectBackend("wasm", { logger: pino({ level: "warn" }), env: {} });
  wrapWasmKernels();

  const model = buildModel({ architecture, seed: 42, dropout: 0.25 });
  model.compile({ optimizer: createOptimizer("adam", 1e-3), loss: "categoricalCrossentropy" });
  const images = tf.randomUniform([batch, ...IMAGE_SHAPE], 0, 1, "float32", 1);
  const labels = tf.oneHot(
    tf.randomUniform([batch], 0, NUM_CLASSES, "int32", 2) as tf.Tensor1D,
    NUM_CLASSES,
  );

  const step = async () => {
    if (!values.inference) {
      await model.trainOnBatch(images, labels);
      return;
    }
    const predictions = model.predict(images, { batchSize: batch }) as tf.Tensor;
    await predictions.data();
    predictions.dispose();
  };

  await step();
  totals.clear();
  const started = cpuMs();
  const wallStarted = performance.now();
  for (let index = 0; index < steps; index++) await step();
  const stepCpuMs = (cpuMs() - started) / steps;
  const stepWallMs = (performance.now() - wallStarted) / steps;

  const rows = [...totals.entries()].sort((p, q) => q[1].cpuMs - p[1].cpuMs);
  const kernelMs = rows.reduce((sum, [, entry]) => sum + entry.cpuMs, 0) / steps;
  console.log(
    `${architecture} ${values.inference ? "inference" : "training"}, batch ${batch}: ${stepCpuMs.toFixed(1)} ms CPU per step ` +
      `(${((batch * 1000) / stepCpuMs).toFixed(0)} samples/s by CPU time), ` +
      `${stepWallMs.toFixed(1)} ms wall, ${kernelMs.toFixed(1)} ms in kernels`,
  );
  for (const [name, entry] of rows) {
    const perStep = entry.cpuMs / steps;
    if (perStep < 0.05) continue;
    console.log(
      `${name.padEnd(byShape ? 70 : 28)} ${(entry.calls / steps).toFixed(0).padStart(4)} calls ` +
        `${perStep.toFixed(2).padStart(8)} ms ${((100 * perStep) / stepCpuMs).toFixed(1).padStart(5)}%`,
    );
  }
}

await main();
