import { createLogger, type Logger } from "@convnet/shared";
import { version as tfjsVersions } from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import { registerBatchNormTrainingKernels } from "./batch-norm/kernels";
import { BACKEND_NAMES, type BackendInfo, type BackendName, type BackendPreference } from "./types";
import { registerWasmKernels } from "./wasm/register";

export const BACKEND_ENV_VARIABLE = "TRAINER_BACKEND";

const PREFERENCES: readonly string[] = ["auto", ...BACKEND_NAMES];

/** What each backend needs installed, quoted in errors when it fails to load. */
const INSTALL_HINTS: Record<BackendName, string> = {
  "tensorflow-gpu":
    "install @tensorflow/tfjs-node-gpu 4.22.0 (npm i -w apps/trainer @tensorflow/tfjs-node-gpu@4.22.0) on Linux x64 with CUDA 11.2 and cuDNN 8.1",
  tensorflow:
    "install @tensorflow/tfjs-node 4.22.0 (npm i -w apps/trainer @tensorflow/tfjs-node@4.22.0) on a platform with a prebuilt libtensorflow",
  wasm: "reinstall @tensorflow/tfjs-backend-wasm 4.22.0 so that its .wasm files are present",
  cpu: "reinstall @tensorflow/tfjs-backend-cpu 4.22.0",
};

export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(`Backend "${backend}" failed to load: ${reason}. To use it, ${INSTALL_HINTS[backend]}.`);
    this.name = "BackendUnavailableError";
  }
}

/**
 * Resolves which backend was requested. An explicit preference wins over TRAINER_BACKEND, and
 * TRAINER_BACKEND wins over "auto", so a command-line flag can override the environment.
 */
export function resolveBackendPreference(
  preference: BackendPreference | undefined,
  env: Record<string, string | undefined> = process.env,
): BackendPreference {
  if (preference !== undefined && !PREFERENCES.includes(preference)) {
    throw new Error(
      `Backend preference "${preference}" is invalid; use one of ${PREFERENCES.join(", ")}.`,
    );
  }
  if (preference !== undefined && preference !== "auto") return preference;

  const fromEnv = env[BACKEND_ENV_VARIABLE]?.trim();
  if (fromEnv === undefined || fromEnv === "") return preference ?? "auto";
  if (!PREFERENCES.includes(fromEnv)) {
    throw new Error(
      `${BACKEND_ENV_VARIABLE}="${fromEnv}" is invalid; set it to one of ${PREFERENCES.join(", ")}, or unset it.`,
    );
  }
  return fromEnv as BackendPreference;
}

export interface SelectBackendOptions {
  logger?: Logger;
  env?: Record<string, string | undefined>;
}

/**
 * Makes the best loadable backend the active tfjs backend, or the requested one.
 * Throws BackendUnavailableError when a requested backend fails to load.
 */
export async function selectBackend(
  preference?: BackendPreference,
  options: SelectBackendOptions = {},
): Promise<BackendInfo> {
  const logger = options.logger ?? createLogger("backend");
  const resolved = resolveBackendPreference(preference, options.env);

  if (resolved !== "auto") {
    const info = await activate(resolved);
    logger.info({ backend: info }, `Using the ${resolved} backend because it was requested.`);
    return info;
  }

  const skipped: Record<string, string> = {};
  for (const name of BACKEND_NAMES) {
    try {
      const info = await activate(name);
      logger.info(
        { backend: info, skipped },
        `Using the ${name} backend, the best one that loads on this machine.`,
      );
      return info;
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      skipped[name] = error.reason;
      logger.debug({ backend: name, reason: error.reason }, `Skipping the ${name} backend.`);
    }
  }
  throw new Error(
    `No tfjs backend loads on this machine: ${JSON.stringify(skipped)}. Reinstall the trainer's dependencies.`,
  );
}

async function activate(name: BackendName): Promise<BackendInfo> {
  switch (name) {
    case "tensorflow-gpu":
      await importOrExplain(name, "@tensorflow/tfjs-node-gpu");
      return setActive(name, "tensorflow");
    case "tensorflow":
      await importOrExplain(name, "@tensorflow/tfjs-node");
      return setActive(name, "tensorflow");
    case "wasm": {
      const wasm = (await importOrExplain(
        name,
        "@tensorflow/tfjs-backend-wasm",
      )) as typeof import("@tensorflow/tfjs-backend-wasm");
      registerWasmKernels();
      registerBatchNormTrainingKernels();
      const info = await setActive(name, "wasm");
      // tfjs-backend-wasm 4.22 reports no multithreading support under Node, so it loads the
      // single-threaded SIMD binary there and this is 1; scale across cores with processes.
      info.threads = wasm.getThreadsCount();
      return info;
    }
    case "cpu": {
      await importOrExplain(name, "@tensorflow/tfjs-backend-cpu");
      registerBatchNormTrainingKernels();
      const info = await setActive(name, "cpu");
      info.threads = 1;
      return info;
    }
    default: {
      const unknown: never = name;
      throw new Error(`Backend "${String(unknown)}" is not handled.`);
    }
  }
}

/** Version strings of the tfjs packages loaded so far, keyed by package name without the scope. */
const loadedVersions: Record<string, string> = {};

async function importOrExplain(backend: BackendName, specifier: string): Promise<unknown> {
  let module: unknown;
  try {
    module = await import(specifier);
  } catch (error) {
    throw new BackendUnavailableError(backend, `import("${specifier}") failed: ${describe(error)}`);
  }
  recordVersions(specifier, module);
  return module;
}

function recordVersions(specifier: string, module: unknown): void {
  if (typeof module !== "object" || module === null) return;
  const exports = module as Record<string, unknown>;
  const packageName = specifier.replace("@tensorflow/", "");
  for (const key of ["version", "version_wasm", "version_cpu"]) {
    const value = exports[key];
    if (typeof value === "string") loadedVersions[packageName] = value;
    if (typeof value === "object" && value !== null) {
      for (const [name, version] of Object.entries(value)) {
        if (typeof version === "string") loadedVersions[name] = version;
      }
    }
  }
}

async function setActive(name: BackendName, tfjsName: string): Promise<BackendInfo> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfjsName);
    await tf.ready();
  } catch (error) {
    throw new BackendUnavailableError(name, `initialization failed: ${describe(error)}`);
  }
  if (!ok || tf.getBackend() !== tfjsName) {
    throw new BackendUnavailableError(name, `tf.setBackend("${tfjsName}") returned false`);
  }
  const versions: Record<string, string> = { ...tfjsVersions, ...loadedVersions };
  return { name, tfjsVersion: tf.version_core, versions };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.name;
  if (typeof error === "object" && error !== null && "message" in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}
