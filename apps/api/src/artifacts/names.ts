import path from "node:path";
import { invalidInput } from "../server/errors";

/**
 * One path segment: starts with a letter or digit (so never "." or ".."), then letters, digits,
 * dot, underscore or dash. Names are 1-4 such segments joined by "/", relative to the run's folder.
 */
const SEGMENT = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";
export const ARTIFACT_NAME_PATTERN = new RegExp(`^${SEGMENT}(?:/${SEGMENT}){0,3}$`);
export const FILE_NAME_PATTERN = new RegExp(`^${SEGMENT}$`);

/** Folder of a run's checkpoints; workers may not write into it with putArtifact. */
export const CHECKPOINT_FOLDER = "checkpoints";

/** Throws BAD_USER_INPUT unless `name` is a safe relative artifact path. */
export function checkArtifactName(name: string, field = "name"): void {
  if (!ARTIFACT_NAME_PATTERN.test(name)) {
    throw invalidInput([
      {
        field,
        message: `${JSON.stringify(name)} is invalid: use 1-4 segments joined by "/", each starting with a letter or digit and made of letters, digits, ".", "_" or "-" (e.g. "model/model.json")`,
      },
    ]);
  }
}

/** Throws BAD_USER_INPUT unless `name` is a single safe file name (no folder). */
export function checkFileName(name: string, field: string): void {
  if (!FILE_NAME_PATTERN.test(name)) {
    throw invalidInput([
      {
        field,
        message: `${JSON.stringify(name)} is invalid: use letters, digits, ".", "_" or "-", starting with a letter or digit`,
      },
    ]);
  }
}

/**
 * The absolute path of a run's artifact. The pattern check already rules out "..", absolute
 * paths and backslashes; the prefix check guards the folder even if the pattern is loosened.
 */
export function resolveArtifactPath(artifactDir: string, runId: string, name: string): string {
  checkArtifactName(name);
  const runDir = path.resolve(artifactDir, runId);
  const resolved = path.resolve(runDir, name);
  if (!resolved.startsWith(`${runDir}${path.sep}`)) {
    throw invalidInput([
      { field: "name", message: `${JSON.stringify(name)} points outside the run's folder` },
    ]);
  }
  return resolved;
}
