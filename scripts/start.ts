import { existsSync } from "node:fs";
import path from "node:path";
import { type Config, createLogger, isPortInUse, loadConfig, SetupError } from "@convnet/shared";
import { createPrismaClient } from "@convnet/shared/db";
import { Component, type ComponentSpec } from "./stack/component";
import { startStackDatabase } from "./stack/database-client";
import { ensureLocalTokens } from "./stack/local-tokens";
import { waitForHttp } from "./stack/wait-for-http";
import { watchAncestors } from "./stack/watch-ancestors";
import { ensureWebBuild, NEXT_BIN, WEB_DIR, webAppExists } from "./stack/web-build";

const ROOT = path.resolve(import.meta.dirname, "..");
const API_ENTRY = path.join(ROOT, "apps/api/src/main.ts");
const WORKER_ENTRY = path.join(ROOT, "apps/trainer/src/worker/main.ts");
const log = createLogger("start");

function tsxCommand(entry: string): Pick<ComponentSpec, "command" | "args"> {
  return { command: process.execPath, args: ["--import", "tsx", entry] };
}

/** Stops the start before anything runs when the API's or dashboard's port is taken. */
async function checkPortsFree(config: Config): Promise<void> {
  const wanted: [boolean, string, number, string][] = [
    [existsSync(API_ENTRY), config.API_HOST, config.API_PORT, "API_PORT"],
    [webAppExists(), "127.0.0.1", config.WEB_PORT, "WEB_PORT"],
  ];
  for (const [needed, host, port, variable] of wanted) {
    if (needed && (await isPortInUse(port, host))) {
      throw new SetupError(
        `Port ${port} on ${host}, which ${variable} selects, is already in use.`,
        `Set ${variable} to a free port, or stop the program on ${port}.`,
      );
    }
  }
}

/**
 * Starts the whole local stack in one command: database (embedded unless DATABASE_URL is set),
 * migrations, API, trainer workers and dashboard. Components that do not exist yet are skipped.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  await checkPortsFree(config);
  const components: Component[] = [];
  let shuttingDown = false;

  const database = await startStackDatabase();
  const childEnv: NodeJS.ProcessEnv = {
    DATABASE_URL: database.url,
    DATA_DIR: config.dataDir,
    ARTIFACT_DIR: config.artifactDir,
    API_URL: config.apiUrl,
  };

  const shutdown = async (reason: string, exitCode: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, "Stopping the local stack");
    // Dependants first: the dashboard and workers still talk to the API while they stop.
    for (const component of [...components].reverse()) await component.stop();
    await database.stop();
    process.exit(exitCode);
  };
  const onFatalExit = (name: string, code: number | null) =>
    void shutdown(`${name} exited unexpectedly with code ${code}`, 1);

  process.on("SIGINT", () => void shutdown("SIGINT", 0));
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
  watchAncestors(() => void shutdown("the start command was killed", 1));

  const prisma = createPrismaClient(database.url, 2);
  const tokens = await ensureLocalTokens(prisma, config.dataDir);
  await prisma.$disconnect();

  if (existsSync(API_ENTRY)) {
    const api = new Component(
      {
        name: "api",
        ...tsxCommand(API_ENTRY),
        // graphql-js skips its development-only checks (about 2 ms per 1,000-point logMetrics).
        env: { ...childEnv, NODE_ENV: "production" },
        restart: false,
      },
      log,
      onFatalExit,
    );
    components.push(api);
    api.start();
    const health = new URL("/healthz", config.apiUrl).toString();
    await waitForHttp(health, 120_000, () => api.running);
  }

  if (existsSync(WORKER_ENTRY) && tokens) {
    for (let index = 0; index < config.workers; index++) {
      const worker = new Component(
        {
          name: `worker-${index + 1}`,
          ...tsxCommand(WORKER_ENTRY),
          env: { ...childEnv, API_TOKEN: tokens.worker },
          restart: true,
        },
        log,
        onFatalExit,
      );
      components.push(worker);
      worker.start();
    }
  }

  let dashboardUrl: string | undefined;
  if (webAppExists()) {
    await ensureWebBuild(log);
    const web = new Component(
      {
        name: "web",
        command: process.execPath,
        args: [NEXT_BIN, "start", WEB_DIR, "-p", String(config.WEB_PORT), "-H", "127.0.0.1"],
        env: { ...childEnv, NEXT_TELEMETRY_DISABLED: "1" },
        restart: false,
      },
      log,
      onFatalExit,
    );
    components.push(web);
    web.start();
    dashboardUrl = `http://127.0.0.1:${config.WEB_PORT}`;
    await waitForHttp(dashboardUrl, 120_000, () => web.running);
  }

  const lines = [
    "",
    "The local stack is running. Press Ctrl-C to stop it.",
    dashboardUrl ? `  Dashboard:    ${dashboardUrl}` : undefined,
    existsSync(API_ENTRY) ? `  GraphQL API:  ${config.apiUrl}` : undefined,
    tokens ? `  Access token: ${tokens.editor}  (editor; paste it on the sign-in page)` : undefined,
    `  Database:     ${database.embedded ? `embedded, in ${config.postgresDir}` : "DATABASE_URL"}`,
    `  Workers:      ${components.filter((c) => c.spec.name.startsWith("worker")).length}`,
    "",
  ];
  process.stdout.write(`${lines.filter((line) => line !== undefined).join("\n")}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof SetupError) {
    process.stderr.write(`\nCannot start: ${error.message}\nFix: ${error.fix}\n`);
  } else {
    log.fatal({ err: error }, "The local stack failed to start");
  }
  process.exit(1);
});
