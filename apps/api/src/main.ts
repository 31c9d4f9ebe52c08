import "reflect-metadata";
import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import { createPrismaClient, openDatabase } from "@convnet/shared/db";
import { artifactRoute } from "./artifacts/http";
import { ensureBootstrapTokens } from "./auth/bootstrap";
import { mnistImageRoute } from "./mnist/http";
import { startPubSub, stopPubSub } from "./pubsub";
import { startQueue } from "./queue";
import { createApiServer } from "./server";

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

const log = createLogger("api");

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config, log.child({ component: "database" }));
  const prisma = createPrismaClient(database.url);
  await ensureBootstrapTokens(prisma, config, log.child({ component: "auth" }));
  const pubsub = await startPubSub(database.url, log);
  const queue = await startQueue(database.url, prisma, log, {
    heartbeatTimeoutSeconds: config.HEARTBEAT_TIMEOUT_SECONDS,
  });
  const server = await createApiServer({
    prisma,
    pubsub,
    config,
    log,
    extraRoutes: [
      artifactRoute(prisma, config.artifactDir, log.child({ component: "artifacts" })),
      mnistImageRoute({ mnistDir: config.MNIST_DIR, log: log.child({ component: "mnist" }) }),
    ],
  });
  const url = await server.listen(config.API_PORT, config.API_HOST);
  log.info({ url, embeddedDatabase: database.embedded }, "API started");

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "API stopping");
    const timer = setTimeout(() => {
      log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, "Shutdown timed out; exiting anyway");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();

    const steps: [string, () => Promise<void>][] = [
      ["HTTP and WebSocket server", () => server.close()],
      ["run queue", () => queue.stop()],
      ["pub/sub", () => stopPubSub(pubsub)],
      ["Prisma", () => prisma.$disconnect()],
      ["database", () => database.stop()],
    ];
    for (const [name, step] of steps) {
      try {
        log.debug({ step: name }, "Stopping");
        await step();
      } catch (error) {
        process.exitCode = 1;
        log.error({ err: error, step: name }, "A shutdown step failed; continuing with the rest");
      }
    }
    log.info("API stopped");
    // An open IPC channel keeps the event loop alive, so a child of the start command or a test
    // stack would otherwise wait for the timeout above with every step already done.
    if (process.connected) process.disconnect();
  };

  // `on`, not `once`: tsx's signal relay exits the process when it finds no other listener left.
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Started by a parent with an IPC channel (the start command, test stacks): when the parent
  // dies the channel closes, and the API follows instead of living on as an orphan.
  if (process.connected) process.once("disconnect", () => void stop("parent process exited"));
}

main().catch((error: unknown) => {
  if (error instanceof SetupError) {
    log.fatal({ fix: error.fix }, error.message);
  } else {
    log.fatal({ err: error }, "API failed to start");
  }
  process.exit(1);
});
