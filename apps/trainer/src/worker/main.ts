import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import { selectBackend } from "../backend";
import { ApiClient } from "./api-client";
import {
  CLAIM_RUN,
  type ClaimedRunData,
  REGISTER_WORKER,
  type RegisterWorkerData,
} from "./operations";
import { runClaimedRun } from "./run-job";

/** How long one claim waits on the API for a run; the API caps it at 30 s. */
const CLAIM_WAIT_SECONDS = 20;

const log = createLogger("worker");

function heartbeatIntervalMs(timeoutSeconds: number): number {
  // Four heartbeats per timeout, so one or two lost requests do not cost the lease.
  return Math.min(5_000, Math.max(1_000, (timeoutSeconds * 1_000) / 4));
}

/** Aborts on SIGINT, SIGTERM or a closed IPC channel; a second signal exits at once. */
function watchForShutdown(): AbortSignal {
  const controller = new AbortController();
  const request = (reason: string) => {
    if (controller.signal.aborted) {
      log.warn({ reason }, "Second stop request; exiting without handing the run back");
      process.exit(130);
    }
    log.info({ reason }, "Stopping after the current batch");
    controller.abort(new Error(reason));
  };
  process.on("SIGINT", () => request("SIGINT"));
  process.on("SIGTERM", () => request("SIGTERM"));
  // Started by a parent with an IPC channel (the start command, test stacks): follow it when it dies.
  if (process.connected) process.once("disconnect", () => request("parent process exited"));
  return controller.signal;
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.API_TOKEN) {
    throw new SetupError(
      "API_TOKEN is not set, so the worker cannot call the API.",
      "Create a token with `npm run token -- create --role worker --label my-worker` and set API_TOKEN to it.",
    );
  }
  const shutdown = watchForShutdown();
  const name = `${os.hostname()}-${process.pid}`;
  const api = new ApiClient(config.apiUrl, config.API_TOKEN, log.child({ worker: name }));

  const backend = await selectBackend(config.TRAINER_BACKEND);
  const registered = await api.requestWithRetry<RegisterWorkerData>(
    "registerWorker",
    REGISTER_WORKER,
    {
      info: {
        name,
        host: os.hostname(),
        pid: process.pid,
        backend: backend.name,
        versions: backend.versions,
      },
    },
    { signal: shutdown },
  );
  const workerId = registered.registerWorker.id;
  const workerLog = log.child({ workerId, worker: name });
  const scratchDir = path.join(config.dataDir, "worker", name);
  workerLog.info(
    { apiUrl: config.apiUrl, backend: backend.name },
    "Worker registered; waiting for runs",
  );

  const context = {
    api,
    workerId,
    log: workerLog,
    scratchDir,
    // One folder for every data set would hand MNIST files to a Fashion-MNIST run.
    dataDirs: { mnist: config.MNIST_DIR, "fashion-mnist": config.FASHION_MNIST_DIR },
    heartbeatIntervalMs: heartbeatIntervalMs(config.HEARTBEAT_TIMEOUT_SECONDS),
    shutdown,
  };
  while (!shutdown.aborted) {
    const data = await api.requestWithRetry<ClaimedRunData>(
      "claimRun",
      CLAIM_RUN,
      { workerId, waitSeconds: CLAIM_WAIT_SECONDS },
      { signal: shutdown, timeoutMs: (CLAIM_WAIT_SECONDS + 15) * 1_000 },
    );
    if (!data.claimRun) continue;
    const outcome = await runClaimedRun(context, data.claimRun);
    workerLog.info({ runId: data.claimRun.run.id, outcome }, "Run ended for this worker");
  }

  await rm(scratchDir, { recursive: true, force: true });
  workerLog.info("Worker stopped");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof SetupError) {
      log.fatal({ fix: error.fix }, error.message);
      process.exit(1);
    }
    // A stop request that cut a claim or registration short is a normal exit.
    if (
      error instanceof Error &&
      (error.name === "AbortError" || /SIGINT|SIGTERM|parent process exited/.test(error.message))
    ) {
      log.info("Worker stopped");
      process.exit(0);
    }
    log.fatal({ err: error }, "Worker failed");
    process.exit(1);
  },
);
