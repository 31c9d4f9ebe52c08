import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createLogger, loadConfig, PRESETS } from "@convnet/shared";
import { createPrismaClient, migrate, type PrismaClient } from "@convnet/shared/db";
import pg from "pg";
import { createApiToken } from "../src/auth/tokens";
import { startPubSub, stopPubSub } from "../src/pubsub";
import { startQueue } from "../src/queue";
import { claimNextRun } from "../src/queue/claim";
import { registerWorker } from "../src/runs/lifecycle";
import { logMetrics, type MetricPointInput } from "../src/runs/metrics";
import { createApiServer } from "../src/server";

/*
 * Measures the run lifecycle's hot paths on a scratch database of the PostgreSQL at DATABASE_URL:
 *   1. concurrent claims: CLAIMERS workers drain RUNS queued runs; counts runs handed out twice;
 *   2. logMetrics through the service: BATCHES batches of BATCH points, for 1 and 4 runs at once;
 *   3. logMetrics through HTTP GraphQL on an in-process API server, same batches.
 * Run: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx apps/api/bench/lifecycle.ts
 */

const RUNS = 400;
const CLAIMERS = 8;
const BATCH = 1_000;
const BATCHES = 60;

const log = createLogger("bench-lifecycle");

function scratchUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function createRuns(prisma: PrismaClient, count: number): Promise<void> {
  const config = PRESETS.quick ?? {};
  await prisma.run.createMany({
    data: Array.from({ length: count }, (_, index) => ({
      name: `bench-${index}`,
      hyperparameters: {},
      config,
      architecture: "seed-cnn",
      dataset: "mnist",
      seed: index,
      totalSteps: 3,
    })),
  });
}

function batchOf(batch: number): MetricPointInput[] {
  return Array.from({ length: BATCH }, (_, index) => {
    const step = batch * BATCH + index + 1;
    return {
      phase: "train" as const,
      key: index % 2 === 0 ? "loss" : "accuracy",
      step,
      epoch: 1,
      value: Math.random(),
    };
  });
}

async function benchClaims(prisma: PrismaClient): Promise<void> {
  await createRuns(prisma, RUNS);
  const workers = await Promise.all(
    Array.from({ length: CLAIMERS }, (_, index) =>
      registerWorker(prisma, { name: `bench-claimer-${index}`, host: "bench" }),
    ),
  );
  const claimed: string[] = [];
  const started = performance.now();
  await Promise.all(
    workers.map(async (worker) => {
      for (;;) {
        const claim = await claimNextRun(prisma, worker.id);
        if (!claim) return;
        claimed.push(claim.run.id);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const duplicates = claimed.length - new Set(claimed).size;
  console.log(
    `claims: ${claimed.length} runs by ${CLAIMERS} concurrent claimers in ${seconds.toFixed(2)} s (${(claimed.length / seconds).toFixed(0)} claims/s), handed out twice: ${duplicates}`,
  );
}

async function claimOne(prisma: PrismaClient): Promise<{ runId: string; attempt: number }> {
  await createRuns(prisma, 1);
  const worker = await registerWorker(prisma, {
    name: `bench-metrics-${randomBytes(3).toString("hex")}`,
    host: "bench",
  });
  const claim = await claimNextRun(prisma, worker.id);
  if (!claim) throw new Error("The benchmark could not claim its run.");
  return { runId: claim.run.id, attempt: claim.run.attempt };
}

async function benchServiceIngest(prisma: PrismaClient, clients: number): Promise<void> {
  const runs = await Promise.all(Array.from({ length: clients }, () => claimOne(prisma)));
  const started = performance.now();
  await Promise.all(
    runs.map(async ({ runId, attempt }) => {
      for (let batch = 0; batch < BATCHES; batch++)
        await logMetrics(prisma, log, runId, attempt, batchOf(batch));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const points = clients * BATCHES * BATCH;
  console.log(
    `logMetrics (service, ${clients} concurrent runs): ${points} points in batches of ${BATCH} in ${seconds.toFixed(2)} s = ${(points / seconds).toFixed(0)} points/s`,
  );
}

async function benchHttpIngest(prisma: PrismaClient, databaseUrl: string): Promise<void> {
  const config = { ...loadConfig(), DATABASE_URL: databaseUrl };
  const pubsub = await startPubSub(databaseUrl, log);
  const queue = await startQueue(databaseUrl, prisma, log, { heartbeatTimeoutSeconds: 60 });
  const server = await createApiServer({ prisma, pubsub, config, log });
  const url = await server.listen(0, "127.0.0.1");
  try {
    const { token } = await createApiToken(prisma, { role: "worker", label: "bench" });
    const { runId, attempt } = await claimOne(prisma);
    const query = `mutation($runId: ID!, $attempt: Int!, $points: [MetricInput!]!) { logMetrics(runId: $runId, attempt: $attempt, points: $points) }`;
    const started = performance.now();
    for (let batch = 0; batch < BATCHES; batch++) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { runId, attempt, points: batchOf(batch) } }),
      });
      const body = (await response.json()) as { errors?: unknown };
      if (body.errors) throw new Error(`logMetrics failed: ${JSON.stringify(body.errors)}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `logMetrics (HTTP GraphQL, one client): ${BATCHES} x ${BATCH} points in ${seconds.toFixed(2)} s = ${((BATCHES * BATCH) / seconds).toFixed(0)} points/s`,
    );
  } finally {
    await server.close();
    await queue.stop();
    await stopPubSub(pubsub);
  }
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl)
    throw new Error(
      "Set DATABASE_URL to a PostgreSQL server; the benchmark creates and drops its own database there.",
    );
  const name = `convnet_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const databaseUrl = scratchUrl(serverUrl, name);
  const prisma = createPrismaClient(databaseUrl, CLAIMERS + 2);
  try {
    await migrate(databaseUrl, log);
    await benchClaims(prisma);
    await benchServiceIngest(prisma, 1);
    await benchServiceIngest(prisma, 4);
    await benchHttpIngest(prisma, databaseUrl);
  } finally {
    await prisma.$disconnect();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
