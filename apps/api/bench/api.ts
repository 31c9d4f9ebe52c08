import "reflect-metadata";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, PRESETS, SEED_RECIPE } from "@convnet/shared";
import { createPrismaClient, migrate, type PrismaClient } from "@convnet/shared/db";
import pg from "pg";
import { createApiToken } from "../src/auth/tokens";
import { claimNextRun } from "../src/queue/claim";
import { registerWorker } from "../src/runs/lifecycle";

/*
 * Measures the API from outside, over HTTP, against a separate API process on a fresh database:
 *   1. logMetrics ingest (points/s) with batches of 1, 100 and 1,000 points from 8 concurrent clients,
 *      in the packed form the worker sends (logMetrics_ingest), then with one object per point
 *      (logMetrics_ingest_points);
 *   2. metricSeries latency (p50/p95) for 100 runs x 4 keys x 1,000 steps at maxPoints 500, in the
 *      packed form (and its first, uncached request) and in the points form;
 *   3. runs latency (p50/p95) for one page of 50 out of 10,000 runs, sorted by a hyperparameter
 *      with a hyperparameter range and a metric threshold.
 * Run: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:api [-- --json]
 * The database named in DATABASE_URL is only used to create and drop a scratch database.
 */

const CLIENTS = 8;
/** Requests per client for each batch size: enough for a few seconds of load at each size. */
const INGEST_PLAN: [batch: number, requestsPerClient: number][] = [
  [1, 250],
  [100, 60],
  [1_000, 15],
];
const SERIES_RUNS = 100;
const SERIES_KEYS = ["loss", "accuracy", "val_loss", "val_accuracy"];
const SERIES_STEPS = 1_000;
const SERIES_MAX_POINTS = 500;
const TABLE_RUNS = 10_000;
const LATENCY_SAMPLES = 20;
/** Samples for the points form of metricSeries, which takes seconds per request. */
const POINTS_SAMPLES = 5;

const json = process.argv.includes("--json");
const log = createLogger("bench-api");

interface Figure {
  measure: string;
  batch: number | null;
  value: number;
  unit: string;
}

function report(figure: Figure, text: string): void {
  console.log(json ? JSON.stringify(figure) : text);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `npm run api` as a child with an IPC channel, so it exits if the benchmark dies. */
async function startApi(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const root = path.resolve(import.meta.dirname, "../../..");
  const child = spawn(process.execPath, ["--import", "tsx", "apps/api/src/main.ts"], {
    cwd: root,
    // The benchmark's runs never heartbeat; the longest timeout keeps the reaper off them.
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      API_PORT: String(port),
      API_HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      HEARTBEAT_TIMEOUT_SECONDS: "3600",
      // As scripts/start.ts and docker-compose.yml run the API.
      NODE_ENV: "production",
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (child.exitCode !== null)
      throw new Error(`The API exited with code ${child.exitCode} during start.`);
    const healthy = await fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { url: `${base}/graphql`, child };
    await sleep(100);
  }
  child.kill("SIGTERM");
  throw new Error("The API did not respond on /healthz within 60 s.");
}

function graphql(url: string, token: string) {
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors || !body.data)
      throw new Error(`Request failed: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
}

function percentile(sorted: number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function claimRuns(prisma: PrismaClient, count: number) {
  const config = PRESETS.quick ?? SEED_RECIPE;
  await prisma.run.createMany({
    data: Array.from({ length: count }, (_, index) => ({
      name: `ingest-${index}`,
      hyperparameters: {},
      config,
      architecture: config.architecture,
      dataset: config.dataset,
      seed: index,
      totalSteps: 3,
    })),
  });
  const claimed: { runId: string; attempt: number }[] = [];
  for (let index = 0; index < count; index += 1) {
    const worker = await registerWorker(prisma, { name: `bench-${index}`, host: "bench" });
    const claim = await claimNextRun(prisma, worker.id);
    if (!claim) throw new Error("The benchmark could not claim a run for ingest.");
    claimed.push({ runId: claim.run.id, attempt: claim.run.attempt });
  }
  return claimed;
}

type IngestForm = "packed" | "points";

/** The logMetrics variables for one batch of `batch` points from `firstStep` on, in either form. */
function ingestBatch(form: IngestForm, key: string, firstStep: number, batch: number) {
  const steps = Array.from({ length: batch }, (_, offset) => firstStep + offset);
  if (form === "points") {
    return {
      points: steps.map((step) => ({ phase: "train", key, step, epoch: 1, value: Math.random() })),
    };
  }
  const values = Float64Array.from(steps, () => Math.random());
  return {
    packed: {
      keys: [key],
      keyIndexes: steps.map(() => 0),
      phases: steps.map(() => "train"),
      steps,
      epochs: steps.map(() => 1),
      // Little-endian, as the x86 and ARM hosts this runs on store float64.
      values: Buffer.from(values.buffer).toString("base64"),
    },
  };
}

async function benchIngest(prisma: PrismaClient, url: string, token: string): Promise<void> {
  const request = graphql(url, token);
  const runs = await claimRuns(prisma, CLIENTS);
  const mutations: Record<IngestForm, string> = {
    packed: `mutation ($runId: ID!, $attempt: Int!, $packed: PackedMetricsInput!) {
      logMetrics(runId: $runId, attempt: $attempt, packed: $packed) }`,
    points: `mutation ($runId: ID!, $attempt: Int!, $points: [MetricInput!]!) {
      logMetrics(runId: $runId, attempt: $attempt, points: $points) }`,
  };

  for (const form of ["packed", "points"] as const) {
    for (const [batch, requests] of INGEST_PLAN) {
      const key = `bench_${form}_batch_${batch}`;
      const started = performance.now();
      await Promise.all(
        runs.map(async ({ runId, attempt }) => {
          for (let index = 0; index < requests; index += 1) {
            const variables = ingestBatch(form, key, index * batch + 1, batch);
            await request(mutations[form], { runId, attempt, ...variables });
          }
        }),
      );
      const seconds = (performance.now() - started) / 1_000;
      const points = CLIENTS * requests * batch;
      const rate = Math.round(points / seconds);
      const measure = form === "packed" ? "logMetrics_ingest" : "logMetrics_ingest_points";
      report(
        { measure, batch, value: rate, unit: "points/s" },
        `logMetrics ingest (${form}), batch ${batch}, ${CLIENTS} clients: ${points} points in ${seconds.toFixed(2)} s = ${rate} points/s`,
      );
    }
  }
}

async function measureLatency(
  run: () => Promise<unknown>,
  { samples: count, warmups } = { samples: LATENCY_SAMPLES, warmups: 3 },
): Promise<{ p50: number; p95: number }> {
  for (let warmup = 0; warmup < warmups; warmup += 1) await run();
  const samples: number[] = [];
  for (let sample = 0; sample < count; sample += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

async function benchMetricSeries(prisma: PrismaClient, url: string, token: string): Promise<void> {
  const request = graphql(url, token);
  await prisma.run.createMany({
    data: Array.from({ length: SERIES_RUNS }, (_, index) => ({
      name: `series-${index}`,
      hyperparameters: {},
      config: SEED_RECIPE,
      architecture: SEED_RECIPE.architecture,
      dataset: SEED_RECIPE.dataset,
      seed: index,
      totalSteps: 20,
    })),
  });
  await prisma.$executeRaw`
    INSERT INTO metric_point (run_id, phase, key, step, epoch, value, wall_time)
    SELECT r.id, 'train', k, s, 1 + s / 50, random(), now()
    FROM run r, unnest(${SERIES_KEYS}::text[]) AS k, generate_series(1, ${SERIES_STEPS}) AS s
    WHERE r.name LIKE 'series-%'`;
  await prisma.$executeRawUnsafe("ANALYZE metric_point");
  const runIds = (
    await prisma.run.findMany({ where: { name: { startsWith: "series-" } }, select: { id: true } })
  ).map((run) => run.id);

  const variables = { runIds, keys: SERIES_KEYS, maxPoints: SERIES_MAX_POINTS };
  const shape = `${SERIES_RUNS} runs x ${SERIES_KEYS.length} keys x ${SERIES_STEPS} steps, maxPoints ${SERIES_MAX_POINTS}`;

  // The packed form, the one for dashboards, with the same columns as the points query below.
  const packedQuery = `query ($runIds: [ID!]!, $keys: [String!]!, $maxPoints: Int) {
    metricSeries(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
      runId key downsampled packed { length steps values mins maxs } } }`;
  const started = performance.now();
  const result = await request<{ metricSeries: { packed: { length: number } }[] }>(
    packedQuery,
    variables,
  );
  const cold = performance.now() - started;
  checkSeriesShape(result.metricSeries.map((series) => series.packed.length));
  report(
    { measure: "metricSeries_packed_cold", batch: null, value: round(cold), unit: "ms" },
    `metricSeries packed, first request, nothing cached (${shape}): ${cold.toFixed(1)} ms`,
  );
  const packed = await measureLatency(() => request(packedQuery, variables));
  report(
    { measure: "metricSeries_p50", batch: null, value: round(packed.p50), unit: "ms" },
    `metricSeries packed p50 (${shape}): ${packed.p50.toFixed(1)} ms`,
  );
  report(
    { measure: "metricSeries_p95", batch: null, value: round(packed.p95), unit: "ms" },
    `metricSeries packed p95 (${shape}): ${packed.p95.toFixed(1)} ms`,
  );

  // One GraphQL object per point: 200,000 of them, seconds per request, so fewer samples.
  const pointsQuery = `query ($runIds: [ID!]!, $keys: [String!]!, $maxPoints: Int) {
    metricSeries(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
      runId key downsampled points { step value min max } } }`;
  const pointsResult = await request<{ metricSeries: { points: unknown[] }[] }>(
    pointsQuery,
    variables,
  );
  // This first request also warms the API up for the points form.
  checkSeriesShape(pointsResult.metricSeries.map((series) => series.points.length));
  const points = await measureLatency(() => request(pointsQuery, variables), {
    samples: POINTS_SAMPLES,
    warmups: 0,
  });
  report(
    { measure: "metricSeries_points_p50", batch: null, value: round(points.p50), unit: "ms" },
    `metricSeries points p50 (${shape}, ${POINTS_SAMPLES} samples): ${points.p50.toFixed(1)} ms`,
  );
  report(
    { measure: "metricSeries_points_p95", batch: null, value: round(points.p95), unit: "ms" },
    `metricSeries points p95 (${shape}, ${POINTS_SAMPLES} samples): ${points.p95.toFixed(1)} ms`,
  );
}

function checkSeriesShape(lengths: number[]): void {
  const longest = Math.max(...lengths);
  if (lengths.length !== SERIES_RUNS * SERIES_KEYS.length || longest > SERIES_MAX_POINTS) {
    throw new Error(
      `metricSeries returned ${lengths.length} lines, the longest ${longest} points.`,
    );
  }
}

async function benchRunsTable(prisma: PrismaClient, url: string, token: string): Promise<void> {
  const request = graphql(url, token);
  for (let offset = 0; offset < TABLE_RUNS; offset += 2_000) {
    await prisma.run.createMany({
      data: Array.from({ length: 2_000 }, (_, index) => {
        const n = offset + index;
        const config = {
          ...SEED_RECIPE,
          learningRate: 1e-4 * (1 + (n % 100)),
          dropout: (n % 10) / 20,
        };
        return {
          name: `table-${n}`,
          status: "succeeded" as const,
          hyperparameters: { learningRate: config.learningRate, dropout: config.dropout },
          config,
          architecture: config.architecture,
          dataset: config.dataset,
          seed: n,
          totalSteps: 20,
          testAccuracy: 0.9 + (n % 1000) / 10_000,
        };
      }),
    });
  }
  await prisma.$executeRawUnsafe("ANALYZE run");

  const query = `query ($filter: RunFilter, $sort: RunSort) {
    runs(first: 50, filter: $filter, sort: $sort) { totalCount edges { node { id name hyperparameters testAccuracy } } } }`;
  const variables = {
    filter: {
      hyperparameters: [{ name: "dropout", min: 0.1, max: 0.3 }],
      metrics: [{ metric: "testAccuracy", min: 0.93 }],
    },
    sort: { field: "hp.learningRate", direction: "desc" },
  };
  const { p50, p95 } = await measureLatency(() => request(query, variables));
  report(
    { measure: "runs_page_p50", batch: null, value: round(p50), unit: "ms" },
    `runs page of 50 out of ${TABLE_RUNS}+ runs, hp filter + sort, p50: ${p50.toFixed(1)} ms`,
  );
  report(
    { measure: "runs_page_p95", batch: null, value: round(p95), unit: "ms" },
    `runs page of 50 out of ${TABLE_RUNS}+ runs, hp filter + sort, p95: ${p95.toFixed(1)} ms`,
  );
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    throw new Error(
      "Set DATABASE_URL to a PostgreSQL server; the benchmark creates and drops a database of its own there.",
    );
  }
  const name = `convnet_bench_api_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const databaseUrl = withDatabase(serverUrl, name);
  const prisma = createPrismaClient(databaseUrl, 4);
  let api: { url: string; child: ChildProcess } | undefined;
  try {
    await migrate(databaseUrl, log);
    api = await startApi(databaseUrl);
    const worker = await createApiToken(prisma, { role: "worker", label: "bench worker" });
    const viewer = await createApiToken(prisma, { role: "viewer", label: "bench viewer" });
    await benchIngest(prisma, api.url, worker.token);
    await benchMetricSeries(prisma, api.url, viewer.token);
    await benchRunsTable(prisma, api.url, viewer.token);
  } finally {
    if (api && api.child.exitCode === null) {
      const exited = new Promise((resolve) => api?.child.once("exit", resolve));
      api.child.kill("SIGTERM");
      await exited;
    }
    await prisma.$disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
