import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_EPOCHS, PRESETS, type RunConfig } from "@convnet/shared";
import * as tf from "@tensorflow/tfjs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  checkRunConfig,
  DatasetFileError,
  DirectoryCheckpointStore,
  type EpochReport,
  InvalidRunConfigError,
  loadMnist,
  loadModelFromFiles,
  predictDigit,
  selectBackend,
  trainRun,
} from "../src";

const MNIST_DIR = process.env.MNIST_DIR;
if (MNIST_DIR === undefined)
  throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files to run these tests.");
const logger = pino({ level: "warn" });
const QUICK = PRESETS.quick as RunConfig;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "trainer-test-"));
  await selectBackend();
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("trainRun", () => {
  test("seed CNN reaches 90% on a 5,000-image slice", async () => {
    const config: RunConfig = {
      ...QUICK,
      trainLimit: 5000,
      testLimit: 1000,
      validationSplit: 0,
      batchSize: 32,
      epochs: 2,
      finetuneEpochs: 0,
    };
    const reports: EpochReport[] = [];
    const tensorsBefore = tf.memory().numTensors;

    const result = await trainRun(config, {
      dataDir: MNIST_DIR,
      logger,
      onEpoch: (report) => void reports.push(report),
    });

    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(reports.map((report) => [report.phase, report.epoch, report.step])).toEqual([
      ["train", 1, 1],
      ["train", 2, 2],
    ]);
    for (const key of [
      "loss",
      "accuracy",
      "learning_rate",
      "epoch_seconds",
      "samples_per_second",
    ]) {
      expect(reports[1]?.metrics[key]).toBeGreaterThan(0);
    }
    expect(result.confusionMatrix.flat().reduce((sum, count) => sum + count, 0)).toBe(1000);
    expect(result.misclassified.length).toBe(Math.round(1000 * (1 - result.testAccuracy)));
    expect(result.stoppedEarly).toBe(false);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const model = await loadModelFromFiles(result.model);
    const data = await loadMnist({
      dataset: "mnist",
      dataDir: MNIST_DIR,
      trainLimit: 100,
      testLimit: 10,
    });
    const probabilities = predictDigit(model, data.test.images.subarray(0, 784));
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 4);
    model.dispose();
  });

  test("resumed run ends with the uninterrupted weights", async () => {
    const config: RunConfig = {
      ...QUICK,
      trainLimit: 600,
      testLimit: 100,
      batchSize: 64,
      epochs: 2,
      finetuneEpochs: 1,
    };
    const uninterrupted = await trainRun(config, { dataDir: MNIST_DIR, logger });

    const dir = join(scratch, "resume");
    const store = new DirectoryCheckpointStore(dir, 2);
    const controller = new AbortController();
    const interrupted = trainRun(config, {
      dataDir: MNIST_DIR,
      logger,
      store,
      signal: controller.signal,
      onEpoch: (report) => {
        if (report.step === 1) controller.abort(new Error("interrupted after epoch 1"));
      },
    });
    await expect(interrupted).rejects.toThrow("interrupted after epoch 1");
    expect(await readdir(dir)).toEqual(["step-000001-train-epoch-000001"]);

    const steps: number[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const resumed = await trainRun(config, {
      dataDir: MNIST_DIR,
      logger,
      store,
      onEpoch: (report) => void steps.push(report.step),
    });

    expect(steps).toEqual([2, 3]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(Buffer.from(resumed.model["weights.bin"] ?? [])).toEqual(
      Buffer.from(uninterrupted.model["weights.bin"] ?? []),
    );
    expect(resumed.testAccuracy).toBe(uninterrupted.testAccuracy);
    expect((await readdir(dir)).sort()).toEqual([
      "step-000002-train-epoch-000002",
      "step-000003-finetune-epoch-000001",
    ]);
  });

  test.each([
    ["adam", "same"],
    ["sgd", "same"],
    ["rmsprop", "same"],
    ["adam", "sgd"],
  ] as const)(
    "resume at the phase change is exact with %s then %s",
    async (optimizer, finetune) => {
      const finetuneOptimizer = finetune === "same" ? undefined : finetune;
      const config: RunConfig = {
        ...QUICK,
        optimizer,
        ...(finetuneOptimizer === undefined ? {} : { finetuneOptimizer }),
        learningRate: optimizer === "sgd" ? 0.05 : 1e-3,
        finetuneLearningRate: optimizer === "sgd" ? 0.01 : 3e-4,
        trainLimit: 300,
        testLimit: 50,
        batchSize: 50,
        epochs: 1,
        finetuneEpochs: 1,
      };
      const uninterrupted = await trainRun(config, { dataDir: MNIST_DIR, logger });

      const store = new DirectoryCheckpointStore(
        join(scratch, `phase-change-${optimizer}-${finetune}`),
        2,
      );
      const controller = new AbortController();
      const interrupted = trainRun(config, {
        dataDir: MNIST_DIR,
        logger,
        store,
        signal: controller.signal,
        onEpoch: (report) => {
          if (report.phase === "train")
            controller.abort(new Error("interrupted at the phase change"));
        },
      });
      await expect(interrupted).rejects.toThrow("interrupted at the phase change");
      const resumed = await trainRun(config, { dataDir: MNIST_DIR, logger, store });

      expect(Buffer.from(resumed.model["weights.bin"] ?? [])).toEqual(
        Buffer.from(uninterrupted.model["weights.bin"] ?? []),
      );
      if (finetuneOptimizer !== undefined) {
        const sameOptimizer = await trainRun(
          { ...config, finetuneOptimizer: undefined },
          { dataDir: MNIST_DIR, logger },
        );
        expect(Buffer.from(sameOptimizer.model["weights.bin"] ?? [])).not.toEqual(
          Buffer.from(uninterrupted.model["weights.bin"] ?? []),
        );
      }
    },
  );

  test("resume with dropout and batch norm is exact", async () => {
    const config: RunConfig = {
      ...QUICK,
      architecture: "vgg-bn",
      dropout: 0.25,
      trainLimit: 200,
      testLimit: 50,
      batchSize: 50,
      epochs: 2,
      finetuneEpochs: 0,
      zoom: 0.1,
    };
    const uninterrupted = await trainRun(config, { dataDir: MNIST_DIR, logger });
    const store = new DirectoryCheckpointStore(join(scratch, "resume-vgg"));
    const controller = new AbortController();
    await expect(
      trainRun(config, {
        dataDir: MNIST_DIR,
        logger,
        store,
        signal: controller.signal,
        onEpoch: () => controller.abort(),
      }),
    ).rejects.toThrow();

    const resumed = await trainRun(config, { dataDir: MNIST_DIR, logger, store });

    expect(Buffer.from(resumed.model["weights.bin"] ?? [])).toEqual(
      Buffer.from(uninterrupted.model["weights.bin"] ?? []),
    );
  });

  test("early stopping ends the phase", async () => {
    const config: RunConfig = {
      ...QUICK,
      trainLimit: 200,
      testLimit: 20,
      batchSize: 50,
      learningRate: 5,
      optimizer: "sgd",
      epochs: 6,
      finetuneEpochs: 0,
      earlyStoppingPatience: 1,
    };
    const reports: EpochReport[] = [];

    const result = await trainRun(config, {
      dataDir: MNIST_DIR,
      logger,
      onEpoch: (report) => void reports.push(report),
    });

    expect(result.stoppedEarly).toBe(true);
    expect(reports.length).toBeLessThan(6);
  });

  test("missing data is reported before training", async () => {
    const emptyDir = await mkdtemp(join(scratch, "empty-"));
    const epochs: EpochReport[] = [];

    await expect(
      trainRun(QUICK, { dataDir: emptyDir, logger, onEpoch: (report) => void epochs.push(report) }),
    ).rejects.toThrow(DatasetFileError);
    expect(epochs).toEqual([]);
  });
});

describe("checkRunConfig", () => {
  const cases: [string, Partial<Record<keyof RunConfig, unknown>>, string][] = [
    ["unknown architecture", { architecture: "alexnet" }, "architecture"],
    ["learning rate 0", { learningRate: 0 }, "learningRate"],
    ["negative finetune rate", { finetuneLearningRate: -1 }, "finetuneLearningRate"],
    ["batch size 0", { batchSize: 0 }, "batchSize"],
    ["rotation above 180", { rotation: 181 }, "rotation"],
    ["epochs above the maximum", { epochs: MAX_EPOCHS + 1 }, "epochs"],
    [
      "batch larger than the data",
      { trainLimit: 100, validationSplit: 0.5, batchSize: 64 },
      "batchSize",
    ],
  ];

  test.each(cases)("rejects %s", (_name, change, field) => {
    let caught: unknown;
    try {
      checkRunConfig({ ...QUICK, ...change });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRunConfigError);
    expect((caught as InvalidRunConfigError).issues.map((issue) => issue.field)).toContain(field);
  });

  test("accepts every preset", () => {
    for (const preset of Object.values(PRESETS)) expect(checkRunConfig(preset)).toEqual(preset);
  });

  test("trainRun rejects before any epoch", async () => {
    const epochs: EpochReport[] = [];
    await expect(
      trainRun(
        { ...QUICK, learningRate: -1 },
        { dataDir: MNIST_DIR, logger, onEpoch: (report) => void epochs.push(report) },
      ),
    ).rejects.toThrow(/learningRate/);
    expect(epochs).toEqual([]);
  });
});
