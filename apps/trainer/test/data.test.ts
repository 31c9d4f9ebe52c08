import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DatasetFileError, loadMnist, parseIdx, splitValidation } from "../src/data";

const MNIST_DIR = process.env.MNIST_DIR;
if (MNIST_DIR === undefined)
  throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files to run these tests.");
const FILES = [
  "train-images-idx3-ubyte.gz",
  "train-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz",
  "t10k-labels-idx1-ubyte.gz",
];

describe("loadMnist", () => {
  test("reads the known labels and pixel mean", async () => {
    const data = await loadMnist({ dataset: "mnist", dataDir: MNIST_DIR });

    expect(data.train.count).toBe(60_000);
    expect(data.test.count).toBe(10_000);
    expect(Array.from(data.train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(data.test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let sum = 0;
    let max = 0;
    for (const value of data.train.images) {
      sum += value;
      if (value > max) max = value;
    }
    expect(sum / data.train.images.length).toBeCloseTo(0.1307, 4);
    expect(max).toBe(1);
  });

  test("applies limits and a tail validation split", async () => {
    const data = await loadMnist({
      dataset: "mnist",
      dataDir: MNIST_DIR,
      trainLimit: 1000,
      testLimit: 100,
    });
    const { train, validation } = splitValidation(data.train, 0.1);

    expect(data.train.count).toBe(1000);
    expect(data.test.count).toBe(100);
    expect(data.test.images.length).toBe(100 * 784);
    expect(train.count).toBe(900);
    expect(validation?.count).toBe(100);
    expect(validation?.labels[0]).toBe(data.train.labels[900]);
    expect(splitValidation(data.train, 0).validation).toBeNull();
  });
});

describe("loadMnist with broken files", () => {
  let brokenDir: string;
  const originals = new Map<string, Buffer>();

  beforeAll(async () => {
    brokenDir = await mkdtemp(join(tmpdir(), "mnist-broken-"));
    for (const file of FILES) originals.set(file, await readFile(join(MNIST_DIR, file)));
  });

  afterAll(async () => {
    await rm(brokenDir, { recursive: true, force: true });
  });

  /** Writes the four files into the temporary folder, with `file` replaced by `bytes`. */
  async function writeCopies(file: string, bytes: Uint8Array | null): Promise<void> {
    await rm(brokenDir, { recursive: true, force: true });
    await mkdir(brokenDir, { recursive: true });
    for (const name of FILES) {
      const content = name === file ? bytes : (originals.get(name) ?? null);
      if (content !== null) await writeFile(join(brokenDir, name), content);
    }
  }

  function original(file: string): Buffer {
    const bytes = originals.get(file);
    if (bytes === undefined) throw new Error(`${file} was not read`);
    return bytes;
  }

  test("missing file names the file and the fix", async () => {
    await writeCopies("t10k-labels-idx1-ubyte.gz", null);

    const error = await loadMnist({ dataset: "mnist", dataDir: brokenDir }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetFileError);
    expect((error as Error).message).toContain("t10k-labels-idx1-ubyte.gz");
    expect((error as Error).message).toContain("is missing from");
    expect((error as Error).message).toContain(brokenDir);
  });

  test("truncated gzip is reported as truncated or corrupt", async () => {
    const gz = original("train-labels-idx1-ubyte.gz");
    await writeCopies("train-labels-idx1-ubyte.gz", gz.subarray(0, Math.floor(gz.length / 2)));

    await expect(loadMnist({ dataset: "mnist", dataDir: brokenDir })).rejects.toThrow(
      /train-labels-idx1-ubyte\.gz is not a valid gzip file .* truncated or corrupt/,
    );
  });

  test("truncated IDX data states the expected size", async () => {
    const raw = gunzipSync(original("t10k-images-idx3-ubyte.gz"));
    await writeCopies("t10k-images-idx3-ubyte.gz", gzipSync(raw.subarray(0, raw.length - 784)));

    await expect(loadMnist({ dataset: "mnist", dataDir: brokenDir })).rejects.toThrow(
      /has 7839232 bytes but its header \[10000, 28, 28\] needs 7840016; the file is truncated/,
    );
  });

  test("flipped byte fails the md5 check", async () => {
    const raw = Buffer.from(gunzipSync(original("t10k-images-idx3-ubyte.gz")));
    raw[5000] = (raw[5000] ?? 0) ^ 0xff;
    await writeCopies("t10k-images-idx3-ubyte.gz", gzipSync(raw));

    await expect(loadMnist({ dataset: "mnist", dataDir: brokenDir })).rejects.toThrow(
      /is corrupt: the md5 of its decompressed bytes is [0-9a-f]{32}, expected 2646ac647ad5339dbf082846283269ea/,
    );
  });

  test("uncompressed copies are accepted", async () => {
    await writeCopies("t10k-labels-idx1-ubyte.gz", null);
    await writeFile(
      join(brokenDir, "t10k-labels-idx1-ubyte"),
      gunzipSync(original("t10k-labels-idx1-ubyte.gz")),
    );

    const data = await loadMnist({
      dataset: "mnist",
      dataDir: brokenDir,
      trainLimit: 100,
      testLimit: 10,
    });
    expect(Array.from(data.test.labels)).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });
});

describe("parseIdx", () => {
  test("rejects a wrong magic number", () => {
    const bytes = new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => parseIdx(bytes, "x.idx")).toThrow(/magic number is 0x00000d01/);
  });

  test("reads shape and data", () => {
    const bytes = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const idx = parseIdx(bytes, "x.idx");
    expect(idx.shape).toEqual([2, 3]);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
