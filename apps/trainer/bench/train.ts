/**
 * Measures training and inference throughput (samples per second) of each architecture on each
 * backend that loads here, then of two processes training at once, which shows how throughput
 * scales per core. Run with `npm run bench:train -- [--json] [--models a,b] [--backends a,b]
 * [--processes N] [--rounds N] [--pin]`. --pin starts each scaling child under `taskset` on a core of
 * its own (Linux), so that the scheduler cannot put two of them on one core.
 *
 * Each figure is the best of several rounds, by wall time and separately by the process's own CPU
 * time (process.cpuUsage). On a machine shared with other jobs the wall figure drops with the load,
 * while the CPU-time figure estimates what an idle core gives; the 1-minute load average is printed
 * with every figure so that readers can judge how contended it was.
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { ARCHITECTURES, type Architecture } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { pino } from "pino";
import { BACKEND_NAMES, type BackendName, selectBackend } from "../src/backend";
import { loadMnist } from "../src/data";
import { buildModel, IMAGE_SHAPE, NUM_CLASSES } from "../src/models";
import { createOptimizer } from "../src/train/config";

const WORKLOADS = ["train", "inference"] as const;
type Workload = (typeof WORKLOADS)[number];
type DataSource = "mnist" | "random";

interface Measurement {
  workload: Workload;
  model: Architecture;
  backend: BackendName;
  processes: number;
  /** Best wall-clock rate; with several processes, all their samples over the span they ran together. */
  samplesPerSec: number;
  /** Best rate by the process's own CPU time; with several processes, the sum of theirs. */
  cpuSamplesPerSec: number;
  /** 1-minute load average when the measurement ended. */
  loadAverage: number;
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
  // The optimizer the trainer uses, so that the figures include its fused Adam kernel.
  model.compile({
    optimizer: createOptimizer("adam", 1e-3),
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

interface Round {
  samples: number;
  /** Epoch milliseconds, comparable across processes. */
  startedAt: number;
  endedAt: number;
  cpuSeconds: number;
}

type Run = () => Promise<Round>;

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

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
    const startedAt = performance.timeOrigin + performance.now();
    const cpuStarted = cpuSeconds();
    let samples = 0;
    for (const batch of timed) {
      await step(batch);
      samples += batch[0].shape[0] ?? 0;
    }
    return {
      samples,
      startedAt,
      endedAt: performance.timeOrigin + performance.now(),
      cpuSeconds: cpuSeconds() - cpuStarted,
    };
  };
  const dispose = () => {
    for (const [images, labels] of batches) tf.dispose([images, labels]);
    model.dispose();
  };
  return { run, dispose };
}

/** Runs `rounds` rounds and returns the best rate by wall time and the best by CPU time. */
async function measure(
  workload: Workload,
  architecture: Architecture,
  backend: BackendName,
  data: Dataset,
  rounds: number,
): Promise<{ samplesPerSec: number; cpuSamplesPerSec: number }> {
  const { run, dispose } = await prepare(workload, architecture, backend, data);
  try {
    let samplesPerSec = 0;
    let cpuSamplesPerSec = 0;
    for (let round = 0; round < rounds; round++) {
      const result = await run();
      samplesPerSec = Math.max(samplesPerSec, rateByWall(result));
      cpuSamplesPerSec = Math.max(cpuSamplesPerSec, result.samples / result.cpuSeconds);
    }
    return { samplesPerSec, cpuSamplesPerSec };
  } finally {
    dispose();
  }
}

function rateByWall(round: Round): number {
  return round.samples / ((round.endedAt - round.startedAt) / 1000);
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

interface ChildResult extends Round {
  data: DataSource;
  /** CPU core the child last ran on, from /proc/self/stat; -1 where that file is missing. */
  core: number;
}

type ChildMessage = { type: "ready" } | ({ type: "result" } & ChildResult);

/** Reads the processor field (the 39th) of /proc/self/stat. */
function lastCore(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[36] ?? -1);
  } catch {
    return -1;
  }
}

/** Child process entry: prepares one measurement, waits for the parent's go, runs it, reports. */
async function runChild(workload: Workload, architecture: Architecture, backend: BackendName) {
  const send = (message: ChildMessage) => process.send?.(message);
  await selectBackend(backend, { logger, env: {} });
  const data = await loadData(dataSize(workload, architecture, backend));
  const { run } = await prepare(workload, architecture, backend, data);
  const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
  send({ type: "ready" });
  await go;
  const round = await run();
  send({ type: "result", ...round, data: data.source, core: lastCore() });
  process.disconnect();
}

/**
 * Trains in `processes` child processes released together. The combined rate is all their samples
 * over the span from the first start to the last end, so a child that ran alone for part of the
 * span cannot inflate it the way a sum of per-child rates would. Throws when the children
 * overlapped for less than half the span, because then they did not run concurrently.
 */
async function measureProcesses(
  workload: Workload,
  architecture: Architecture,
  backend: BackendName,
  processes: number,
  pin: boolean,
): Promise<{ samplesPerSec: number; cpuSamplesPerSec: number; data: DataSource }> {
  const args = ["--child", "--workload", workload, "--models", architecture, "--backends", backend];
  const cores = availableParallelism();
  const children = Array.from({ length: processes }, (_, index) =>
    fork(process.argv[1] ?? "", args, {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      // taskset execs node in place, so the child keeps the IPC channel that fork opened.
      ...(pin
        ? {
            execPath: "taskset",
            execArgv: ["-c", String(index % cores), process.execPath, ...process.execArgv],
          }
        : {}),
    }),
  );
  const results = children.map(
    (child) =>
      new Promise<ChildResult>((resolve, reject) => {
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

  const firstStart = Math.min(...measured.map((result) => result.startedAt));
  const lastEnd = Math.max(...measured.map((result) => result.endedAt));
  const overlap =
    Math.min(...measured.map((result) => result.endedAt)) -
    Math.max(...measured.map((result) => result.startedAt));
  const overlapShare = Math.max(overlap, 0) / (lastEnd - firstStart);
  logger.info(
    {
      children: measured.map(({ samples, startedAt, endedAt, cpuSeconds, core }) => ({
        samples,
        startMs: Math.round(startedAt - firstStart),
        endMs: Math.round(endedAt - firstStart),
        cpuSeconds: Number(cpuSeconds.toFixed(2)),
        coreShare: Number((cpuSeconds / ((endedAt - startedAt) / 1000)).toFixed(2)),
        core,
      })),
      overlapShare: Number(overlapShare.toFixed(3)),
    },
    `${processes} benchmark processes overlapped for ${(overlapShare * 100).toFixed(0)}% of their span.`,
  );
  const starved = measured.filter(
    (result) => result.cpuSeconds / ((result.endedAt - result.startedAt) / 1000) < 0.75,
  );
  if (starved.length > 0) {
    logger.warn(
      `${starved.length} of ${processes} benchmark processes got less than 75% of a core, so other jobs or each other took their cores and the combined wall rate understates scaling; compare the CPU-time rate, or rerun on a quieter machine${pin ? "" : " with --pin"}.`,
    );
  }
  if (overlapShare < 0.5) {
    throw new Error(
      `The ${processes} benchmark processes overlapped for only ${(overlapShare * 100).toFixed(0)}% of their span, so their combined rate would not measure concurrent training; rerun on a less loaded machine.`,
    );
  }

  const samples = measured.reduce((total, result) => total + result.samples, 0);
  return {
    samplesPerSec: samples / ((lastEnd - firstStart) / 1000),
    cpuSamplesPerSec: measured.reduce(
      (total, result) => total + result.samples / result.cpuSeconds,
      0,
    ),
    data: measured[0]?.data ?? "random",
  };
}

function dataSize(workload: Workload, architecture: Architecture, backend: BackendName): number {
  const batchSize = batchSizeFor(workload, architecture, backend);
  return Math.min(batchSize * (timedBatches(workload, architecture, backend) + 1), 60_000);
}

/** Whole numbers for usable rates; two significant digits below 10, where rounding would show 0. */
function formatRate(samplesPerSec: number): string {
  if (samplesPerSec >= 10) return Math.round(samplesPerSec).toLocaleString("en-US");
  return samplesPerSec.toPrecision(2);
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
      formatRate(m.samplesPerSec),
      scaling,
      formatRate(m.cpuSamplesPerSec),
      m.loadAverage.toFixed(2),
    ];
  });
  const header = [
    "workload",
    "model",
    "backend",
    "processes",
    "samples/s",
    "vs 1 process",
    "samples/CPU s",
    "load avg",
  ];
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

const USAGE = `Usage: npm run bench:train -- [options]
  --models a,b        architectures to measure (default: all: ${ARCHITECTURES.join(", ")})
  --backends a,b      backends to try (default: every one that loads)
  --workload a,b      train and/or inference (default: both)
  --processes N       processes in the scaling run (default 2; 0 skips it)
  --pin               start each scaling process on its own core (Linux taskset)
  --rounds N          timed rounds per figure; the best is reported (default 3)
  --json              one JSON object per line: {workload, model, backend, processes, samplesPerSec}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      models: { type: "string" },
      backends: { type: "string" },
      processes: { type: "string", default: "2" },
      rounds: { type: "string", default: "3" },
      pin: { type: "boolean", default: false },
      workload: { type: "string" },
      child: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const models = parseList(values.models, ARCHITECTURES, "models");
  const requested = parseList(values.backends, BACKEND_NAMES, "backends");
  const workloads = parseList(values.workload, WORKLOADS, "workload");
  const processes = Number(values.processes);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(
      `--rounds ${values.rounds} is invalid; use a whole number of rounds, 1 or more.`,
    );
  }
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
        const rates = await measure(workload, model, backend, data, rounds);
        tf.dispose([data.images, data.labels]);
        single.set(`${workload}/${model}/${backend}`, rates.samplesPerSec);
        report({
          workload,
          model,
          backend,
          processes: 1,
          ...rates,
          loadAverage: loadavg()[0] ?? 0,
          data: source,
        });
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
    const result = await measureProcesses(
      "train",
      "seed-cnn",
      scalingBackend,
      processes,
      values.pin,
    );
    report({
      workload: "train",
      model: "seed-cnn",
      backend: scalingBackend,
      processes,
      samplesPerSec: result.samplesPerSec,
      cpuSamplesPerSec: result.cpuSamplesPerSec,
      loadAverage: loadavg()[0] ?? 0,
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
