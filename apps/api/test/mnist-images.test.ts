import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { createLogger } from "@convnet/shared";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { mnistImageRoute } from "../src/mnist/http";
import { startTestApi, type TestApi } from "./support/api-server";

const MNIST_DIR = process.env.MNIST_DIR;

/** The IDX file's elements after its header: 16 bytes for images, 8 for labels. */
function readIdx(file: string, headerBytes: number): Buffer {
  if (!MNIST_DIR) throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files.");
  return gunzipSync(readFileSync(path.join(MNIST_DIR, file))).subarray(headerBytes);
}

describe.skipIf(!MNIST_DIR)("GET /mnist/test/<index>.png", () => {
  let api: TestApi;
  let origin: string;

  beforeAll(async () => {
    api = await startTestApi(inject("serverUrl"), {
      extraRoutes: [mnistImageRoute({ mnistDir: MNIST_DIR, log: createLogger("test-mnist") })],
    });
    origin = new URL(api.url).origin;
  });

  afterAll(async () => {
    await api?.stop();
  });

  const get = (pathname: string, headers: Record<string, string> = {}) =>
    fetch(`${origin}${pathname}`, { headers });

  it("serves the IDX pixels of test image 0 as a 28x28 greyscale PNG", async () => {
    const response = await get("/mnist/test/0.png", {
      authorization: `Bearer ${api.tokens.viewer}`,
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("cache-control")).toContain("immutable");
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    expect(png.width).toBe(28);
    expect(png.height).toBe(28);
    // pngjs decodes to RGBA; a greyscale PNG has equal R, G and B and opaque alpha.
    const grey = Buffer.alloc(28 * 28);
    for (let i = 0; i < grey.length; i += 1) {
      grey[i] = png.data[i * 4] ?? -1;
      expect(png.data[i * 4 + 1]).toBe(grey[i]);
      expect(png.data[i * 4 + 3]).toBe(255);
    }
    expect(grey.equals(readIdx("t10k-images-idx3-ubyte.gz", 16).subarray(0, 28 * 28))).toBe(true);
  });

  it("serves the digit that the first test label names", async () => {
    expect(readIdx("t10k-labels-idx1-ubyte.gz", 8)[0]).toBe(7);

    const response = await get("/mnist/test/9999.png", {
      cookie: `convnet_token=${api.tokens.viewer}`,
    });
    expect(response.status).toBe(200);
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    const last = readIdx("t10k-images-idx3-ubyte.gz", 16).subarray(9999 * 784, 10_000 * 784);
    expect(png.data[(14 * 28 + 14) * 4]).toBe(last[14 * 28 + 14]);
  });

  it.each(["10000", "-1", "abc", "1.5", "0x10", ""])(
    "rejects index %j with 400 and the valid range",
    async (index) => {
      const response = await get(`/mnist/test/${index}.png`, {
        authorization: `Bearer ${api.tokens.viewer}`,
      });

      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string };
      expect(body.error).toContain(JSON.stringify(index));
      expect(body.error).toContain("from 0 to 9999");
    },
  );

  it("answers 404 for a path outside the test split", async () => {
    const headers = { authorization: `Bearer ${api.tokens.viewer}` };

    expect((await get("/mnist/train/0.png", headers)).status).toBe(404);
    expect((await get("/mnist/test/0.jpg", headers)).status).toBe(404);
  });

  it("answers 401 without a valid token", async () => {
    const anonymous = await get("/mnist/test/0.png");
    const revoked = await get("/mnist/test/0.png", { authorization: "Bearer not-a-token" });

    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toContain("convnet_token");
    expect(revoked.status).toBe(401);
  });
});
