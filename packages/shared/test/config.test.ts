import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadConfig, SetupError } from "../src";

describe("loadConfig", () => {
  test("applies defaults relative to the working folder", () => {
    const config = loadConfig({}, "/srv/convnet");

    expect(config.dataDir).toBe("/srv/convnet/data");
    expect(config.artifactDir).toBe(path.join("/srv/convnet/data", "artifacts"));
    expect(config.apiUrl).toBe("http://127.0.0.1:4000/graphql");
    expect(config.EMBEDDED_PG_PORT).toBe(54329);
    expect(config.workers).toBeGreaterThan(0);
  });

  test("names each invalid variable with its allowed values", () => {
    let error: unknown;
    try {
      loadConfig({ TRAINER_BACKEND: "tpu", API_PORT: "70000", DATABASE_URL: "mysql://x" });
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(SetupError);
    const message = (error as SetupError).message;
    expect(message).toContain('TRAINER_BACKEND="tpu"');
    expect(message).toContain("one of auto, tensorflow-gpu, tensorflow, wasm, cpu");
    expect(message).toContain('API_PORT="70000" is invalid: expected a number <= 65535');
    expect(message).toContain("DATABASE_URL");
  });

  test("treats empty variables as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", WORKERS: "" }).DATABASE_URL).toBeUndefined();
  });
});
