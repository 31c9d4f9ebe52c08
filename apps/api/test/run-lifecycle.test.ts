import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createLogger, PRESETS } from "@convnet/shared";
import { createPrismaClient, type PrismaClient } from "@convnet/shared/db";
import { GraphQLError } from "graphql";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { resolveArtifactPath } from "../src/artifacts/names";
import { KEEP_CHECKPOINTS, storeArtifact, storeCheckpoint } from "../src/artifacts/store";
import { claimNextRun } from "../src/queue/claim";
import { failRun, finishRun, heartbeat, registerWorker } from "../src/runs/lifecycle";
import {
  logMetrics,
  logPackedMetrics,
  type MetricPointInput,
  type PackedMetrics,
} from "../src/runs/metrics";
import { reapExpiredRuns } from "../src/runs/reaper";

const log = createLogger("run-lifecycle-test");
let prisma: PrismaClient;
let artifactDir: string;

beforeAll(async () => {
  prisma = createPrismaClient(inject("databaseUrl"), 12);
  artifactDir = await mkdtemp(path.join(os.tmpdir(), "convnet-artifacts-"));
});

afterAll(async () => {
  await prisma.$disconnect();
  await rm(artifactDir, { recursive: true, force: true });
});

async function createSweep(runs: number, concurrency: number, maxAttempts = 3) {
  const config = PRESETS.quick;
  if (!config) throw new Error("The quick preset is missing");
  const sweep = await prisma.sweep.create({
    data: {
      name: `sweep-${Math.random().toString(36).slice(2, 8)}`,
      method: "grid",
      searchSpace: {},
      baseConfig: config,
      metric: "val_accuracy",
      direction: "maximize",
      runBudget: runs,
      concurrency,
    },
  });
  for (let index = 0; index < runs; index++) {
    await prisma.run.create({
      data: {
        sweepId: sweep.id,
        sweepIndex: index,
        name: `${sweep.name}-${index}`,
        hyperparameters: {},
        config,
        architecture: config.architecture,
        dataset: config.dataset,
        seed: config.seed,
        totalSteps: config.epochs + config.finetuneEpochs,
        maxAttempts,
      },
    });
  }
  return sweep;
}

async function newWorker(name = `worker-${Math.random().toString(36).slice(2, 8)}`) {
  return registerWorker(prisma, { name, host: "test-host", backend: "cpu" });
}

async function expectConflict(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  expect((error as GraphQLError).extensions.code).toBe("CONFLICT");
}

async function expectBadInput(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  expect((error as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
}

function epochPoints(step: number, valAccuracy: number): MetricPointInput[] {
  return [
    { phase: "train", key: "loss", step, epoch: step, value: 1 / step },
    { phase: "train", key: "val_accuracy", step, epoch: step, value: valAccuracy },
  ];
}

/** epochPoints(1, ...) and epochPoints(2, ...) in the packed form. */
function packedEpochs(valAccuracies: [number, number]): PackedMetrics {
  return {
    keys: ["loss", "val_accuracy"],
    keyIndexes: [0, 1, 0, 1],
    phases: ["train", "train", "train", "train"],
    steps: [1, 1, 2, 2],
    epochs: [1, 1, 2, 2],
    values: new Float64Array([1, valAccuracies[0], 0.5, valAccuracies[1]]),
    wallTimes: [1_700_000_000_000, 1_700_000_000_000, 1_700_000_001_000, 1_700_000_001_000],
  };
}

async function claimedRun() {
  await createSweep(1, 1);
  const claim = await claimNextRun(prisma, (await newWorker()).id);
  if (!claim) throw new Error("expected a claim");
  return claim.run;
}

async function badInputFields(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  expect((error as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
  const fields = (error as GraphQLError).extensions.fields as { field: string }[];
  return fields.map((entry) => entry.field);
}

describe("claimRun", () => {
  test("hands each run to one worker under concurrent claims", async () => {
    const sweep = await createSweep(12, 12);
    const workers = await Promise.all(Array.from({ length: 6 }, () => newWorker()));

    const claimed: string[] = [];
    await Promise.all(
      workers.map(async (worker) => {
        for (;;) {
          const claim = await claimNextRun(prisma, worker.id);
          if (!claim) return;
          claimed.push(claim.run.id);
        }
      }),
    );

    const ofSweep = await prisma.run.findMany({ where: { sweepId: sweep.id } });
    expect(claimed.filter((id) => ofSweep.some((run) => run.id === id))).toHaveLength(12);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(ofSweep.every((run) => run.status === "running" && run.attempt === 1)).toBe(true);
  });

  test("keeps a sweep within its concurrency", async () => {
    const sweep = await createSweep(5, 2);
    const workers = await Promise.all(Array.from({ length: 5 }, () => newWorker()));

    const claims = await Promise.all(workers.map((worker) => claimNextRun(prisma, worker.id)));

    const running = await prisma.run.count({ where: { sweepId: sweep.id, status: "running" } });
    expect(running).toBe(2);
    expect(claims.filter((claim) => claim?.run.sweepId === sweep.id)).toHaveLength(2);
  });
});

describe("stale attempts", () => {
  test("a report from a taken-away attempt is rejected", async () => {
    const sweep = await createSweep(1, 1);
    const first = await newWorker();
    const second = await newWorker();
    const claim = await claimNextRun(prisma, first.id);
    if (!claim) throw new Error("expected a claim");
    const runId = claim.run.id;
    expect(claim.run.sweepId).toBe(sweep.id);

    await prisma.run.update({
      where: { id: runId },
      data: { heartbeatAt: new Date(Date.now() - 60_000) },
    });
    const reaped = await reapExpiredRuns(prisma, log, 10);
    expect(reaped.map((run) => [run.id, run.status])).toContainEqual([runId, "queued"]);

    const again = await claimNextRun(prisma, second.id);
    expect(again?.run.id).toBe(runId);
    expect(again?.run.attempt).toBe(2);

    await expectConflict(logMetrics(prisma, log, runId, 1, epochPoints(1, 0.5)));
    await expectConflict(
      finishRun(prisma, log, runId, 1, {
        testLoss: 0.1,
        testAccuracy: 0.9,
        confusionMatrix: [[1]],
        misclassified: [],
        durationSeconds: 1,
      }),
    );
    await expectConflict(
      failRun(prisma, log, { runId, attempt: 1, error: "late", retryable: true }),
    );
    expect(await heartbeat(prisma, { workerId: first.id, runId, attempt: 1 })).toBe(false);
    expect(await heartbeat(prisma, { workerId: second.id, runId, attempt: 2 })).toBe(true);
  });

  test("a run is failed with its error after the last attempt", async () => {
    await createSweep(1, 1, 2);
    const worker = await newWorker();
    let runId = "";
    for (let attempt = 1; attempt <= 2; attempt++) {
      const claim = await claimNextRun(prisma, worker.id);
      if (!claim) throw new Error("expected a claim");
      runId = claim.run.id;
      expect(claim.run.attempt).toBe(attempt);
      await failRun(prisma, log, {
        runId,
        attempt,
        error: `out of memory ${attempt}`,
        retryable: true,
      });
    }
    const run = await prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe("failed");
    expect(run.error).toContain("out of memory 2");
    expect(run.finishedAt).not.toBeNull();
    const sweep = await prisma.sweep.findUniqueOrThrow({ where: { id: run.sweepId ?? "" } });
    expect(sweep.status).toBe("failed");
  });
});

describe("logMetrics", () => {
  test("a retried batch stores each point once", async () => {
    await createSweep(1, 1);
    const worker = await newWorker();
    const claim = await claimNextRun(prisma, worker.id);
    if (!claim) throw new Error("expected a claim");
    const { id: runId, attempt } = claim.run;

    const batch = [...epochPoints(1, 0.91), ...epochPoints(2, 0.95)];
    expect(await logMetrics(prisma, log, runId, attempt, batch)).toBe(4);
    expect(await logMetrics(prisma, log, runId, attempt, batch)).toBe(0);

    const points = await prisma.metricPoint.findMany({ where: { runId } });
    expect(points).toHaveLength(4);
    const run = await prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.step).toBe(2);
    expect(run.bestValAccuracy).toBeCloseTo(0.95);
  });
});

describe("logMetrics in the packed form", () => {
  test("a retried packed batch stores once", async () => {
    const { id: runId, attempt } = await claimedRun();

    expect(await logPackedMetrics(prisma, log, runId, attempt, packedEpochs([0.91, 0.95]))).toBe(4);
    expect(await logPackedMetrics(prisma, log, runId, attempt, packedEpochs([0.91, 0.95]))).toBe(0);

    const points = await prisma.metricPoint.findMany({ where: { runId }, orderBy: { id: "asc" } });
    expect(points.map((p) => [p.key, p.step, p.value])).toEqual([
      ["loss", 1, 1],
      ["val_accuracy", 1, 0.91],
      ["loss", 2, 0.5],
      ["val_accuracy", 2, 0.95],
    ]);
    expect(points[2]?.wallTime.getTime()).toBe(1_700_000_001_000);
    const run = await prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.step).toBe(2);
    expect(run.bestValAccuracy).toBeCloseTo(0.95);
  });

  test("packed batch equals points batch", async () => {
    const { id: runId, attempt } = await claimedRun();

    await logMetrics(prisma, log, runId, attempt, [
      ...epochPoints(1, 0.91),
      ...epochPoints(2, 0.95),
    ]);
    const retried = {
      ...packedEpochs([0.91, 0.95]),
      values: new Float64Array([1, 0.91, 0.5, 0.95]),
    };

    expect(await logPackedMetrics(prisma, log, runId, attempt, retried)).toBe(0);
  });

  test("rejects arrays of different lengths", async () => {
    const { id: runId, attempt } = await claimedRun();
    const packed = { ...packedEpochs([0.91, 0.95]), epochs: [1, 1, 2] };

    expect(await badInputFields(logPackedMetrics(prisma, log, runId, attempt, packed))).toEqual([
      "packed.epochs",
    ]);
    expect(await prisma.metricPoint.count({ where: { runId } })).toBe(0);
  });

  test("rejects values that are not finite", async () => {
    const { id: runId, attempt } = await claimedRun();
    const packed = packedEpochs([0.91, 0.95]);
    packed.values = new Float64Array([1, Number.NaN, 0.5, Number.POSITIVE_INFINITY]);

    expect(await badInputFields(logPackedMetrics(prisma, log, runId, attempt, packed))).toEqual([
      "packed.values[1]",
      "packed.values[3]",
    ]);
    expect(await prisma.metricPoint.count({ where: { runId } })).toBe(0);
  });

  test("rejects bad key index, phase, step", async () => {
    const { id: runId, attempt } = await claimedRun();
    const packed = {
      ...packedEpochs([0.91, 0.95]),
      keyIndexes: [0, 1, 2, 1],
      phases: ["train", "test", "train", "train"] as PackedMetrics["phases"],
      steps: [1, 1, -2, 2],
    };

    expect(await badInputFields(logPackedMetrics(prisma, log, runId, attempt, packed))).toEqual([
      "packed.phases[1]",
      "packed.keyIndexes[2]",
      "packed.steps[2]",
    ]);
  });

  test("rejects a taken-away attempt", async () => {
    const { id: runId, attempt } = await claimedRun();
    await prisma.run.update({
      where: { id: runId },
      data: { heartbeatAt: new Date(Date.now() - 60_000) },
    });
    await reapExpiredRuns(prisma, log, 10);
    const again = await claimNextRun(prisma, (await newWorker()).id);
    expect(again?.run).toMatchObject({ id: runId, attempt: attempt + 1 });

    await expectConflict(logPackedMetrics(prisma, log, runId, attempt, packedEpochs([0.9, 0.9])));
    expect(await prisma.metricPoint.count({ where: { runId } })).toBe(0);
  });
});

describe("artifacts", () => {
  test("names that leave the run folder are rejected", async () => {
    await createSweep(1, 1);
    const worker = await newWorker();
    const claim = await claimNextRun(prisma, worker.id);
    if (!claim) throw new Error("expected a claim");
    const runId = claim.run.id;
    const content = Buffer.from("x").toString("base64");

    for (const name of [
      "../escape",
      "model/../../x",
      "/etc/passwd",
      "a\\b",
      ".hidden",
      "a//b",
      "checkpoints/x",
    ]) {
      await expectBadInput(
        storeArtifact(prisma, log, artifactDir, { runId, name, contentBase64: content }),
      );
    }
    expect(() => resolveArtifactPath(artifactDir, runId, "..")).toThrow(GraphQLError);
    await expectBadInput(
      storeCheckpoint(prisma, log, artifactDir, {
        runId,
        attempt: 1,
        phase: "train",
        epoch: 1,
        step: 1,
        files: { "../weights.bin": content },
      }),
    );
    expect(await readdir(artifactDir)).toEqual([]);

    const stored = await storeArtifact(prisma, log, artifactDir, {
      runId,
      name: "model/model.json",
      contentBase64: content,
      kind: "model",
    });
    expect(stored.sha256).toBe("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
  });

  test("only the newest checkpoints are kept", async () => {
    await createSweep(1, 1);
    const worker = await newWorker();
    const claim = await claimNextRun(prisma, worker.id);
    if (!claim) throw new Error("expected a claim");
    const runId = claim.run.id;

    for (let step = 1; step <= KEEP_CHECKPOINTS + 2; step++) {
      await storeCheckpoint(prisma, log, artifactDir, {
        runId,
        attempt: 1,
        phase: "train",
        epoch: step,
        step,
        files: { "weights.bin": Buffer.from([step]).toString("base64") },
      });
    }
    const kept = await prisma.artifact.findMany({ where: { runId }, orderBy: { step: "asc" } });
    expect(kept.map((artifact) => artifact.step)).toEqual([3, 4, 5]);
    expect(await readdir(path.join(artifactDir, runId, "checkpoints"))).toHaveLength(
      KEEP_CHECKPOINTS,
    );
  });
});
