/**
 * Measures training and inference throughput (samples per second) of each architecture on each
 * backend that loads here, then of two processes training at once, which shows how throughput
 * scales per core. Run with `npm run bench:train -- [--json] [--models a,b] [--backends a,b]
 * [--processes N]`.
 */
import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { ARCHITECTURES, type Architecture } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { pino } from "pino";
import { BACKEND_NAMES, type BackendName, selectBackend } from "../src/backend";
import { loadMnist } from "../src/data";
import { buildModel, IMAGE_SHAPE, NUM_CLASSES } from "../src/models";

const WORKLOADS = ["train", "inference"] as const;
type Workload = (typeof WORKLOADS)[number];
type DataSource = "mnist" | "random";

interface Measurement {
  workload: Workload;
  model: Architecture;
  backend: BackendName;
  processes: number;
  samplesPerSec: number;
  data: DataSource;
}

const TRAIN_BATCH_SIZE = 128;
const INFERENCE_BATCH_SIZE = 512;

/**
 * Samples per batch. The pure-JS cpu backend trains the deeper models at a few samples per second,
 * so it gets small batches there to keep the run to minutes.
 */
function batchSizeFor(workload: Workload, model: Architecture, backend: BackendName): number {
  if (backend === "cpu" && model !== "seed-cnn") return 16;
  return workload === "train" ? TRAIN_BATCH_SIZE : INFERENCE_BATCH_SIZE;
}

/**
 * Batches timed per measurement, after one untimed warm-up batch. The cpu backend gets only a few
 * because it trains the seed CNN at about 25 samples per second.
 */
function timedBatches(workload: Workload, model: Architecture, backend: BackendName): number {
  if (backend === "cpu") return workload === "train" && model !== "seed-cnn" ? 1 : 2;
  const deep = model !== "seed-cnn";
  if (workload === "train") return deep ? 6 : 40;
  return deep ? 6 : 20;
}

// Logs go to stderr so that --json output on stdout stays one measurement per line.
const logger = pino({ level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));

interface Dataset {
  images: tf.Tensor4D;
  labels: tf.Tensor2D;
  source: DataSource;
}

/** Loads real MNIST when MNIST_DIR is set, else random images of the same shape. */
async function loadData(count: number): Promise<Dataset> {
  if (process.env.MNIST_DIR) {
    const mnist = await loadMnist({ dataset: "mnist", trainLimit: count, download: false });
    const train = mnist.train;
    return {
      images: tf.tensor4d(train.images, [train.count, ...IMAGE_SHAPE]),
      labels: tf.oneHot(tf.tensor1d(train.labels, "int32"), NUM_CLASSES) as tf.Tensor2D,
      source: "mnist",
    };
  }
  return {
    images: tf.randomUniform([count, ...IMAGE_SHAPE], 0, 1, "float32", 1) as tf.Tensor4D,
    labels: tf.oneHot(
      tf.randomUniform([count], 0, NUM_CLASSES, "int32", 2) as tf.Tensor1D,
      NUM_CLASSES,
    ) as tf.Tensor2D,
    source: "random",
  };
}

function buildCompiledModel(architecture: Architecture): tf.LayersModel {
  const model = buildModel({
    architecture,
    seed: 42,
    dropout: architecture === "seed-cnn" ? 0 : 0.25,
  });
  model.compile({
    optimizer: tf.train.adam(1e-3),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

/** Cuts `batches` consecutive batches out of the data set, wrapping around its end. */
function makeBatches(data: Dataset, batchSize: number, batches: number): [tf.Tensor, tf.Tensor][] {
  const count = data.images.shape[0];
  const result: [tf.Tensor, tf.Tensor][] = [];
  for (let i = 0; i < batches; i++) {
    const start = (i * batchSize) % Math.max(count - batchSize + 1, 1);
    result.push([
      data.images.slice(start, Math.min(batchSize, count)),
      data.labels.slice(start, Math.min(batchSize, count)),
    ]);
  }
  return result;
}

type Run = () => Promise<number>;

/** Prepares one measurement: warms up, then returns a function that times the batches. */
async function prepare(
  workload: Workload,
  architecture: Architecture,
  backend: BackendName,
  data: Dataset,
): Promise<{ run: Run; dispose: () => void }> {
  const model = buildCompiledModel(architecture);
  const batchSize = batchSizeFor(workload, architecture, backend);
  const batches = makeBatches(data, batchSize, timedBatches(workload, architecture, backend) + 1);
  const [warmUp, ...timed] = batches;
  if (!warmUp) throw new Error("unreachable: at least one batch is made");

  const step = async ([images, labels]: [tf.Tensor, tf.Tensor]) => {
    if (workload === "train") {
      await model.trainOnBatch(images, labels);
      return;
    }
    const predictions = model.predict(images, { batchSize }) as tf.Tensor;
    await predictions.data();
    predictions.dispose();
  };

  await step(warmUp);
  const run: Run = async () => {
    const started = performance.now();
    let samples = 0;
    for (const batch of timed) {
      await step(batch);
      samples += batch[0].shape[0] ?? 0;
    }
    return samples / ((performance.now() - started) / 1000);
  };
  const dispose = () => {
    for (const [images, labels] of batches) tf.dispose([images, labels]);
    model.dispose();
  };
  return { run, dispose };
}

async function measure(
  workload: Workload,
  architecture: Architecture,
  backend: BackendName,
  data: Dataset,
): Promise<number> {
  const { run, dispose } = await prepare(workload, architecture, backend, data);
  try {
    return await run();
  } finally {
    dispose();
  }
}

/** Backends that load here, best first, in the order selectBackend tries them. */
async function loadableBackends(requested: BackendName[]): Promise<BackendName[]> {
  const loadable: BackendName[] = [];
  for (const name of requested) {
    try {
      await selectBackend(name, { logger, env: {} });
      loadable.push(name);
    } catch (error) {
      logger.warn({ backend: name, error: String(error) }, `Skipping the ${name} backend.`);
    }
  }
  return loadable;
}

type ChildMessage = { type: "ready" } | { type: "result"; samplesPerSec: number; data: DataSource };

/** Child process entry: prepares one measurement, waits for the parent's go, runs it, reports. */
async function runChild(workload: Workload, architecture: Architecture, backend: BackendName) {
  const send = (message: ChildMessage) => process.send?.(message);
  await selectBackend(backend, { logger, env: {} });
  const data = await loadData(dataSize(workload, architecture, backend));
  const { run } = await prepare(workload, architecture, backend, data);
  const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
  send({ type: "ready" });
  await go;
  send({ type: "result", samplesPerSec: await run(), data: data.source });
  process.disconnect();
}

/** Trains in `processes` child processes started together, and returns their summed throughput. */
async function measureProcesses(
  workload: Workload,
  architecture: Architecture,
  backend: BackendName,
  processes: number,
): Promise<{ samplesPerSec: number; data: DataSource }> {
  const args = ["--child", "--workload", workload, "--models", architecture, "--backends", backend];
  const children = Array.from({ length: processes }, () =>
    fork(process.argv[1] ?? "", args, { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  const results = children.map(
    (child) =>
      new Promise<{ samplesPerSec: number; data: DataSource }>((resolve, reject) => {
        child.on("message", (message: ChildMessage) => {
          if (message.type === "result") resolve(message);
        });
        child.on("exit", (code) =>
          reject(new Error(`Benchmark child process ${child.pid} exited with code ${code}.`)),
        );
      }),
  );
  const ready = children.map(
    (child) =>
      new Promise<void>((resolve) =>
        child.on("message", (message: ChildMessage) => {
          if (message.type === "ready") resolve();
        }),
      ),
  );
  await Promise.race([Promise.all(ready), Promise.all(results)]);
  for (const child of children) child.send({ type: "go" });
  const measured = await Promise.all(results);
  return {
    samplesPerSec: measured.reduce((total, result) => total + result.samplesPerSec, 0),
    data: measured[0]?.data ?? "random",
  };
}

function dataSize(workload: Workload, architecture: Architecture, backend: BackendName): number {
  const batchSize = batchSizeFor(workload, architecture, backend);
  return Math.min(batchSize * (timedBatches(workload, architecture, backend) + 1), 60_000);
}

function printTable(measurements: Measurement[], single: Map<string, number>): void {
  const rows = measurements.map((m) => {
    const base = single.get(`${m.workload}/${m.model}/${m.backend}`);
    const scaling = m.processes > 1 && base ? `${(m.samplesPerSec / base).toFixed(2)}x` : "";
    return [
      m.workload,
      m.model,
      m.backend,
      String(m.processes),
      Math.round(m.samplesPerSec).toLocaleString("en-US"),
      scaling,
    ];
  });
  const header = ["workload", "model", "backend", "processes", "samples/s", "vs 1 process"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const format = (row: string[]) =>
    row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ");
  console.log(format(header));
  for (const row of rows) console.log(format(row));
}

function parseList<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  option: string,
): T[] {
  if (value === undefined) return [...allowed];
  const items = value.split(",").map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new Error(
        `--${option} ${item} is invalid; use a comma-separated list of ${allowed.join(", ")}.`,
      );
    }
  }
  return items as T[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      models: { type: "string" },
      backends: { type: "string" },
      processes: { type: "string", default: "2" },
      workload: { type: "string" },
      child: { type: "boolean", default: false },
    },
  });
  const models = parseList(values.models, ARCHITECTURES, "models");
  const requested = parseList(values.backends, BACKEND_NAMES, "backends");
  const workloads = parseList(values.workload, WORKLOADS, "workload");
  const processes = Number(values.processes);
  if (!Number.isInteger(processes) || processes < 0) {
    throw new Error(
      `--processes ${values.processes} is invalid; use 0 to skip the scaling run, or 2 or more.`,
    );
  }

  if (values.child) {
    const [workload, model, backend] = [workloads[0], models[0], requested[0]];
    if (!workload || !model || !backend)
      throw new Error("A child needs --workload, --models and --backends.");
    await runChild(workload, model, backend);
    return;
  }

  const backends = await loadableBackends(requested);
  const measurements: Measurement[] = [];
  const single = new Map<string, number>();
  let source: DataSource = "random";
  const report = (measurement: Measurement) => {
    measurements.push(measurement);
    if (values.json) console.log(JSON.stringify(measurement));
    else logger.info(measurement, "Measured.");
  };

  for (const backend of backends) {
    await selectBackend(backend, { logger, env: {} });
    for (const model of models) {
      for (const workload of workloads) {
        const data = await loadData(dataSize(workload, model, backend));
        source = data.source;
        const samplesPerSec = await measure(workload, model, backend, data);
        tf.dispose([data.images, data.labels]);
        single.set(`${workload}/${model}/${backend}`, samplesPerSec);
        report({ workload, model, backend, processes: 1, samplesPerSec, data: source });
      }
    }
  }

  // Scaling is measured on the fastest backend other than cpu, for the seed CNN's training.
  const scalingBackend = backends.find((name) => name !== "cpu");
  if (
    processes >= 2 &&
    scalingBackend &&
    models.includes("seed-cnn") &&
    workloads.includes("train")
  ) {
    const result = await measureProcesses("train", "seed-cnn", scalingBackend, processes);
    report({
      workload: "train",
      model: "seed-cnn",
      backend: scalingBackend,
      processes,
      samplesPerSec: result.samplesPerSec,
      data: result.data,
    });
  }

  if (!values.json) {
    console.log(
      `Data: ${source === "mnist" ? `real MNIST from MNIST_DIR=${process.env.MNIST_DIR}` : "random tensors of MNIST shape (set MNIST_DIR for real MNIST)"}; ` +
        `train batch ${TRAIN_BATCH_SIZE}, inference batch ${INFERENCE_BATCH_SIZE} (16 for vgg-bn and resnet-small on cpu), ${availableParallelism()} cores.`,
    );
    printTable(measurements, single);
  }
}

await main();
