import type { Phase } from "@convnet/shared";

/** The GraphQL documents the worker sends, with the shapes it reads back. */

export const REGISTER_WORKER = `mutation RegisterWorker($info: WorkerInfo!) {
  registerWorker(info: $info) { id name }
}`;
export interface RegisterWorkerData {
  registerWorker: { id: string; name: string };
}

export const CLAIM_RUN = `mutation ClaimRun($workerId: ID!, $waitSeconds: Int) {
  claimRun(workerId: $workerId, waitSeconds: $waitSeconds) {
    run { id name attempt maxAttempts sweepId }
    config
    resumeFrom { id step phase epoch sha256 }
  }
}`;
export interface ClaimedRunData {
  claimRun: {
    run: { id: string; name: string; attempt: number; maxAttempts: number; sweepId: string | null };
    config: unknown;
    resumeFrom: { id: string; step: number; phase: Phase; epoch: number; sha256: string } | null;
  } | null;
}

export const HEARTBEAT = `mutation Heartbeat($workerId: ID!, $runId: ID, $attempt: Int, $phase: Phase, $epoch: Int, $step: Int) {
  heartbeat(workerId: $workerId, runId: $runId, attempt: $attempt, phase: $phase, epoch: $epoch, step: $step)
}`;
export interface HeartbeatData {
  heartbeat: boolean;
}

export const LOG_METRICS = `mutation LogMetrics($runId: ID!, $attempt: Int!, $packed: PackedMetricsInput!) {
  logMetrics(runId: $runId, attempt: $attempt, packed: $packed)
}`;

export const PUT_CHECKPOINT = `mutation PutCheckpoint($runId: ID!, $attempt: Int!, $phase: Phase!, $epoch: Int!, $step: Int!, $files: JSON!) {
  putCheckpoint(runId: $runId, attempt: $attempt, phase: $phase, epoch: $epoch, step: $step, files: $files) { id }
}`;

export const PUT_ARTIFACT = `mutation PutArtifact($runId: ID!, $attempt: Int, $name: String!, $contentBase64: String!, $kind: String) {
  putArtifact(runId: $runId, attempt: $attempt, name: $name, contentBase64: $contentBase64, kind: $kind) { id path }
}`;

export const FINISH_RUN = `mutation FinishRun($runId: ID!, $attempt: Int!, $result: FinishInput!) {
  finishRun(runId: $runId, attempt: $attempt, result: $result) { id status }
}`;

export const FAIL_RUN = `mutation FailRun($runId: ID!, $attempt: Int!, $error: String!, $retryable: Boolean) {
  failRun(runId: $runId, attempt: $attempt, error: $error, retryable: $retryable) { id status }
}`;

export const RUN_MODEL_FILES = `query RunModelFiles($id: ID!) {
  run(id: $id) { id status modelFiles { id path } }
}`;

export const MODEL_VERSIONS = `query ModelVersions($name: String!) {
  model(name: $name) { name versions { version aliases run { id modelFiles { id path } } } }
}`;
