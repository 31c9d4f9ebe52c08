import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PRESETS, type RunConfig } from "@convnet/shared";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InvalidRunConfigError, loadModelFromFiles, selectBackend, trainRun } from "../src";

const MNIST_DIR = process.env.MNIST_DIR;
if (MNIST_DIR === undefined)
  throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files to run these tests.");
const logger = pino({ level: "warn" });

const SMALL: RunConfig = {
  ...(PRESETS.quick as RunConfig),
  trainLimit: 2_000,
  testLimit: 500,
  validationSplit: 0,
  batchSize: 64,
  epochs: 1,
  finetuneEpochs: 0,
};

let scratch: string;
/** Folder with a seed CNN trained for one epoch, saved as --save-model writes it. */
let baseDir: string;
let baseWeights: Map<string, Float32Array[]>;

async function layerWeights(
  files: Record<string, Uint8Array>,
): Promise<Map<string, Float32Array[]>> {
  const model = await loadModelFromFiles(files);
  const weights = new Map(
    model.layers.map((layer) => [
      layer.name,
      layer.getWeights().map((weight) => weight.dataSync() as Float32Array),
    ]),
  );
  model.dispose();
  return weights;
}

/** Writes a run's final model into `dir`, as --save-model does. */
async function saveToFolder(files: Record<string, Uint8Array>, dir: string): Promise<void> {
  await mkdir(dir);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
}

beforeAll(async () => {
  await selectBackend();
  scratch = await mkdtemp(join(tmpdir(), "trainer-transfer-"));
  baseDir = join(scratch, "base");
  const base = await trainRun(SMALL, { dataDir: MNIST_DIR, logger });
  await saveToFolder(base.model, baseDir);
  baseWeights = await layerWeights(base.model);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("trainRun from a base model", () => {
  test("frozen layers keep the base weights", async () => {
    const result = await trainRun(
      { ...SMALL, seed: 7, baseModel: baseDir, freezeLayers: 3 },
      { dataDir: MNIST_DIR, logger },
    );
    const weights = await layerWeights(result.model);

    expect(weights.get("conv1")).toEqual(baseWeights.get("conv1"));
    expect(weights.get("dense1")?.[0]).not.toEqual(baseWeights.get("dense1")?.[0]);
    expect(weights.get("logits")?.[0]).not.toEqual(baseWeights.get("logits")?.[0]);
    // One more epoch from trained weights, not from a fresh start with seed 7.
    expect(result.testAccuracy).toBeGreaterThan(0.9);
  });

  test("unfrozen transfer trains every layer", async () => {
    const result = await trainRun({ ...SMALL, baseModel: baseDir }, { dataDir: MNIST_DIR, logger });
    const weights = await layerWeights(result.model);

    expect(weights.get("conv1")?.[0]).not.toEqual(baseWeights.get("conv1")?.[0]);
  });

  test("frozen layer missing from base is rejected", async () => {
    const attempt = trainRun(
      { ...SMALL, architecture: "vgg-bn", baseModel: baseDir, freezeLayers: 1 },
      { dataDir: MNIST_DIR, logger },
    );

    await expect(attempt).rejects.toThrow(
      /frozen layer block1_conv1 of vgg-bn has no layer with the same name/,
    );
  });

  test("freezing without a base model is rejected", async () => {
    const attempt = trainRun({ ...SMALL, freezeLayers: 2 }, { dataDir: MNIST_DIR, logger });

    await expect(attempt).rejects.toThrow(InvalidRunConfigError);
    await expect(attempt).rejects.toThrow(/freezeLayers 2 needs a baseModel/);
  });

  test("freezing every layer is rejected", async () => {
    const attempt = trainRun(
      { ...SMALL, baseModel: baseDir, freezeLayers: 5 },
      { dataDir: join(scratch, "no-data-here"), logger },
    );

    // The missing data folder shows that the check runs before any data loads.
    await expect(attempt).rejects.toThrow(/would freeze all 5 layers of seed-cnn.*at most 4/);
  });

  test("folder without model.json is rejected", async () => {
    const attempt = trainRun({ ...SMALL, baseModel: scratch }, { dataDir: MNIST_DIR, logger });

    await expect(attempt).rejects.toThrow(/has no model\.json/);
  });

  test("folder missing a weight shard is rejected", async () => {
    const partialDir = join(scratch, "partial");
    await mkdir(partialDir);
    await copyFile(join(baseDir, "model.json"), join(partialDir, "model.json"));
    const attempt = trainRun({ ...SMALL, baseModel: partialDir }, { dataDir: MNIST_DIR, logger });

    await expect(attempt).rejects.toThrow(InvalidRunConfigError);
    await expect(attempt).rejects.toThrow(/weights\.bin is missing, but .*model\.json lists it/);
  });

  test("frozen batch norm keeps its moving statistics", async () => {
    const vgg: RunConfig = { ...SMALL, architecture: "vgg-bn", trainLimit: 256, testLimit: 64 };
    const base = await trainRun(vgg, { dataDir: MNIST_DIR, logger });
    const vggDir = join(scratch, "vgg");
    await saveToFolder(base.model, vggDir);

    const result = await trainRun(
      { ...vgg, baseModel: vggDir, freezeLayers: 2 },
      { dataDir: MNIST_DIR, logger },
    );
    const before = await layerWeights(base.model);
    const after = await layerWeights(result.model);

    // gamma, beta, moving mean and moving variance of the frozen batch normalisation.
    expect(after.get("block1_conv1_bn")).toEqual(before.get("block1_conv1_bn"));
    expect(after.get("block1_conv2_bn")?.[2]).not.toEqual(before.get("block1_conv2_bn")?.[2]);
  });
});
