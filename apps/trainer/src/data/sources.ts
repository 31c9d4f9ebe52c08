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
    mirrors: ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    // NOTE: no md5 of the decompressed Fashion-MNIST files was at hand, so those files are
    // checked by their IDX header and size only.
    files: idxFiles({ trainImages: null, trainLabels: null, testImages: null, testLabels: null }),
  },
};
