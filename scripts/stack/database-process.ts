import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import { openDatabase } from "@convnet/shared/db";
import pg from "pg";

/**
 * Runs the stack's database in a process of its own, which the start command launches in a new
 * process group. A terminal's Ctrl-C then reaches the API and workers but not PostgreSQL, so the
 * database stops last, after its clients, instead of cutting their connections first. It stops
 * when asked over IPC or when the IPC channel closes because the start command died.
 */
export type DatabaseMessage =
  | { type: "ready"; url: string; embedded: boolean }
  | { type: "error"; message: string; fix?: string };

const log = createLogger("database");

async function waitForClients(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  const deadline = Date.now() + timeoutMs;
  try {
    await client.connect();
    while (Date.now() < deadline) {
      const result = await client.query<{ others: number }>(
        `SELECT count(*)::int AS others FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      if ((result.rows[0]?.others ?? 0) === 0) return;
      await sleep(250);
    }
  } catch (error) {
    log.warn({ err: error }, "Could not watch the database's clients; stopping it now");
  } finally {
    await client.end().catch(() => undefined);
  }
}

function send(message: DatabaseMessage): void {
  process.send?.(message);
}

try {
  const database = await openDatabase(loadConfig(), log);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await database.stop();
    process.disconnect?.();
    process.exit(0);
  };
  process.on("message", (message) => {
    if (message === "stop") void stop();
  });
  // The start command died without an ordered shutdown: its API and workers are stopping too, so
  // give their connections up to 15 s to close before the server goes.
  process.on("disconnect", () => void waitForClients(database.url, 15_000).then(stop));
  process.on("SIGTERM", () => void stop());
  // The start command ends this process over IPC; signals from its terminal must not stop it.
  process.on("SIGINT", () => {});
  send({ type: "ready", url: database.url, embedded: database.embedded });
} catch (error) {
  if (error instanceof SetupError) send({ type: "error", message: error.message, fix: error.fix });
  else send({ type: "error", message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
