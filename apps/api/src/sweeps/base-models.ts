import { BASE_MODEL_FORMS, parseBaseModelReference } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/prisma";
import type { FieldError } from "../server/errors";
import type { PlannedRun } from "./search-space";

/**
 * Checks that every baseModel of a sweep's runs names something a worker can load: a succeeded
 * run with a saved model, or a registered model version. Workers cannot read the paths of the
 * machine that launched the sweep, so a path is rejected here rather than failing every run.
 */
export async function checkBaseModels(
  prisma: PrismaClient,
  runs: PlannedRun[],
  inSearchSpace: boolean,
): Promise<FieldError[]> {
  const field = inSearchSpace ? "searchSpace.baseModel" : "baseConfig.baseModel";
  const references = new Set(
    runs.flatMap((run) => (run.config.baseModel === undefined ? [] : [run.config.baseModel])),
  );
  const errors: FieldError[] = [];
  for (const reference of references) {
    const problem = await findProblem(prisma, reference);
    if (problem !== null) errors.push({ field, message: `"${reference}" ${problem}` });
  }
  return errors;
}

async function findProblem(prisma: PrismaClient, reference: string): Promise<string | null> {
  const parsed = parseBaseModelReference(reference);
  if (parsed.kind === "run") {
    const run = await prisma.run.findUnique({ where: { id: parsed.runId } });
    if (run === null) return "names no run; use the id of a succeeded run";
    const model = await prisma.artifact.findFirst({
      where: { runId: run.id, kind: "model", path: { endsWith: "model.json" } },
    });
    return model === null
      ? `names a ${run.status} run without a saved model; use a succeeded run`
      : null;
  }

  if (parsed.kind === "model") {
    const { name, selector } = parsed;
    const versions = await prisma.modelVersion.findMany({
      where: { name },
      include: { aliases: true },
    });
    if (versions.length === 0)
      return `names no registered model ${name}; register a run's model first`;
    if (selector === undefined) return null;
    const found = versions.some(
      (version) =>
        String(version.version) === selector ||
        version.aliases.some((alias) => alias.alias === selector),
    );
    return found ? null : `names no version or alias "${selector}" of model ${name}`;
  }

  return `is not a reference a worker can load; use ${BASE_MODEL_FORMS}`;
}
