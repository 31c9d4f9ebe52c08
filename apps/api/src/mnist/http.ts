import type { ServerResponse } from "node:http";
import type { Logger } from "@convnet/shared";
import { PNG } from "pngjs";
import type { ExtraRoute } from "../server/http";

const ROUTE = /^\/mnist\/test\/([^/]*)\.png$/;
const IMAGE_SIDE = 28;
const PIXELS_PER_IMAGE = IMAGE_SIDE * IMAGE_SIDE;
const TEST_IMAGE_COUNT = 10_000;
/** Test digits never change, so browsers may keep them for a year without asking again. */
const CACHE_CONTROL = "private, max-age=31536000, immutable";

/** The MNIST test images as 0-255 grey levels (ink = 255), one image after another. */
interface TestImages {
  pixels: Uint8Array;
  count: number;
}

function sendError(response: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}

/** Parses the index in the path; returns an error message when it is not an integer in range. */
function parseIndex(text: string): number | string {
  const index = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(index) || index >= TEST_IMAGE_COUNT) {
    return `The test image index ${JSON.stringify(text)} is invalid: use an integer from 0 to ${TEST_IMAGE_COUNT - 1}.`;
  }
  return index;
}

/** Encodes one test image as a 28x28 8-bit greyscale PNG. */
function encodeTestImage(images: TestImages, index: number): Buffer {
  const png = new PNG({ width: IMAGE_SIDE, height: IMAGE_SIDE, colorType: 0, inputColorType: 0 });
  const start = index * PIXELS_PER_IMAGE;
  png.data = Buffer.from(images.pixels.subarray(start, start + PIXELS_PER_IMAGE));
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}

/**
 * Reads the test split once through the trainer's loader (MNIST_DIR, else the download cache)
 * and keeps it as bytes: 7.8 MB instead of the loader's 31 MB of floats. A failed read is
 * forgotten, so the next request tries again after MNIST_DIR is fixed.
 */
function testImageLoader(mnistDir: string | undefined, log: Logger): () => Promise<TestImages> {
  let loading: Promise<TestImages> | undefined;

  const load = async (): Promise<TestImages> => {
    // Imported on first use, because the trainer's entry point loads tfjs.
    const { loadMnist } = await import("@convnet/trainer");
    const data = await loadMnist({
      dataset: "mnist",
      ...(mnistDir ? { dataDir: mnistDir } : {}),
      // The loader reads both splits; one training image keeps the unused split's copy small.
      trainLimit: 1,
    });
    const pixels = new Uint8Array(data.test.images.length);
    for (let i = 0; i < pixels.length; i += 1) {
      pixels[i] = Math.round((data.test.images[i] ?? 0) * 255);
    }
    log.info({ dir: data.dir, count: data.test.count }, "MNIST test images loaded");
    return { pixels, count: data.test.count };
  };

  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/**
 * GET /mnist/test/<index>.png: one MNIST test digit as a 28x28 greyscale PNG, for the dashboard's
 * gallery of misclassified digits. Needs a valid token, like the artifact route.
 */
export function mnistImageRoute(options: {
  mnistDir: string | undefined;
  log: Logger;
}): ExtraRoute {
  const loadTestImages = testImageLoader(options.mnistDir, options.log);

  return async (request, response, viewer) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const match = ROUTE.exec(url.pathname);
    if (!match || (request.method !== "GET" && request.method !== "HEAD")) return false;
    if (!viewer) {
      sendError(
        response,
        401,
        "Send an API token: Authorization: Bearer <token>, or the convnet_token cookie.",
      );
      return true;
    }

    const index = parseIndex(match[1] ?? "");
    if (typeof index === "string") {
      sendError(response, 400, index);
      return true;
    }

    let images: TestImages;
    try {
      images = await loadTestImages();
    } catch (error) {
      options.log.error({ err: error }, "Reading the MNIST test images failed");
      sendError(
        response,
        503,
        `The MNIST test images could not be read (${(error as Error).message}). Set MNIST_DIR to a folder with the four IDX files and retry.`,
      );
      return true;
    }

    const body = encodeTestImage(images, index);
    response.writeHead(200, {
      "content-type": "image/png",
      "content-length": body.length,
      "cache-control": CACHE_CONTROL,
    });
    response.end(request.method === "HEAD" ? undefined : body);
    return true;
  };
}
