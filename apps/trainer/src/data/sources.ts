import type { Dataset } from "@convnet/shared";

export type SplitName = "train" | "test";

export interface IdxFileSpec {
  /** File name on the mirrors; a copy without the .gz suffix is accepted too. */
  name: string;
  kind: "images" | "labels";
  count: number;
  /** md5 of the decompressed bytes; null where no trusted value is known. */
  md5: string | null;
}

export interface DatasetSource {
  /** Environment variable that points at a local copy of the four files. */
  envVar: string;
  /** Folders a system package installs the files into, searched after the variable. */
  systemDirs: string[];
  /** Environment variable with comma-separated mirror URLs that replace `mirrors`. */
  mirrorsEnvVar: string;
  /** Base URLs the files are downloaded from, tried in order. */
  mirrors: string[];
  files: Record<SplitName, { images: IdxFileSpec; labels: IdxFileSpec }>;
}

function idxFiles(
  md5: Record<"trainImages" | "trainLabels" | "testImages" | "testLabels", string | null>,
): DatasetSource["files"] {
  return {
    train: {
      images: {
        name: "train-images-idx3-ubyte.gz",
        kind: "images",
        count: 60_000,
        md5: md5.trainImages,
      },
      labels: {
        name: "train-labels-idx1-ubyte.gz",
        kind: "labels",
        count: 60_000,
        md5: md5.trainLabels,
      },
    },
    test: {
      images: {
        name: "t10k-images-idx3-ubyte.gz",
        kind: "images",
        count: 10_000,
        md5: md5.testImages,
      },
      labels: {
        name: "t10k-labels-idx1-ubyte.gz",
        kind: "labels",
        count: 10_000,
        md5: md5.testLabels,
      },
    },
  };
}

export const DATASET_SOURCES: Record<Dataset, DatasetSource> = {
  mnist: {
    envVar: "MNIST_DIR",
    systemDirs: [],
    mirrorsEnvVar: "MNIST_MIRRORS",
    mirrors: [
      "https://storage.googleapis.com/cvdf-datasets/mnist/",
      "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ],
    files: idxFiles({
      trainImages: "6bbc9ace898e44ae57da46a324031adb",
      trainLabels: "a25bea736e30d166cdddb491f175f624",
      testImages: "2646ac647ad5339dbf082846283269ea",
      testLabels: "27ae3e4e09519cfbb04c329615203637",
    }),
  },
  "fashion-mnist": {
    envVar: "FASHION_MNIST_DIR",
    // Debian's dataset-fashion-mnist package.
    systemDirs: ["/usr/share/datasets/fashion-mnist"],
    mirrorsEnvVar: "FASHION_MNIST_MIRRORS",
    mirrors: ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    // Debian recompresses the files, so their .gz bytes differ from the upstream ones while the
    // decompressed bytes, which these hashes cover, are the same.
    files: idxFiles({
      trainImages: "f4a8712d7a061bf5bd6d2ca38dc4d50a",
      trainLabels: "9018921c3c673c538a1fc5bad174d6f9",
      testImages: "8181f5470baa50b63fa0f6fddb340f0a",
      testLabels: "15d484375f8d13e6eb1aabb0c3f46965",
    }),
  },
};
