import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { PRESETS, type RunConfig } from "@convnet/shared";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { graphql, type Stack, startStack } from "./support/stack";

const SWEEP_TIMEOUT_MS = 15 * 60_000;
/** Short so the killed worker's run is requeued within seconds; the config's minimum is 5. */
const HEARTBEAT_TIMEOUT_SECONDS = 5;

const LAUNCH_SWEEP = `mutation Launch($spec: SweepSpec!) {
  launchSweep(spec: $spec) { id status runCounts { total } }
}`;

const REGISTER_MODEL = `mutation Register($name: String, $runId: ID!) {
  registerModelVersion(name: $name, runId: $runId) { id version }
}`;
const PROMOTE = `mutation Promote($alias: String!, $versionId: ID!) {
  promote(alias: $alias, versionId: $versionId) { alias }
}`;

let stack: Stack;

beforeAll(async () => {
  if (!process.env.MNIST_DIR) {
    throw new Error("Set MNIST_DIR to the folder with the four MNIST IDX files to run this test.");
  }
  stack = await startStack({
    serverUrl: inject("serverUrl"),
    workers: 2,
    heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS,
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(500);
  }
  throw new Error(
    `Timed out after ${timeoutMs / 1000} s waiting for ${what}; logs are in ${stack.logDir} (set STACK_KEEP_LOGS=1 to keep them).`,
  );
}

/** Finds a running run that has stored an epoch's metrics, with the pid of its worker. */
async function runPastFirstEpoch(sweepId: string) {
  const rows = await stack.prisma.$queryRaw<{ runId: string; pid: number }[]>`
    SELECT r.id AS "runId", w.pid
    FROM run r JOIN worker w ON w.id = r.worker_id
    WHERE r.sweep_id = ${sweepId}::uuid AND r.status = 'running'
      AND EXISTS (SELECT 1 FROM metric_point m WHERE m.run_id = r.id)
    LIMIT 1`;
  return rows[0];
}

/** Queues a run outside any sweep, straight in the database, for a worker to claim. */
function createQueuedRun(name: string, config: RunConfig) {
  return stack.prisma.run.create({
    data: {
      name,
      hyperparameters: {},
      config,
      architecture: config.architecture,
      dataset: config.dataset,
      seed: config.seed,
      totalSteps: config.epochs + config.finetuneEpochs,
    },
  });
}

/** Downloads a run's final model and returns the bytes of the weights whose names start with `prefix`. */
async function layerBytes(runId: string, prefix: string): Promise<Buffer> {
  const origin = new URL(stack.apiUrl).origin;
  const download = async (path: string) => {
    const artifact = await stack.prisma.artifact.findFirstOrThrow({ where: { runId, path } });
    const response = await fetch(`${origin}/artifacts/${artifact.id}`, {
      headers: { authorization: `Bearer ${stack.tokens.viewer}` },
    });
    return Buffer.from(await response.arrayBuffer());
  };
  const modelJson = JSON.parse((await download("model/model.json")).toString("utf8")) as {
    weightsManifest: { weights: { name: string; shape: number[] }[] }[];
  };
  const weights = await download("model/weights.bin");
  // Frozen layers' weights are saved after the trainable ones, so offsets come from the manifest.
  const parts: Buffer[] = [];
  let offset = 0;
  for (const spec of modelJson.weightsManifest.flatMap((group) => group.weights)) {
    const bytes = spec.shape.reduce((product, extent) => product * extent, 1) * 4;
    if (spec.name.startsWith(prefix)) parts.push(weights.subarray(offset, offset + bytes));
    offset += bytes;
  }
  return Buffer.concat(parts);
}

describe("a sweep served by two workers", () => {
  test(
    "finishes every run although one worker is killed mid-run",
    async () => {
      const { launchSweep } = await graphql<{
        launchSweep: { id: string; runCounts: { total: number } };
      }>(stack.apiUrl, stack.tokens.editor, LAUNCH_SWEEP, {
        spec: {
          name: "two-workers",
          method: "grid",
          preset: "quick",
          baseConfig: {
            architecture: "seed-cnn",
            epochs: 2,
            finetuneEpochs: 0,
            trainLimit: 5000,
            testLimit: 1000,
          },
          searchSpace: {
            learningRate: { values: [0.001, 0.002] },
            batchSize: { values: [64, 128] },
          },
          metric: "val_accuracy",
          direction: "maximize",
          runBudget: 4,
          concurrency: 2,
        },
      });
      const sweepId = launchSweep.id;
      expect(launchSweep.runCounts.total).toBe(4);

      const victim = await waitFor(
        "a run to log its first epoch",
        () => runPastFirstEpoch(sweepId),
        SWEEP_TIMEOUT_MS,
      );
      await stack.killWorker(victim.pid, "SIGKILL");

      const sweep = await waitFor(
        "the sweep to finish",
        async () => {
          const row = await stack.prisma.sweep.findUniqueOrThrow({ where: { id: sweepId } });
          return row.status === "running" ? undefined : row;
        },
        SWEEP_TIMEOUT_MS,
      );

      const runs = await stack.prisma.run.findMany({
        where: { sweepId },
        orderBy: { sweepIndex: "asc" },
      });
      expect(sweep.status).toBe("succeeded");
      expect(sweep.finishedAt).not.toBeNull();
      expect(runs.map((run) => run.status)).toEqual([
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
      ]);
      const resumed = runs.find((run) => run.id === victim.runId);
      expect(resumed?.attempt).toBe(2);
      for (const run of runs) expect(run.testAccuracy).toBeGreaterThan(0.8);

      const duplicates = await stack.prisma.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM (
        SELECT 1 FROM metric_point m JOIN run r ON r.id = m.run_id
        WHERE r.sweep_id = ${sweepId}::uuid
        GROUP BY m.run_id, m.phase, m.key, m.epoch HAVING count(*) > 1) AS repeated`;
      expect(duplicates[0]?.count).toBe(0);
      for (const run of runs) {
        const epochs = await stack.prisma.metricPoint.findMany({
          where: { runId: run.id, key: "val_accuracy" },
          orderBy: { step: "asc" },
          select: { phase: true, epoch: true },
        });
        expect(epochs).toEqual([
          { phase: "train", epoch: 1 },
          { phase: "train", epoch: 2 },
        ]);
      }
    },
    SWEEP_TIMEOUT_MS * 2,
  );

  test("serves each run's final model with its stored sha256", async () => {
    const models = await stack.prisma.artifact.findMany({
      where: { kind: "model", path: "model/weights.bin" },
    });
    expect(models).toHaveLength(4);
    const origin = new URL(stack.apiUrl).origin;

    for (const model of models) {
      const response = await fetch(`${origin}/artifacts/${model.id}`, {
        headers: { authorization: `Bearer ${stack.tokens.viewer}` },
      });
      expect(response.status).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(model.sha256);
    }
    const anonymous = await fetch(`${origin}/artifacts/${models[0]?.id}`);
    expect(anonymous.status).toBe(401);
  });

  test("runs start from another run's model", async () => {
    const quick = PRESETS.quick;
    if (!quick) throw new Error("The quick preset is missing from PRESETS.");
    const base = await stack.prisma.run.findFirstOrThrow({ where: { status: "succeeded" } });
    const createRun = (name: string, baseModel: string, dataset = quick.dataset) => {
      const config = {
        ...quick,
        dataset,
        epochs: 1,
        finetuneEpochs: 0,
        trainLimit: 2000,
        testLimit: 500,
        baseModel,
        freezeLayers: 3,
      };
      return createQueuedRun(name, config);
    };
    const { registerModelVersion } = await graphql<{
      registerModelVersion: { id: string; version: number };
    }>(stack.apiUrl, stack.tokens.editor, REGISTER_MODEL, { name: "digits", runId: base.id });
    await graphql(stack.apiUrl, stack.tokens.editor, PROMOTE, {
      alias: "production",
      versionId: registerModelVersion.id,
    });
    const transfer = await createRun("transfer", `run:${base.id}`);
    const fromModel = await createRun("from-model", "model:digits@production");
    // The worker has MNIST_DIR set: a Fashion-MNIST run must still read Fashion-MNIST.
    const fashion = await createRun("fashion", `run:${base.id}`, "fashion-mnist");
    const missing = await createRun("missing-base", "run:00000000-0000-4000-8000-000000000000");

    const finished = await waitFor(
      "the transfer runs to finish",
      async () => {
        const rows = await stack.prisma.run.findMany({
          where: {
            id: { in: [transfer.id, fromModel.id, fashion.id, missing.id] },
            status: { in: ["succeeded", "failed"] },
          },
        });
        return rows.length === 4 ? rows : undefined;
      },
      SWEEP_TIMEOUT_MS,
    );
    const transferRow = finished.find((run) => run.id === transfer.id);
    const fromModelRow = finished.find((run) => run.id === fromModel.id);
    const fashionRow = finished.find((run) => run.id === fashion.id);
    const missingRow = finished.find((run) => run.id === missing.id);

    expect(transferRow?.status).toBe("succeeded");
    expect(transferRow?.testAccuracy).toBeGreaterThan(0.8);
    expect(fromModelRow?.status).toBe("succeeded");
    expect(fashionRow?.error ?? null).toBeNull();
    expect(fashionRow?.status).toBe("succeeded");
    const conv1 = await Promise.all(
      [base.id, transfer.id, fromModel.id].map((runId) => layerBytes(runId, "conv1/")),
    );
    expect(conv1[0]?.length).toBe((3 * 3 * 1 * 32 + 32) * 4);
    expect(conv1[1]?.equals(conv1[0] as Buffer)).toBe(true);
    expect(conv1[2]?.equals(conv1[0] as Buffer)).toBe(true);

    expect(missingRow?.status).toBe("failed");
    expect(missingRow?.attempt).toBe(1);
    expect(missingRow?.error).toContain("no run has that id");
  });

  test("a stopped worker hands its run back", async () => {
    const quick = PRESETS.quick;
    if (!quick) throw new Error("The quick preset is missing from PRESETS.");
    const config = {
      ...quick,
      epochs: 3,
      finetuneEpochs: 0,
      trainLimit: 5000,
      testLimit: 1000,
    };
    const run = await createQueuedRun("handed-back", config);
    const pid = await waitFor(
      "a worker to start the run",
      async () => {
        const rows = await stack.prisma.$queryRaw<{ pid: number }[]>`
          SELECT w.pid FROM run r JOIN worker w ON w.id = r.worker_id
          WHERE r.id = ${run.id}::uuid AND r.status = 'running'`;
        return rows[0]?.pid;
      },
      SWEEP_TIMEOUT_MS,
    );

    await stack.killWorker(pid, "SIGTERM");

    const after = await stack.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(after.status).toBe("queued");
    expect(after.attempt).toBe(1);
    expect(after.workerId).toBeNull();
    expect(after.error).toContain("SIGTERM");
  });
});
