import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { createLogger, type RunConfig, SEED_RECIPE, waitForExit } from "@convnet/shared";
import { trainRun } from "@convnet/trainer";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { waitForHttp } from "../../../scripts/stack/wait-for-http";
import { storeArtifact } from "../src/artifacts/store";
import { errorCodes, type GraphQLResponse, startTestApi, type TestApi } from "./support/api-server";

const MNIST_DIR = process.env.MNIST_DIR;
const API_ENTRY = path.resolve(import.meta.dirname, "../src/main.ts");
const TINY_RUN: RunConfig = {
  ...SEED_RECIPE,
  architecture: "seed-cnn",
  trainLimit: 500,
  testLimit: 100,
  epochs: 1,
  finetuneEpochs: 0,
};

const REGISTER = `mutation ($runId: ID!, $name: String) {
  registerModelVersion(runId: $runId, name: $name) { id name version createdBy run { id } }
}`;
const PROMOTE = `mutation ($versionId: ID!, $alias: String!) {
  promote(versionId: $versionId, alias: $alias) { alias movedBy version { id version } }
}`;
const HISTORY = `query ($modelName: String!, $alias: String!) {
  aliasHistory(modelName: $modelName, alias: $alias) {
    movedBy fromVersion { version } toVersion { version }
  }
}`;
const PREDICT = `mutation ($pixels: [Float!], $png: String, $modelName: String) {
  predict(pixels: $pixels, png: $png, modelName: $modelName) {
    label probabilities modelVersion { id version }
  }
}`;

type Registered = {
  registerModelVersion: {
    id: string;
    name: string;
    version: number;
    createdBy: string | null;
    run: { id: string };
  };
};
type Predicted = {
  predict: {
    label: number;
    probabilities: number[];
    modelVersion: { id: string; version: number };
  };
};

/** Reads the first MNIST test image (a 7) as 784 values in [0, 1]. */
function firstTestImage(): number[] {
  if (!MNIST_DIR) throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files.");
  const bytes = gunzipSync(readFileSync(path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")));
  return Array.from(bytes.subarray(16, 16 + 784), (value) => value / 255);
}

function toPngBase64(pixels: number[]): string {
  const png = new PNG({ width: 28, height: 28 });
  pixels.forEach((value, index) => {
    const grey = Math.round(value * 255);
    png.data.set([grey, grey, grey, 255], index * 4);
  });
  return PNG.sync.write(png).toString("base64");
}

/** Sends one GraphQL request to the API at `url`, which may be another process than the test's own. */
async function requestAt<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Trains a tiny real model and stores it as a succeeded run's final model, the way a worker's
 * putArtifact and finishRun leave it.
 */
async function createSucceededRun(api: TestApi, seed: number): Promise<string> {
  const config = { ...TINY_RUN, seed };
  const result = await trainRun(config, { dataDir: MNIST_DIR });
  const worker = await api.prisma.worker.create({
    data: { name: `test trainer ${seed}`, host: "127.0.0.1" },
  });
  const run = await api.prisma.run.create({
    data: {
      name: `tiny seed ${seed}`,
      hyperparameters: { seed },
      config,
      architecture: config.architecture,
      dataset: config.dataset,
      seed,
      totalSteps: 1,
      status: "running",
      attempt: 1,
      workerId: worker.id,
    },
  });
  for (const [file, bytes] of Object.entries(result.model)) {
    await storeArtifact(api.prisma, createLogger("test-models"), api.artifactDir, {
      runId: run.id,
      name: `model/${file}`,
      contentBase64: Buffer.from(bytes).toString("base64"),
      kind: "model",
    });
  }
  await api.prisma.run.update({
    where: { id: run.id },
    data: {
      status: "succeeded",
      testAccuracy: result.testAccuracy,
      testLoss: result.testLoss,
      durationSeconds: result.durationSeconds,
      finishedAt: new Date(),
    },
  });
  return run.id;
}

describe.skipIf(!MNIST_DIR)("model registry", () => {
  let api: TestApi;
  let firstRunId: string;
  let secondRunId: string;
  const pixels = firstTestImage();

  beforeAll(async () => {
    api = await startTestApi(inject("serverUrl"));
    firstRunId = await createSucceededRun(api, 1);
    secondRunId = await createSucceededRun(api, 2);
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
  });

  const register = (runId: string, name: string) =>
    api.request<Registered>(api.tokens.editor, REGISTER, { runId, name });
  const promote = (versionId: string) =>
    api.request<{ promote: { alias: string; movedBy: string; version: { id: string } } }>(
      api.tokens.editor,
      PROMOTE,
      { versionId, alias: "production" },
    );
  const predict = (variables: Record<string, unknown>, url = api.url) =>
    requestAt<Predicted>(url, api.tokens.viewer, PREDICT, variables);

  it("numbers versions per model name", async () => {
    const first = await register(firstRunId, "numbering");
    const second = await register(secondRunId, "numbering");
    const other = await register(firstRunId, "numbering-other");

    expect(first.errors).toBeUndefined();
    expect(first.data?.registerModelVersion).toMatchObject({
      name: "numbering",
      version: 1,
      createdBy: "test editor",
      run: { id: firstRunId },
    });
    expect(second.data?.registerModelVersion.version).toBe(2);
    expect(other.data?.registerModelVersion.version).toBe(1);
  });

  it("rejects a run that has not succeeded", async () => {
    const running = await api.prisma.run.create({
      data: {
        name: "still training",
        hyperparameters: {},
        config: TINY_RUN,
        architecture: TINY_RUN.architecture,
        dataset: TINY_RUN.dataset,
        seed: TINY_RUN.seed,
        totalSteps: 1,
        status: "running",
      },
    });

    const response = await register(running.id, "rejected");

    expect(errorCodes(response)).toEqual(["CONFLICT"]);
    expect(response.errors?.[0]?.message).toContain("is running");
    expect(response.errors?.[0]?.message).toContain("only a succeeded run");
  });

  it("moves the alias and records each move with the token label", async () => {
    const first = await register(firstRunId, "promoted");
    const second = await register(secondRunId, "promoted");
    const firstId = first.data?.registerModelVersion.id ?? "";
    const secondId = second.data?.registerModelVersion.id ?? "";

    const toFirst = await promote(firstId);
    const toSecond = await promote(secondId);
    const history = await api.request<{
      aliasHistory: {
        movedBy: string;
        fromVersion: { version: number } | null;
        toVersion: { version: number };
      }[];
    }>(api.tokens.viewer, HISTORY, { modelName: "promoted", alias: "production" });

    expect(toFirst.data?.promote).toMatchObject({ alias: "production", movedBy: "test editor" });
    expect(toSecond.data?.promote.version.id).toBe(secondId);
    expect(history.data?.aliasHistory).toEqual([
      { movedBy: "test editor", fromVersion: { version: 1 }, toVersion: { version: 2 } },
      { movedBy: "test editor", fromVersion: null, toVersion: { version: 1 } },
    ]);
  });

  it("predicts 10 probabilities from pixels and from a PNG", async () => {
    const version = await register(firstRunId, "mnist-cnn");
    await promote(version.data?.registerModelVersion.id ?? "");

    const fromPixels = await predict({ pixels });
    const fromPng = await predict({ png: toPngBase64(pixels) });

    for (const response of [fromPixels, fromPng]) {
      expect(response.errors).toBeUndefined();
      const probabilities = response.data?.predict.probabilities ?? [];
      expect(probabilities).toHaveLength(10);
      expect(probabilities.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 4);
      expect(response.data?.predict.label).toBe(probabilities.indexOf(Math.max(...probabilities)));
    }
  });

  it("rejects pixels of the wrong length", async () => {
    const response = await predict({ pixels: pixels.slice(0, 10) });

    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.message).toContain("has 10 values");
    expect(response.errors?.[0]?.message).toContain("784");
  });

  it("reports a model without a production alias", async () => {
    await register(firstRunId, "never-promoted");

    const response = await predict({ pixels, modelName: "never-promoted" });

    expect(errorCodes(response)).toEqual(["NOT_FOUND"]);
    expect(response.errors?.[0]?.message).toContain('has no "production" alias');
    expect(response.errors?.[0]?.message).toContain("registerModelVersion");
    expect(response.errors?.[0]?.message).toContain("promote");
  });

  it("predicts with the new version once the alias moves", async () => {
    const first = await register(firstRunId, "moving");
    const second = await register(secondRunId, "moving");
    await promote(first.data?.registerModelVersion.id ?? "");
    const before = await predict({ pixels, modelName: "moving" });

    await promote(second.data?.registerModelVersion.id ?? "");
    const after = await predict({ pixels, modelName: "moving" });

    expect(before.data?.predict.modelVersion.version).toBe(1);
    expect(after.data?.predict.modelVersion.version).toBe(2);
    // Two seeds give two different models, so the same digit gets different probabilities.
    expect(after.data?.predict.probabilities).not.toEqual(before.data?.predict.probabilities);
  });

  describe("with a second API process on the same database", () => {
    let child: ChildProcess | undefined;
    let otherUrl = "";
    let output = "";

    beforeAll(async () => {
      const port = await freePort();
      otherUrl = `http://127.0.0.1:${port}/graphql`;
      child = spawn(process.execPath, ["--import", "tsx", API_ENTRY], {
        env: {
          ...process.env,
          DATABASE_URL: api.databaseUrl,
          ARTIFACT_DIR: api.artifactDir,
          API_HOST: "127.0.0.1",
          API_PORT: String(port),
          LOG_LEVEL: "warn",
        },
        // The IPC channel makes the API exit if this test process dies without stopping it.
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      });
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = () => child?.exitCode !== null || child?.signalCode !== null;
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, 90_000, () => !exited()).catch(
        (error: Error) => {
          throw new Error(`${error.message}\nAPI output:\n${output}`);
        },
      );
    }, 120_000);

    afterAll(async () => {
      if (child?.pid === undefined) return;
      child.kill("SIGTERM");
      if (!(await waitForExit(child.pid, 20_000))) child.kill("SIGKILL");
    });

    it("predicts with the version promoted through the first", async () => {
      const first = await register(firstRunId, "shared");
      const second = await register(secondRunId, "shared");
      await promote(first.data?.registerModelVersion.id ?? "");
      const before = await predict({ pixels, modelName: "shared" }, otherUrl);

      await promote(second.data?.registerModelVersion.id ?? "");
      const after = await predict({ pixels, modelName: "shared" }, otherUrl);
      const direct = await predict({ pixels, modelName: "shared" });

      expect(before.errors).toBeUndefined();
      expect(before.data?.predict.modelVersion.version).toBe(1);
      expect(after.data?.predict.modelVersion.version).toBe(2);
      expect(after.data?.predict.probabilities).not.toEqual(before.data?.predict.probabilities);
      for (const [index, value] of (direct.data?.predict.probabilities ?? []).entries()) {
        expect(after.data?.predict.probabilities[index]).toBeCloseTo(value, 5);
      }
    });
  });
});
