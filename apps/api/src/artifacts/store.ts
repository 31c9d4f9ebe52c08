import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { assertCurrentAttempt, toRunState } from "../runs/state";
import { invalidInput, notFound } from "../server/errors";
import { CHECKPOINT_FOLDER, checkArtifactName, checkFileName, resolveArtifactPath } from "./names";

/** Checkpoints kept per run; older ones are deleted as new ones arrive. Resuming needs only the newest. */
export const KEEP_CHECKPOINTS = 3;
export const CHECKPOINT_FORMAT = "convnet-checkpoint/1";
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/** A checkpoint as stored on disk: one JSON file holding every file of the checkpoint in base64. */
export interface CheckpointBundle {
  format: typeof CHECKPOINT_FORMAT;
  phase: db.Phase;
  epoch: number;
  step: number;
  files: Record<string, string>;
}

export function decodeBase64(text: string, field: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64_PATTERN.test(text)) {
    throw invalidInput([{ field, message: "is not valid base64 (standard alphabet, padded)" }]);
  }
  return Buffer.from(text, "base64");
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
async function writeAtomically(
  file: string,
  bytes: Uint8Array,
): Promise<{ sha256: string; size: number }> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, file);
  return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.byteLength };
}

async function loadRunForUpload(
  prisma: PrismaClient,
  runId: string,
  attempt: number | null | undefined,
) {
  const run = await prisma.run.findUnique({
    where: { id: runId },
    select: { id: true, status: true, attempt: true, maxAttempts: true, workerId: true },
  });
  if (!run) throw notFound("Run", runId, "Check the run id.");
  assertCurrentAttempt(toRunState(run), attempt ?? run.attempt);
  return run;
}

/**
 * Stores one checkpoint of the current attempt under ARTIFACT_DIR/<runId>/checkpoints/ and keeps
 * the newest KEEP_CHECKPOINTS of the run. Storing the same step again replaces it.
 */
export async function storeCheckpoint(
  prisma: PrismaClient,
  log: Logger,
  artifactDir: string,
  input: {
    runId: string;
    attempt: number;
    phase: db.Phase;
    epoch: number;
    step: number;
    files: unknown;
  },
): Promise<db.Artifact> {
  const { runId, attempt, phase, epoch, step } = input;
  if (typeof input.files !== "object" || input.files === null || Array.isArray(input.files)) {
    throw invalidInput([{ field: "files", message: "must be an object {fileName: base64}" }]);
  }
  const entries = Object.entries(input.files as Record<string, unknown>);
  if (entries.length === 0) throw invalidInput([{ field: "files", message: "is empty" }]);
  for (const [name, content] of entries) {
    checkFileName(name, `files.${name}`);
    if (typeof content !== "string") {
      throw invalidInput([{ field: `files.${name}`, message: "must be a base64 string" }]);
    }
    decodeBase64(content, `files.${name}`);
  }
  await loadRunForUpload(prisma, runId, attempt);

  const name = `${CHECKPOINT_FOLDER}/step-${String(step).padStart(6, "0")}.json`;
  const bundle: CheckpointBundle = {
    format: CHECKPOINT_FORMAT,
    phase,
    epoch,
    step,
    files: Object.fromEntries(entries) as Record<string, string>,
  };
  const file = resolveArtifactPath(artifactDir, runId, name);
  const { sha256, size } = await writeAtomically(file, Buffer.from(JSON.stringify(bundle)));

  const artifact = await prisma.artifact.upsert({
    where: { runId_path: { runId, path: name } },
    create: { runId, kind: "checkpoint", phase, epoch, step, path: name, sizeBytes: size, sha256 },
    update: { phase, epoch, step, sizeBytes: size, sha256, createdAt: new Date() },
  });
  log.info({ runId, attempt, step, sizeBytes: size }, "Checkpoint stored");

  await pruneCheckpoints(prisma, log, artifactDir, runId);
  return artifact;
}

async function pruneCheckpoints(
  prisma: PrismaClient,
  log: Logger,
  artifactDir: string,
  runId: string,
): Promise<void> {
  const old = await prisma.artifact.findMany({
    where: { runId, kind: "checkpoint" },
    orderBy: { step: "desc" },
    skip: KEEP_CHECKPOINTS,
  });
  if (old.length === 0) return;
  await prisma.artifact.deleteMany({ where: { id: { in: old.map((artifact) => artifact.id) } } });
  for (const artifact of old) {
    await rm(resolveArtifactPath(artifactDir, runId, artifact.path), { force: true }).catch(
      (error: unknown) =>
        log.warn(
          { err: error, runId, path: artifact.path },
          "Deleting an old checkpoint file failed",
        ),
    );
  }
}

export type UploadKind = Exclude<db.ArtifactKind, "checkpoint">;

/**
 * Stores a file of a running run (the final model, a plot) at ARTIFACT_DIR/<runId>/<name>.
 * `attempt`, when given, must be the run's current one. Uploading the same name again replaces it.
 */
export async function storeArtifact(
  prisma: PrismaClient,
  log: Logger,
  artifactDir: string,
  input: {
    runId: string;
    name: string;
    contentBase64: string;
    kind?: string | null;
    attempt?: number | null;
  },
): Promise<db.Artifact> {
  const { runId, name } = input;
  checkArtifactName(name);
  if (name === CHECKPOINT_FOLDER || name.startsWith(`${CHECKPOINT_FOLDER}/`)) {
    throw invalidInput([
      {
        field: "name",
        message: `${JSON.stringify(name)} is reserved for checkpoints; use putCheckpoint`,
      },
    ]);
  }
  const kind = input.kind ?? "other";
  if (kind !== "model" && kind !== "other") {
    throw invalidInput([
      { field: "kind", message: `${JSON.stringify(kind)} is invalid: use "model" or "other"` },
    ]);
  }
  const bytes = decodeBase64(input.contentBase64, "contentBase64");
  await loadRunForUpload(prisma, runId, input.attempt);

  const { sha256, size } = await writeAtomically(
    resolveArtifactPath(artifactDir, runId, name),
    bytes,
  );
  const artifact = await prisma.artifact.upsert({
    where: { runId_path: { runId, path: name } },
    create: { runId, kind, path: name, sizeBytes: size, sha256 },
    update: { kind, sizeBytes: size, sha256, createdAt: new Date() },
  });
  log.info({ runId, path: name, kind, sizeBytes: size }, "Artifact stored");
  return artifact;
}
