import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "@convnet/shared";
import { IMAGE_SIZE, NUM_CLASSES } from "../models";
import { type DownloadProgress, downloadFile } from "./download";
import { DatasetFileError, decompressIfGzip, parseIdx } from "./idx";
import { DATASET_SOURCES, type DatasetSource, type IdxFileSpec, type SplitName } from "./sources";

export const PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE;

/** Images scaled to [0, 1], row-major with PIXELS_PER_IMAGE values each, and their labels. */
export interface LabeledImages {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface LoadMnistOptions {
  dataset: Dataset;
  /** Folder with the four IDX files (gzip or raw); overrides the environment variable. */
  dataDir?: string;
  /** Download folder used when no local copy is configured; default ~/.cache/convnet-lab/<dataset>. */
  cacheDir?: string;
  /** Set to false to fail instead of downloading missing files into the cache folder. */
  download?: boolean;
  /** Keep only the first trainLimit training and testLimit test images. */
  trainLimit?: number;
  testLimit?: number;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /**
   * Base URLs to download from, in order. Default: the data set's mirrors variable, else its
   * public mirrors.
   */
  mirrors?: string[];
}

export interface MnistData {
  dataset: Dataset;
  /** Folder the files were read from. */
  dir: string;
  train: LabeledImages;
  test: LabeledImages;
}

interface DataLocation {
  dir: string;
  /** Origin of the folder (option, variable, cache), for error messages. */
  origin: string;
  mayDownload: boolean;
}

/**
 * Loads MNIST or Fashion-MNIST from a local copy (option, then environment variable, then a
 * system package folder), else from the cache folder, downloading missing files into it.
 */
export async function loadMnist(options: LoadMnistOptions): Promise<MnistData> {
  const location = locateData(options);
  const [train, test] = await allSettledOrThrow(
    (["train", "test"] as const).map((split) =>
      loadSplit(
        options,
        location,
        split,
        split === "train" ? options.trainLimit : options.testLimit,
      ),
    ),
  );
  if (train === undefined || test === undefined)
    throw new Error("unreachable: two splits requested");
  return { dataset: options.dataset, dir: location.dir, train, test };
}

/**
 * Waits for every promise, then throws the first rejection. Unlike Promise.all, no download or
 * file write is still running in the background when the caller sees the error.
 */
async function allSettledOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

function locateData(options: LoadMnistOptions): DataLocation {
  const source = DATASET_SOURCES[options.dataset];
  if (options.dataDir !== undefined) {
    return { dir: options.dataDir, origin: "the data directory option", mayDownload: false };
  }
  const fromEnv = process.env[source.envVar];
  if (fromEnv !== undefined && fromEnv !== "") {
    return {
      dir: fromEnv,
      origin: `the environment variable ${source.envVar}`,
      mayDownload: false,
    };
  }
  for (const dir of source.systemDirs) {
    if (
      existsSync(join(dir, source.files.train.images.name)) ||
      existsSync(join(dir, stripGz(source.files.train.images.name)))
    ) {
      return { dir, origin: "the system package folder", mayDownload: false };
    }
  }
  const cacheDir = options.cacheDir ?? join(homedir(), ".cache", "convnet-lab", options.dataset);
  return { dir: cacheDir, origin: "the cache folder", mayDownload: options.download !== false };
}

async function loadSplit(
  options: LoadMnistOptions,
  location: DataLocation,
  split: SplitName,
  limit: number | undefined,
): Promise<LabeledImages> {
  const specs = DATASET_SOURCES[options.dataset].files[split];
  const [imageBytes, labelBytes] = (await allSettledOrThrow([
    readVerifiedFile(options, location, specs.images),
    readVerifiedFile(options, location, specs.labels),
  ])) as [Uint8Array, Uint8Array];

  const count = Math.min(limit ?? specs.images.count, specs.images.count);
  const labels = labelBytes.slice(0, count);
  const images = new Float32Array(count * PIXELS_PER_IMAGE);
  for (let i = 0; i < images.length; i++) images[i] = (imageBytes[i] ?? 0) / 255;
  return { images, labels, count };
}

/** Reads one IDX file, checks its shape, md5 and label range, and returns its elements. */
async function readVerifiedFile(
  options: LoadMnistOptions,
  location: DataLocation,
  spec: IdxFileSpec,
): Promise<Uint8Array> {
  const { path, downloaded } = await findOrDownload(options, location, spec);
  try {
    return await verifyFile(options, spec, path);
  } catch (error) {
    if (!downloaded || !(error instanceof DatasetFileError)) throw error;
    // A bad download would otherwise be found again next time and never be replaced.
    await rm(path, { force: true });
    const source = DATASET_SOURCES[options.dataset];
    throw new DatasetFileError(
      path,
      `${error.problem} The file was just downloaded, so it was deleted.`,
      `Run again to download it once more; if it fails again, set ${source.mirrorsEnvVar} to a mirror with the original files or put a good copy in ${location.dir}.`,
    );
  }
}

async function verifyFile(
  options: LoadMnistOptions,
  spec: IdxFileSpec,
  path: string,
): Promise<Uint8Array> {
  const bytes = decompressIfGzip(await readFile(path), path);
  const idx = parseIdx(bytes, path);

  const expectedShape =
    spec.kind === "images" ? [spec.count, IMAGE_SIZE, IMAGE_SIZE] : [spec.count];
  if (idx.shape.join("x") !== expectedShape.join("x")) {
    throw new DatasetFileError(
      path,
      `${path} contains an array of shape [${idx.shape.join(", ")}], expected [${expectedShape.join(", ")}] for ${options.dataset} ${spec.kind}.`,
      "Check that the file is the one its name says.",
    );
  }
  if (spec.md5 !== null) {
    const md5 = createHash("md5").update(bytes).digest("hex");
    if (md5 !== spec.md5) {
      const other = datasetWithMd5(md5);
      if (other !== null && other !== options.dataset) {
        throw new DatasetFileError(
          path,
          `${path} is the ${other} file, not the ${options.dataset} one.`,
          `Point ${DATASET_SOURCES[options.dataset].envVar} or --data-dir at a folder with the ${options.dataset} files.`,
        );
      }
      throw new DatasetFileError(
        path,
        `${path} is corrupt: the md5 of its decompressed bytes is ${md5}, expected ${spec.md5}.`,
        "Delete it and download it again.",
      );
    }
  }
  if (spec.kind === "labels") {
    const invalid = idx.data.findIndex((label) => label >= NUM_CLASSES);
    if (invalid >= 0) {
      throw new DatasetFileError(
        path,
        `${path} has label ${idx.data[invalid]} at index ${invalid}, expected 0 to 9.`,
        "Delete it and download it again.",
      );
    }
  }
  return idx.data;
}

async function findOrDownload(
  options: LoadMnistOptions,
  location: DataLocation,
  spec: IdxFileSpec,
): Promise<{ path: string; downloaded: boolean }> {
  const gzipped = join(location.dir, spec.name);
  const raw = join(location.dir, stripGz(spec.name));
  if (existsSync(gzipped)) return { path: gzipped, downloaded: false };
  if (existsSync(raw)) return { path: raw, downloaded: false };

  if (!location.mayDownload) {
    const envVar = DATASET_SOURCES[options.dataset].envVar;
    throw new DatasetFileError(
      gzipped,
      `${spec.name} (or ${stripGz(spec.name)}) is missing from ${location.dir}, the folder given by ${location.origin}.`,
      `Put the four ${options.dataset} IDX files there, or unset --data-dir and ${envVar} to download them into the cache folder.`,
    );
  }
  await downloadFile(spec.name, mirrorsFor(options), gzipped, options.onDownloadProgress);
  return { path: gzipped, downloaded: true };
}

/** Names the data set one of whose files has this md5, so a folder mix-up is not called corruption. */
function datasetWithMd5(md5: string): Dataset | null {
  for (const [dataset, source] of Object.entries(DATASET_SOURCES) as [Dataset, DatasetSource][]) {
    const splits = Object.values(source.files);
    if (splits.some((files) => files.images.md5 === md5 || files.labels.md5 === md5))
      return dataset;
  }
  return null;
}

function mirrorsFor(options: LoadMnistOptions): string[] {
  const source = DATASET_SOURCES[options.dataset];
  const fromEnv = (process.env[source.mirrorsEnvVar] ?? "")
    .split(",")
    .map((mirror) => mirror.trim())
    .filter((mirror) => mirror !== "");
  const mirrors = options.mirrors ?? (fromEnv.length > 0 ? fromEnv : source.mirrors);
  // A base URL without a trailing slash would lose its last path segment when resolved.
  return mirrors.map((mirror) => (mirror.endsWith("/") ? mirror : `${mirror}/`));
}

function stripGz(name: string): string {
  return name.replace(/\.gz$/, "");
}
