import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { waitForExit } from "@convnet/shared";
import { createPrismaClient, type PrismaClient } from "@convnet/shared/db";
import pg from "pg";
import { createApiToken } from "../../apps/api/src/auth/tokens";
import { waitForHttp } from "../../scripts/stack/wait-for-http";

const ROOT = path.resolve(import.meta.dirname, "../..");
const API_ENTRY = path.join(ROOT, "apps/api/src/main.ts");
const WORKER_ENTRY = path.join(ROOT, "apps/trainer/src/worker/main.ts");
const API_START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

export interface StackOptions {
  /** Maintenance database URL of the PostgreSQL server; the stack creates its own database there. */
  serverUrl: string;
  /** Worker processes to start with the API; more can be added with `startWorker()`. */
  workers?: number;
  heartbeatTimeoutSeconds?: number;
  /** Extra environment for the API and the workers (LOG_LEVEL, TRAINER_BACKEND, ...). */
  env?: Record<string, string>;
}

export interface Stack {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:41234/graphql. */
  apiUrl: string;
  databaseUrl: string;
  artifactDir: string;
  /** Folder with one log file per process (api.log, worker-<n>.log). */
  logDir: string;
  tokens: { editor: string; viewer: string; worker: string };
  /** Process ids of the worker processes started so far that are still running. */
  readonly workers: number[];
  prisma: PrismaClient;
  startWorker(): Promise<number>;
  /** Sends `signal` to one worker process and waits for it to exit. */
  killWorker(pid: number, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
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

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Starts a throwaway API (child process, free port, fresh database) and N worker processes, the
 * way `npm start` would, for tests that need the whole system. Children run under `node --import
 * tsx` so that a pid is the process itself (SIGKILL reaches the trainer), and they hold an IPC
 * channel, so they exit if the test process dies without calling `stop()`.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const name = `convnet_stack_${randomBytes(4).toString("hex")}`;
  await adminQuery(options.serverUrl, `CREATE DATABASE ${name}`);
  const databaseUrl = withDatabase(options.serverUrl, name);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "convnet-stack-"));
  const logDir = path.join(scratch, "logs");
  const artifactDir = path.join(scratch, "artifacts");
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}/graphql`;

  const baseEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl,
    DATA_DIR: path.join(scratch, "data"),
    ARTIFACT_DIR: artifactDir,
    API_HOST: "127.0.0.1",
    API_PORT: String(port),
    API_URL: apiUrl,
    HEARTBEAT_TIMEOUT_SECONDS: String(options.heartbeatTimeoutSeconds ?? 60),
    LOG_FORMAT: "json",
    LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? "info",
    ...options.env,
  };
  const children: ChildProcess[] = [];
  let workerCount = 0;

  const spawnChild = async (entry: string, logName: string, env: Record<string, string>) => {
    await mkdir(logDir, { recursive: true });
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const log = createWriteStream(path.join(logDir, logName));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
    return child;
  };

  const prisma = createPrismaClient(databaseUrl, 4);
  const stopProcesses = async (group: ChildProcess[]) => {
    for (const child of group) {
      if (child.exitCode === null && child.signalCode === null && child.pid) child.kill("SIGTERM");
    }
    for (const child of group) {
      if (!child.pid) continue;
      if (!(await waitForExit(child.pid, STOP_TIMEOUT_MS))) child.kill("SIGKILL");
    }
  };
  const stop = async () => {
    // Workers first, so that they can hand their runs back to a running API.
    await stopProcesses(children.slice(1));
    await stopProcesses(children.slice(0, 1));
    await prisma.$disconnect();
    await adminQuery(options.serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (!process.env.STACK_KEEP_LOGS) await rm(scratch, { recursive: true, force: true });
  };

  try {
    // As the start command runs it, not with vitest's NODE_ENV=test.
    const api = await spawnChild(API_ENTRY, "api.log", { ...baseEnv, NODE_ENV: "production" });
    await waitForHttp(
      `http://127.0.0.1:${port}/healthz`,
      API_START_TIMEOUT_MS,
      () => api.exitCode === null && api.signalCode === null,
    );

    const create = async (role: "editor" | "viewer" | "worker") =>
      (await createApiToken(prisma, { role, label: `stack-${role}` })).token;
    const tokens = {
      editor: await create("editor"),
      viewer: await create("viewer"),
      worker: await create("worker"),
    };

    const workerPids: number[] = [];
    const startWorker = async () => {
      workerCount += 1;
      const child = await spawnChild(WORKER_ENTRY, `worker-${workerCount}.log`, {
        ...baseEnv,
        API_TOKEN: tokens.worker,
      });
      if (!child.pid)
        throw new Error("A worker process did not start; see its log in the stack's log folder.");
      const pid = child.pid;
      workerPids.push(pid);
      child.once("exit", () => workerPids.splice(workerPids.indexOf(pid), 1));
      return pid;
    };
    for (let index = 0; index < (options.workers ?? 0); index++) await startWorker();

    return {
      apiUrl,
      databaseUrl,
      artifactDir,
      logDir,
      tokens,
      workers: workerPids,
      prisma,
      startWorker,
      killWorker: async (pid, signal = "SIGTERM") => {
        process.kill(pid, signal);
        await waitForExit(pid, STOP_TIMEOUT_MS);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Sends one GraphQL request with a token; throws on any GraphQL error so tests fail loudly. */
export async function graphql<T>(
  apiUrl: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(apiUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(
      `GraphQL request failed (HTTP ${response.status}): ${JSON.stringify(body.errors)}`,
    );
  }
  return body.data;
}
