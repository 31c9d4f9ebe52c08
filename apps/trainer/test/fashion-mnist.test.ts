import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { DATASET_SOURCES, loadMnist } from "../src/data";

const SYSTEM_DIR = DATASET_SOURCES["fashion-mnist"].systemDirs[0] as string;
if (!process.env.FASHION_MNIST_DIR && !existsSync(SYSTEM_DIR)) {
  throw new Error(
    `Fashion-MNIST is missing: install Debian's dataset-fashion-mnist (it fills ${SYSTEM_DIR}) or set FASHION_MNIST_DIR to a folder with its four IDX files.`,
  );
}

describe("loadMnist with Fashion-MNIST", () => {
  test("reads the known labels and pixel mean", async () => {
    // With no option, the variable or Debian's package folder is found; every file's md5 is checked.
    const data = await loadMnist({ dataset: "fashion-mnist", download: false });

    expect(data.train.count).toBe(60_000);
    expect(data.test.count).toBe(10_000);
    expect(Array.from(data.train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(data.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    let sum = 0;
    for (const value of data.train.images) sum += value;
    expect(sum / data.train.images.length).toBeCloseTo(0.286, 3);
  });

  test("MNIST folder is named as the wrong data set", async () => {
    const mnistDir = process.env.MNIST_DIR;
    if (mnistDir === undefined) throw new Error("Set MNIST_DIR to run this test.");
    const attempt = loadMnist({ dataset: "fashion-mnist", dataDir: mnistDir });

    await expect(attempt).rejects.toThrow(/is the mnist file, not the fashion-mnist one/);
    await expect(attempt).rejects.toThrow(/Point FASHION_MNIST_DIR or --data-dir/);
  });
});
