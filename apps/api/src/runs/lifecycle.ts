import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { publish } from "../pubsub";
import { notifyClaimable } from "../queue/wakeups";
import { invalidInput, notFound } from "../server/errors";
import { applyRunEvent } from "./commands";
import { reopenSweep } from "./scheduler";

/** Maximum length of the error text kept on a run row; a longer stack trace is cut. */
const MAX_ERROR_LENGTH = 8_000;

export interface WorkerRegistration {
  name: string;
  host: string;
  pid?: number | null;
  backend?: string | null;
  versions?: unknown;
}

/** Creates the worker, or refreshes it when a worker of that name registers again after a restart. */
export async function registerWorker(
  prisma: PrismaClient,
  info: WorkerRegistration,
): Promise<db.Worker> {
  if (!/^[\w.:@-]{1,128}$/.test(info.name)) {
    throw invalidInput([
      {
        field: "info.name",
        message: `${JSON.stringify(info.name)} is invalid: use 1-128 letters, digits, _ . : @ -`,
      },
    ]);
  }
  const now = new Date();
  const fields = {
    host: info.host,
    pid: info.pid ?? null,
    backend: info.backend ?? null,
    versions: (info.versions ?? undefined) as db.Prisma.InputJsonValue | undefined,
    lastHeartbeatAt: now,
  };
  return prisma.worker.upsert({
    where: { name: info.name },
    create: { name: info.name, ...fields },
    update: { ...fields, startedAt: now },
  });
}

export async function requireWorker(prisma: PrismaClient, workerId: string): Promise<db.Worker> {
  const worker = await prisma.worker.findUnique({ where: { id: workerId } });
  if (!worker)
    throw notFound("Worker", workerId, "Call registerWorker first and use the id it returns.");
  return worker;
}

export interface HeartbeatInput {
  workerId: string;
  runId?: string | null;
  attempt?: number | null;
  phase?: db.Phase | null;
  epoch?: number | null;
  step?: number | null;
}

/**
 * Records that a worker is alive and, with `runId`, extends its lease on that run. Returns false
 * when the worker must stop the run: it was cancelled, finished, or taken away and handed to
 * another attempt.
 */
export async function heartbeat(prisma: PrismaClient, input: HeartbeatInput): Promise<boolean> {
  const now = new Date();
  const workers = await prisma.worker.updateMany({
    where: { id: input.workerId },
    data: { lastHeartbeatAt: now },
  });
  if (workers.count === 0) {
    throw notFound(
      "Worker",
      input.workerId,
      "Call registerWorker first and use the id it returns.",
    );
  }
  if (!input.runId) return true;

  const attempt = input.attempt ?? null;
  const step = input.step ?? null;
  const extended = await prisma.$executeRaw`
    UPDATE run SET
      heartbeat_at = ${now},
      phase = CASE WHEN ${step}::int >= step THEN COALESCE(${input.phase ?? null}::"Phase", phase) ELSE phase END,
      epoch = CASE WHEN ${step}::int >= step THEN COALESCE(${input.epoch ?? null}::int, epoch) ELSE epoch END,
      step = GREATEST(step, COALESCE(${step}::int, step))
    WHERE id = ${input.runId}::uuid AND status = 'running' AND worker_id = ${input.workerId}::uuid
      AND (${attempt}::int IS NULL OR attempt = ${attempt}::int)`;
  return extended > 0;
}

export interface FinishResult {
  testLoss: number;
  testAccuracy: number;
  confusionMatrix: number[][];
  misclassified: { index: number; label: number; predicted: number }[];
  durationSeconds: number;
  modelFile?: string | null;
}

function validateFinish(result: FinishResult): void {
  const issues: { field: string; message: string }[] = [];
  const size = result.confusionMatrix.length;
  if (size === 0 || result.confusionMatrix.some((row) => row.length !== size)) {
    issues.push({ field: "result.confusionMatrix", message: "must be a non-empty square matrix" });
  }
  if (result.confusionMatrix.flat().some((count) => count < 0)) {
    issues.push({ field: "result.confusionMatrix", message: "counts must be >= 0" });
  }
  if (!(result.testAccuracy >= 0 && result.testAccuracy <= 1)) {
    issues.push({
      field: "result.testAccuracy",
      message: `${result.testAccuracy} must be within [0, 1]`,
    });
  }
  if (!Number.isFinite(result.testLoss)) {
    issues.push({
      field: "result.testLoss",
      message: `${result.testLoss} must be a finite number`,
    });
  }
  if (!(result.durationSeconds >= 0)) {
    issues.push({
      field: "result.durationSeconds",
      message: `${result.durationSeconds} must be >= 0`,
    });
  }
  if (issues.length > 0) throw invalidInput(issues, "Invalid run result");
}

/** Marks the current attempt succeeded with its test results; `modelFile` must be an uploaded artifact. */
export async function finishRun(
  prisma: PrismaClient,
  log: Logger,
  runId: string,
  attempt: number,
  result: FinishResult,
): Promise<db.Run> {
  validateFinish(result);
  if (result.modelFile) {
    const model = await prisma.artifact.findUnique({
      where: { runId_path: { runId, path: result.modelFile } },
    });
    if (!model) {
      throw invalidInput([
        {
          field: "result.modelFile",
          message: `${JSON.stringify(result.modelFile)} was not uploaded for this run; putArtifact it first`,
        },
      ]);
    }
  }

  return applyRunEvent(
    prisma,
    log,
    runId,
    { type: "finish", attempt },
    {
      testLoss: result.testLoss,
      testAccuracy: result.testAccuracy,
      confusionMatrix: result.confusionMatrix,
      misclassified: result.misclassified,
      durationSeconds: result.durationSeconds,
    },
  );
}

/** Records a failed attempt; a retryable one goes back to the queue while attempts remain. */
export async function failRun(
  prisma: PrismaClient,
  log: Logger,
  input: { runId: string; attempt: number; error: string; retryable?: boolean | null },
): Promise<db.Run> {
  const error =
    input.error.trim().slice(0, MAX_ERROR_LENGTH) ||
    "The worker reported a failure without a message.";
  return applyRunEvent(prisma, log, input.runId, {
    type: "fail",
    attempt: input.attempt,
    error,
    retryable: input.retryable ?? false,
  });
}

/** Cancels a queued or running run; its worker stops at the next heartbeat. */
export async function cancelRun(prisma: PrismaClient, log: Logger, runId: string): Promise<db.Run> {
  return applyRunEvent(prisma, log, runId, { type: "cancel" });
}

/**
 * Queues a failed or cancelled run again with a fresh allowance of attempts; it resumes from its
 * last checkpoint. A finished sweep that owns the run reopens.
 */
export async function retryRun(prisma: PrismaClient, log: Logger, runId: string): Promise<db.Run> {
  const run = await applyRunEvent(prisma, log, runId, { type: "retry" });
  if (run.sweepId) {
    await reopenSweep(prisma, run.sweepId);
    await notifyClaimable(prisma, log);
    await publish("SWEEP_UPDATED", { sweepId: run.sweepId });
  }
  return run;
}
