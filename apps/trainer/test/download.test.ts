import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { DatasetFileError, type DownloadProgress, loadMnist } from "../src/data";

// The download path runs against a mirror served on loopback from the local MNIST copy, since
// tests never reach the internet. MNIST_DIR is unset around each test so that loadMnist falls
// through to its cache folder, as on a user's machine without a local copy.

const MNIST_DIR = process.env.MNIST_DIR;
if (MNIST_DIR === undefined)
  throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files to run these tests.");
const LOCAL_DIR: string = MNIST_DIR;

/** Paths requested so far, and paths that respond with a gzip of the wrong bytes. */
const requests: string[] = [];
const corruptPaths = new Set<string>();
let server: Server;
let baseUrl: string;
let cacheDir: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? "/";
    requests.push(path);
    const match = /^\/good\/([\w.-]+\.gz)$/.exec(path);
    if (match === null) {
      response.writeHead(404).end("not found");
      return;
    }
    const name = match[1] as string;
    const body = corruptPaths.has(path)
      ? gzipSync(Buffer.alloc(1_000, 7))
      : readFileSync(join(LOCAL_DIR, name));
    response.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  delete process.env.MNIST_DIR;
  requests.length = 0;
  corruptPaths.clear();
  cacheDir = await mkdtemp(join(tmpdir(), "convnet-mnist-cache-"));
});

afterEach(async () => {
  process.env.MNIST_DIR = LOCAL_DIR;
  await rm(cacheDir, { recursive: true, force: true });
});

describe("loadMnist download", () => {
  test("falls back to the next mirror", async () => {
    const progress: DownloadProgress[] = [];
    const data = await loadMnist({
      dataset: "mnist",
      cacheDir,
      mirrors: [`${baseUrl}/missing/`, `${baseUrl}/good`],
      testLimit: 100,
      onDownloadProgress: (event) => progress.push(event),
    });

    expect(data.dir).toBe(cacheDir);
    expect(data.train.count).toBe(60_000);
    expect(Array.from(data.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect((await readdir(cacheDir)).sort()).toEqual([
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
    ]);
    expect(requests.filter((path) => path.startsWith("/missing/"))).toHaveLength(4);
    const lastTrainImages = progress
      .filter((event) => event.file === "train-images-idx3-ubyte.gz")
      .at(-1);
    expect(lastTrainImages?.totalBytes).toBe(9_719_438);
    expect(lastTrainImages?.receivedBytes).toBe(9_719_438);
  });

  test("reuses the cached files", async () => {
    const options = { dataset: "mnist" as const, cacheDir, mirrors: [`${baseUrl}/good/`] };
    await loadMnist(options);
    const firstRun = requests.length;
    await loadMnist(options);

    expect(firstRun).toBe(4);
    expect(requests).toHaveLength(4);
  });

  test("deletes a download that fails its check", async () => {
    corruptPaths.add("/good/t10k-labels-idx1-ubyte.gz");
    const attempt = loadMnist({ dataset: "mnist", cacheDir, mirrors: [`${baseUrl}/good/`] });

    await expect(attempt).rejects.toThrow(DatasetFileError);
    await expect(attempt).rejects.toThrow(/t10k-labels.*was just downloaded, so it was deleted/);
    expect(await readdir(cacheDir)).not.toContain("t10k-labels-idx1-ubyte.gz");
  });

  test("names every mirror when all fail", async () => {
    const attempt = loadMnist({
      dataset: "mnist",
      cacheDir,
      mirrors: [`${baseUrl}/missing/`, "http://127.0.0.1:9/"],
    });

    await expect(attempt).rejects.toThrow(/failed from every mirror.*HTTP 404.*127\.0\.0\.1:9/);
    expect(await readdir(cacheDir)).toEqual([]);
  });

  test("takes mirrors from MNIST_MIRRORS", async () => {
    process.env.MNIST_MIRRORS = `${baseUrl}/good`;
    try {
      await loadMnist({ dataset: "mnist", cacheDir, testLimit: 10 });
    } finally {
      delete process.env.MNIST_MIRRORS;
    }
    expect(requests.every((path) => path.startsWith("/good/"))).toBe(true);
    expect(requests).toHaveLength(4);
  });
});
