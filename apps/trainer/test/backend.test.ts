import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, test } from "vitest";
import {
  BACKEND_NAMES,
  BackendUnavailableError,
  resolveBackendPreference,
  selectBackend,
} from "../src/backend";

// A variable specifier keeps TypeScript from resolving the optional package, which is usually absent.
const NATIVE_PACKAGE = "@tensorflow/tfjs-node";
const nativeInstalled = await import(NATIVE_PACKAGE).then(
  () => true,
  () => false,
);

describe("resolveBackendPreference", () => {
  test("defaults to auto without flag or variable", () => {
    expect(resolveBackendPreference(undefined, {})).toBe("auto");
  });

  test("takes TRAINER_BACKEND when no flag is given", () => {
    expect(resolveBackendPreference(undefined, { TRAINER_BACKEND: "cpu" })).toBe("cpu");
    expect(resolveBackendPreference("auto", { TRAINER_BACKEND: " wasm " })).toBe("wasm");
  });

  test("lets an explicit flag override TRAINER_BACKEND", () => {
    expect(resolveBackendPreference("cpu", { TRAINER_BACKEND: "wasm" })).toBe("cpu");
  });

  test("treats an empty TRAINER_BACKEND as unset", () => {
    expect(resolveBackendPreference(undefined, { TRAINER_BACKEND: "" })).toBe("auto");
  });

  test("rejects an unknown TRAINER_BACKEND with the allowed values", () => {
    const resolve = () => resolveBackendPreference(undefined, { TRAINER_BACKEND: "gpu" });
    expect(resolve).toThrow(/TRAINER_BACKEND="gpu" is invalid/);
    for (const name of ["auto", ...BACKEND_NAMES]) expect(resolve).toThrow(name);
  });

  test("rejects an unknown flag value", () => {
    expect(() => resolveBackendPreference("webgl" as "cpu", {})).toThrow(
      /"webgl" is invalid; use one of auto, tensorflow-gpu, tensorflow, wasm, cpu/,
    );
  });
});

describe("selectBackend", () => {
  test("activates the backend named by TRAINER_BACKEND", async () => {
    const info = await selectBackend(undefined, { env: { TRAINER_BACKEND: "cpu" } });
    expect(info.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(info.tfjsVersion).toBe("4.22.0");
    expect(info.versions["tfjs-core"]).toBe("4.22.0");
  });

  test("reports wasm threads and versions", async () => {
    const info = await selectBackend("wasm", { env: {} });
    expect(info.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.versions["tfjs-backend-wasm"]).toBe("4.22.0");
  });

  test("picks the best loadable backend on auto", async () => {
    const info = await selectBackend("auto", { env: {} });
    expect(BACKEND_NAMES).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name === "tensorflow-gpu" ? "tensorflow" : info.name);
  });

  test.skipIf(nativeInstalled)("explains how to install a missing native backend", async () => {
    const selection = selectBackend(undefined, { env: { TRAINER_BACKEND: "tensorflow" } });
    await expect(selection).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(selection).rejects.toThrow(/install @tensorflow\/tfjs-node 4\.22\.0/);
  });
});
