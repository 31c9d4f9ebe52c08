import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "@convnet/shared";

export const WEB_DIR = path.resolve(import.meta.dirname, "../../apps/web");
/** True once the dashboard's app router exists, in either of Next's folder layouts. */
export function webAppExists(): boolean {
  return existsSync(path.join(WEB_DIR, "src/app")) || existsSync(path.join(WEB_DIR, "app"));
}

export const NEXT_BIN = path.resolve(import.meta.dirname, "../../node_modules/next/dist/bin/next");
const SOURCE_DIRS = ["src", "app", "components", "lib", "public"];
const CONFIG_FILES = ["next.config.ts", "package.json"];

async function newestSourceTime(dir: string): Promise<number> {
  let newest = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const time = entry.isDirectory() ? await newestSourceTime(full) : statSync(full).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

/**
 * Builds the dashboard when no production build exists or a source file is newer than it:
 * `next start` serves pages far faster than `next dev` on a small machine.
 */
export async function ensureWebBuild(log: Logger): Promise<void> {
  const buildId = path.join(WEB_DIR, ".next", "BUILD_ID");
  if (existsSync(buildId)) {
    const builtAt = statSync(buildId).mtimeMs;
    const times = await Promise.all(
      SOURCE_DIRS.map((dir) => newestSourceTime(path.join(WEB_DIR, dir))),
    );
    const configTimes = CONFIG_FILES.map((file) => path.join(WEB_DIR, file))
      .filter((file) => existsSync(file))
      .map((file) => statSync(file).mtimeMs);
    if (Math.max(...times, ...configTimes) <= builtAt) return;
  }

  log.info("Building the dashboard (first start or changed sources; this takes a minute or two)");
  await new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, [NEXT_BIN, "build", WEB_DIR], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    build.on("error", reject);
    build.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`next build failed with exit code ${code}`)),
    );
  });
}
