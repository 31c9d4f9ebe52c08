import path from "node:path";
import { BASE_MODEL_FORMS, parseBaseModelReference } from "@convnet/shared";
import { MODEL_JSON, WEIGHTS_BIN } from "../checkpoint";
import { type BaseModelLoader, baseModelError } from "../train/base-model";
import type { ApiClient } from "./api-client";
import { MODEL_VERSIONS, RUN_MODEL_FILES } from "./operations";

interface ModelFile {
  id: string;
  path: string;
}

interface RunModelFilesData {
  run: { id: string; status: string; modelFiles: ModelFile[] } | null;
}

interface ModelVersionsData {
  model: {
    name: string;
    versions: {
      version: number;
      aliases: string[];
      run: { id: string; modelFiles: ModelFile[] };
    }[];
  } | null;
}

/**
 * Resolves a baseModel reference through the API: "run:<id>" is that run's final model, and
 * "model:<name>" the latest version of a registered model, or "model:<name>@<alias or version>"
 * a chosen one. A worker has no access to the paths of the machine that launched the run.
 */
export function apiBaseModelLoader(api: ApiClient, signal?: AbortSignal): BaseModelLoader {
  return async (reference) => {
    const files = await findModelFiles(api, reference, signal);
    const result: Record<string, Uint8Array> = {};
    for (const file of files) {
      result[path.posix.basename(file.path)] = await api.downloadArtifact(file.id, signal);
    }
    return result;
  };
}

async function findModelFiles(
  api: ApiClient,
  reference: string,
  signal?: AbortSignal,
): Promise<ModelFile[]> {
  const parsed = parseBaseModelReference(reference);
  if (parsed.kind === "run") {
    const data = await api.requestWithRetry<RunModelFilesData>(
      "run",
      RUN_MODEL_FILES,
      { id: parsed.runId },
      { signal },
    );
    if (data.run === null) {
      throw baseModelError(`"${reference}": no run has that id; use the id of a succeeded run`);
    }
    return checkFiles(reference, data.run.modelFiles, `run ${data.run.id} is ${data.run.status}`);
  }

  if (parsed.kind === "model") {
    const { name, selector } = parsed;
    const data = await api.requestWithRetry<ModelVersionsData>(
      "model",
      MODEL_VERSIONS,
      { name },
      { signal },
    );
    if (data.model === null || data.model.versions.length === 0) {
      throw baseModelError(
        `"${reference}": no model named ${name} is registered; register a run's model under that name first`,
      );
    }
    const versions = [...data.model.versions].sort((a, b) => b.version - a.version);
    const chosen =
      selector === undefined
        ? versions[0]
        : versions.find(
            (candidate) =>
              String(candidate.version) === selector || candidate.aliases.includes(selector),
          );
    if (chosen === undefined) {
      throw baseModelError(
        `"${reference}": model ${name} has no version or alias "${selector}"; it has versions ${versions.map((v) => v.version).join(", ")}`,
      );
    }
    return checkFiles(
      reference,
      chosen.run.modelFiles,
      `its run ${chosen.run.id} has no model files`,
    );
  }

  throw baseModelError(`"${reference}" cannot be read by a worker: use ${BASE_MODEL_FORMS}`);
}

/** Keeps model.json and weights.bin of a run's model files, which must both be there. */
function checkFiles(reference: string, files: ModelFile[], reason: string): ModelFile[] {
  const modelFiles = files.filter((file) =>
    [MODEL_JSON, WEIGHTS_BIN].includes(path.posix.basename(file.path)),
  );
  const names = modelFiles.map((file) => path.posix.basename(file.path));
  if (!names.includes(MODEL_JSON) || !names.includes(WEIGHTS_BIN)) {
    throw baseModelError(`"${reference}" has no saved model (${reason}); use a run that succeeded`);
  }
  return modelFiles;
}
