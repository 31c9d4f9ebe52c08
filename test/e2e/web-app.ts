import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { waitForExit } from "@convnet/shared";
import { waitForHttp } from "../../scripts/stack/wait-for-http";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WEB_DIR = path.join(ROOT, "apps/web");
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
const BUILD_ID = path.join(WEB_DIR, ".next/BUILD_ID");
const BUILD_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 60_000;

export interface WebApp {
  url: string;
  stop(): Promise<void>;
}

async function newestSourceTime(folder: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * Builds the dashboard unless .next contains a build newer than every source file. A production
 * build (about 40 s cold on 2 cores) was chosen over `next dev`, which compiles each route on
 * first visit (2-9 s per route measured) and made page waits depend on the compiler.
 */
export async function buildWebApp(logFile: string): Promise<void> {
  const built = await stat(BUILD_ID).then(
    (info) => info.mtimeMs,
    () => 0,
  );
  const sources = Math.max(
    await newestSourceTime(path.join(WEB_DIR, "src")),
    (await stat(path.join(WEB_DIR, "next.config.ts"))).mtimeMs,
  );
  if (built > sources) return;

  const child = spawn(process.execPath, [NEXT_BIN, "build"], {
    cwd: WEB_DIR,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const code = await exitCode(child, BUILD_TIMEOUT_MS);
  if (code !== 0)
    throw new Error(`next build failed with exit code ${code}; its output is in ${logFile}.`);
}

/** Starts `next start` for the built dashboard on `port`, pointed at the API at `apiUrl`. */
export async function startWebApp(options: {
  apiUrl: string;
  port: number;
  logFile: string;
}): Promise<WebApp> {
  const child = spawn(
    process.execPath,
    [NEXT_BIN, "start", "--port", String(options.port), "--hostname", "127.0.0.1"],
    {
      cwd: WEB_DIR,
      env: { ...process.env, API_URL: options.apiUrl, NEXT_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const log = createWriteStream(options.logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);

  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    child.kill("SIGTERM");
    if (!(await waitForExit(child.pid, 10_000))) child.kill("SIGKILL");
  };
  try {
    await waitForHttp(`${url}/sign-in`, START_TIMEOUT_MS, () => child.exitCode === null);
  } catch (error) {
    await stop();
    throw new Error(
      `The dashboard did not start; its output is in ${options.logFile}. ${(error as Error).message}`,
    );
  }
  return { url, stop };
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
