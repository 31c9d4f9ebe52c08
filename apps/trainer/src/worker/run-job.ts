import { rm } from "node:fs/promises";
import path from "node:path";
import { type Dataset, type Logger, type Phase, validateRunConfig } from "@convnet/shared";
import { type Checkpoint, DirectoryCheckpointStore } from "../checkpoint";
import { type EpochReport, InvalidRunConfigError, type RunResult, trainRun } from "../train";
import { type ApiClient, ApiError, LogLimiter, type RetryPolicy } from "./api-client";
import { apiBaseModelLoader } from "./base-model";
import {
  type ClaimedRunData,
  FAIL_RUN,
  FINISH_RUN,
  HEARTBEAT,
  type HeartbeatData,
  LOG_METRICS,
  PUT_ARTIFACT,
  PUT_CHECKPOINT,
} from "./operations";
import { Outbox } from "./outbox";
import { UploadingCheckpointStore } from "./uploading-store";

export type ClaimedRun = NonNullable<ClaimedRunData["claimRun"]>;
export type RunOutcome = "succeeded" | "failed" | "requeued" | "taken-away";

export interface WorkerContext {
  api: ApiClient;
  workerId: string;
  log: Logger;
  /** Folder for local checkpoint copies; each run gets a subfolder, removed when it ends. */
  scratchDir: string;
  /** Local copy of each data set, where the worker's configuration names one. */
  dataDirs: Partial<Record<Dataset, string>>;
  heartbeatIntervalMs: number;
  /** Aborts when the worker is asked to stop (SIGINT, SIGTERM, parent gone). */
  shutdown: AbortSignal;
}

/** Reason for stopping a run's training from outside. */
class StopRun extends Error {
  override name = "StopRun";

  constructor(
    message: string,
    readonly kind: "taken-away" | "shutdown" | "rejected",
  ) {
    super(message);
  }
}

/** How long a stopping worker keeps trying to hand its run back before it exits anyway. */
const SHUTDOWN_RETRY: RetryPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 2_000,
  maxElapsedMs: 10_000,
};

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function encodeFiles(files: Record<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, toBase64(bytes)]));
}

/**
 * Metric points of one epoch, one per metric key at the epoch's step, in logMetrics' packed form:
 * parallel arrays, values as base64 of little-endian float64 bytes.
 */
export function epochPoints(report: EpochReport) {
  const entries = Object.entries(report.metrics);
  const bytes = new DataView(new ArrayBuffer(8 * entries.length));
  entries.forEach(([, value], index) => {
    bytes.setFloat64(8 * index, value, true);
  });
  const wallTime = Date.now();
  return {
    keys: entries.map(([key]) => key),
    keyIndexes: entries.map((_, index) => index),
    phases: entries.map(() => report.phase),
    steps: entries.map(() => report.step),
    epochs: entries.map(() => report.epoch),
    values: Buffer.from(bytes.buffer).toString("base64"),
    wallTimes: entries.map(() => wallTime),
  };
}

async function downloadCheckpoint(
  context: WorkerContext,
  resumeFrom: NonNullable<ClaimedRun["resumeFrom"]>,
): Promise<Checkpoint> {
  const bytes = await context.api.downloadArtifact(resumeFrom.id, context.shutdown);
  const bundle = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
    phase: Phase;
    epoch: number;
    step: number;
    files: Record<string, string>;
  };
  const files: Record<string, Uint8Array> = {};
  for (const [name, content] of Object.entries(bundle.files)) {
    files[name] = new Uint8Array(Buffer.from(content, "base64"));
  }
  return { phase: bundle.phase, epoch: bundle.epoch, step: bundle.step, files };
}

/**
 * Trains one claimed run to its end and reports it: metrics per epoch, a checkpoint per epoch,
 * heartbeats meanwhile, then the final model and result. Reports are buffered and retried while
 * the API is unreachable. Returns how the run ended for this worker.
 */
export async function runClaimedRun(
  context: WorkerContext,
  claim: ClaimedRun,
): Promise<RunOutcome> {
  const { api, workerId } = context;
  const { id: runId, attempt } = claim.run;
  const log = context.log.child({ runId, attempt });
  log.info({ name: claim.run.name, resumeFromStep: claim.resumeFrom?.step ?? null }, "Run claimed");

  const fail = async (
    error: string,
    retryable: boolean,
    policy?: RetryPolicy,
  ): Promise<RunOutcome> => {
    try {
      const data = await api.requestWithRetry<{ failRun: { status: string } }>(
        "failRun",
        FAIL_RUN,
        { runId, attempt, error, retryable },
        { policy },
      );
      log.warn({ error, retryable, status: data.failRun.status }, "Run reported as failed");
      return data.failRun.status === "queued" ? "requeued" : "failed";
    } catch (reportError) {
      log.error(
        { err: reportError, error },
        "Reporting the failure failed; the lease will expire instead",
      );
      return "failed";
    }
  };

  const checked = validateRunConfig(claim.config);
  if (!checked.ok) {
    const detail = checked.issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ");
    return fail(`The run's configuration is invalid: ${detail}`, false);
  }

  const controller = new AbortController();
  const stop = (reason: StopRun) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onShutdown = () => {
    const reason = context.shutdown.reason;
    const why = reason instanceof Error ? reason.message : String(reason);
    stop(new StopRun(`The worker is stopping (${why})`, "shutdown"));
  };
  if (context.shutdown.aborted) onShutdown();
  context.shutdown.addEventListener("abort", onShutdown, { once: true });

  const outbox = new Outbox(log, (error) => {
    const kind = error.code === "CONFLICT" ? "taken-away" : "rejected";
    stop(new StopRun(`The API rejected a report (${error.code}): ${error.message}`, kind));
  });
  const progress: { phase: Phase | null; epoch: number | null; step: number | null } = {
    phase: null,
    epoch: null,
    step: null,
  };

  // Reports retry for as long as the run is live, so their failures share one line a minute.
  const retryLog = new LogLimiter();
  let heartbeatFailures = 0;
  const heartbeatTimer = setInterval(() => {
    api
      .request<HeartbeatData>(
        HEARTBEAT,
        { workerId, runId, attempt, ...progress },
        { timeoutMs: context.heartbeatIntervalMs * 2 },
      )
      .then((data) => {
        heartbeatFailures = 0;
        if (!data.heartbeat)
          stop(new StopRun("The API says this attempt no longer owns the run", "taken-away"));
      })
      .catch((error: unknown) => {
        heartbeatFailures += 1;
        const heldBack = retryLog.take();
        if (heldBack !== null) {
          log.warn(
            { err: error, failures: heartbeatFailures, retriesNotLogged: heldBack },
            "Heartbeat failed; training goes on",
          );
        }
      });
  }, context.heartbeatIntervalMs);

  const localDir = path.join(context.scratchDir, runId);
  await rm(localDir, { recursive: true, force: true });
  const local = new DirectoryCheckpointStore(localDir);
  const store = new UploadingCheckpointStore(local, (checkpoint) => {
    const files = encodeFiles(checkpoint.files);
    outbox.push(`checkpoint step ${checkpoint.step}`, (signal) =>
      api.requestWithRetry(
        "putCheckpoint",
        PUT_CHECKPOINT,
        {
          runId,
          attempt,
          phase: checkpoint.phase,
          epoch: checkpoint.epoch,
          step: checkpoint.step,
          files,
        },
        { signal, timeoutMs: 120_000, logLimiter: retryLog },
      ),
    );
  });

  try {
    if (claim.resumeFrom) {
      await local.save(await downloadCheckpoint(context, claim.resumeFrom));
      log.info({ step: claim.resumeFrom.step }, "Resuming from the run's last checkpoint");
    }

    let result: RunResult;
    try {
      result = await trainRun(checked.config, {
        dataDir: context.dataDirs[checked.config.dataset],
        store,
        signal: controller.signal,
        loadBaseModel: apiBaseModelLoader(api, controller.signal),
        logger: log,
        onEpoch: (report) => {
          Object.assign(progress, { phase: report.phase, epoch: report.epoch, step: report.step });
          const packed = epochPoints(report);
          outbox.push(`metrics step ${report.step}`, (signal) =>
            api.requestWithRetry(
              "logMetrics",
              LOG_METRICS,
              { runId, attempt, packed },
              { signal, logLimiter: retryLog },
            ),
          );
        },
      });
    } catch (error) {
      const reason = controller.signal.reason;
      if (reason instanceof StopRun && reason.kind === "taken-away") {
        log.warn({ reason: reason.message }, "Run stopped: it was cancelled or taken away");
        return "taken-away";
      }
      if (reason instanceof StopRun && reason.kind === "rejected")
        return fail(reason.message, false);
      if (reason instanceof StopRun) {
        return fail(
          `Worker stopped during attempt ${attempt}: ${reason.message}`,
          true,
          SHUTDOWN_RETRY,
        );
      }
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      return fail(message, !(error instanceof InvalidRunConfigError));
    }

    await outbox.flush();
    await api.requestWithRetry(
      "putArtifact",
      PUT_ARTIFACT,
      {
        runId,
        attempt,
        name: "model/weights.bin",
        contentBase64: toBase64(result.model["weights.bin"] ?? new Uint8Array()),
        kind: "model",
      },
      { logLimiter: retryLog },
    );
    await api.requestWithRetry(
      "putArtifact",
      PUT_ARTIFACT,
      {
        runId,
        attempt,
        name: "model/model.json",
        contentBase64: toBase64(result.model["model.json"] ?? new Uint8Array()),
        kind: "model",
      },
      { logLimiter: retryLog },
    );
    await api.requestWithRetry(
      "finishRun",
      FINISH_RUN,
      {
        runId,
        attempt,
        result: {
          testLoss: result.testLoss,
          testAccuracy: result.testAccuracy,
          confusionMatrix: result.confusionMatrix,
          misclassified: result.misclassified,
          durationSeconds: result.durationSeconds,
          modelFile: "model/model.json",
        },
      },
      { logLimiter: retryLog },
    );
    log.info(
      { testAccuracy: result.testAccuracy, durationSeconds: result.durationSeconds },
      "Run finished",
    );
    return "succeeded";
  } catch (error) {
    if (error instanceof ApiError && error.code === "CONFLICT") {
      log.warn({ err: error }, "The API rejected this attempt's report; it no longer owns the run");
      return "taken-away";
    }
    if (context.shutdown.aborted) {
      return fail(
        `Worker stopped during attempt ${attempt}: ${(error as Error).message}`,
        true,
        SHUTDOWN_RETRY,
      );
    }
    return fail(error instanceof Error ? (error.stack ?? error.message) : String(error), true);
  } finally {
    clearInterval(heartbeatTimer);
    context.shutdown.removeEventListener("abort", onShutdown);
    outbox.close();
    await rm(localDir, { recursive: true, force: true }).catch((error: unknown) =>
      log.warn({ err: error, localDir }, "Removing the run's local checkpoints failed"),
    );
  }
}
