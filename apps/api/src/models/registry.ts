import path from "node:path";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { publish } from "../pubsub";
import { conflict, invalidInput, notFound } from "../server/errors";

export const DEFAULT_MODEL_NAME = "mnist-cnn";
export const DEFAULT_ALIAS = "production";
const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export function checkModelName(name: string, field = "name"): string {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw invalidInput([
      {
        field,
        message: `${JSON.stringify(name)} is invalid: use 1-64 letters, digits, . _ -, starting with a letter or digit`,
      },
    ]);
  }
  return name;
}

export function checkAlias(alias: string, field = "alias"): string {
  if (!ALIAS_PATTERN.test(alias)) {
    throw invalidInput([
      {
        field,
        message: `${JSON.stringify(alias)} is invalid: use 1-32 lowercase letters, digits, _ -, starting with a letter (e.g. production, staging)`,
      },
    ]);
  }
  return alias;
}

/** The run's final model: the model.json among its "model" artifacts (weights sit beside it). */
async function findModelArtifact(prisma: PrismaClient, runId: string): Promise<db.Artifact | null> {
  const artifacts = await prisma.artifact.findMany({
    where: { runId, kind: "model" },
    orderBy: { createdAt: "desc" },
  });
  return artifacts.find((artifact) => path.posix.basename(artifact.path) === "model.json") ?? null;
}

/**
 * Registers a succeeded run's final model as the next version of `name`. Versions are numbered
 * per name under a transaction-scoped advisory lock, so two concurrent registrations get 1 and 2.
 */
export async function registerModelVersion(
  prisma: PrismaClient,
  log: Logger,
  input: { runId: string; name: string; createdBy: string | null },
): Promise<db.ModelVersion> {
  const name = checkModelName(input.name);
  const run = await prisma.run.findUnique({ where: { id: input.runId } });
  if (!run) throw notFound("Run", input.runId);
  if (run.status !== "succeeded") {
    throw conflict(
      `Run ${run.id} is ${run.status}; only a succeeded run can become a model version.`,
    );
  }
  const model = await findModelArtifact(prisma, run.id);
  if (!model) {
    throw conflict(
      `Run ${run.id} has no final model artifact (model.json of kind "model"); it finished without uploading one, so rerun it with a current worker.`,
    );
  }

  const version = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('model_version'), hashtext(${name}))`;
    const latest = await tx.modelVersion.aggregate({ where: { name }, _max: { version: true } });
    return tx.modelVersion.create({
      data: {
        name,
        version: (latest._max.version ?? 0) + 1,
        runId: run.id,
        artifactPath: model.path,
        createdBy: input.createdBy,
        metrics: {
          testAccuracy: run.testAccuracy,
          testLoss: run.testLoss,
          bestValAccuracy: run.bestValAccuracy,
          durationSeconds: run.durationSeconds,
        },
      },
    });
  });
  log.info(
    { modelName: name, version: version.version, runId: run.id },
    "Model version registered",
  );
  return version;
}

/**
 * Points `alias` of the version's model at the version and appends the move to the alias history.
 * Promoting to the version the alias already has changes nothing and records nothing.
 */
export async function promote(
  prisma: PrismaClient,
  log: Logger,
  input: { versionId: string; alias: string; movedBy: string | null },
): Promise<db.ModelAlias> {
  const alias = checkAlias(input.alias);
  const version = await prisma.modelVersion.findUnique({ where: { id: input.versionId } });
  if (!version)
    throw notFound("Model version", input.versionId, "List versions with the models query.");

  const { row, moved, fromVersionId } = await prisma.$transaction(async (tx) => {
    // Locks the alias row (or the name, before the alias exists) so concurrent moves queue up
    // and each history event names the version it really moved from.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('model_alias'), hashtext(${`${version.name}/${alias}`}))`;
    const current = await tx.modelAlias.findUnique({
      where: { modelName_alias: { modelName: version.name, alias } },
    });
    if (current?.versionId === version.id)
      return { row: current, moved: false, fromVersionId: null };

    const movedAt = new Date();
    const updated = await tx.modelAlias.upsert({
      where: { modelName_alias: { modelName: version.name, alias } },
      create: {
        modelName: version.name,
        alias,
        versionId: version.id,
        movedBy: input.movedBy,
        movedAt,
      },
      update: { versionId: version.id, movedBy: input.movedBy, movedAt },
    });
    await tx.modelAliasEvent.create({
      data: {
        modelName: version.name,
        alias,
        fromVersionId: current?.versionId ?? null,
        toVersionId: version.id,
        movedBy: input.movedBy,
        movedAt,
      },
    });
    return { row: updated, moved: true, fromVersionId: current?.versionId ?? null };
  });

  if (moved) {
    log.info(
      {
        modelName: version.name,
        alias,
        version: version.version,
        fromVersionId,
        by: input.movedBy,
      },
      "Model alias moved",
    );
    await publish("MODEL_ALIAS_MOVED", { modelName: version.name, alias, versionId: version.id });
  }
  return row;
}
