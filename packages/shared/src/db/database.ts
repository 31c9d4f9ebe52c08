import pg from "pg";
import type { Config } from "../config";
import { SetupError } from "../errors";
import type { Logger } from "../logger";
import {
  EMBEDDED_DATABASE,
  type EmbeddedServer,
  embeddedServerUrl,
  readOrCreatePassword,
  startEmbeddedPostgres,
} from "./embedded-postgres";
import { migrate } from "./migrate";
import { DatabaseInUseError } from "./owner-lock";

export interface Database {
  url: string;
  embedded: boolean;
  stop: () => Promise<void>;
}

function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

async function checkReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new SetupError(
      `Cannot connect to the PostgreSQL at DATABASE_URL (${describeUrl(url)}): ${(error as Error).message}`,
      "Start that server or correct DATABASE_URL; unset DATABASE_URL to use the embedded database.",
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Connects to the embedded server that another process (a running `npm start`) owns, for short
 * commands such as the token CLI. That process migrated it and stops it; this one only connects.
 */
async function useRunningEmbedded(
  config: Config,
  ownerPid: number,
  log: Logger,
): Promise<Database> {
  const password = await readOrCreatePassword(config.dataDir, true);
  const url = embeddedServerUrl(config.EMBEDDED_PG_PORT, password)(EMBEDDED_DATABASE);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new SetupError(
      `Process ${ownerPid} owns the embedded database in ${config.dataDir}, but it does not accept connections on port ${config.EMBEDDED_PG_PORT}: ${(error as Error).message}`,
      "Wait until that start has finished, or stop it and run this command again.",
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  log.debug({ ownerPid }, "Using the embedded database of a running start");
  return { url, embedded: true, stop: async () => {} };
}

/**
 * Opens the PostgreSQL the product uses, deciding in this one place: DATABASE_URL when set, else an
 * embedded server under DATA_DIR. Either way the database is migrated before this returns.
 */
export async function openDatabase(
  config: Config,
  log: Logger,
  options: { shareRunning?: boolean } = {},
): Promise<Database> {
  if (config.DATABASE_URL) {
    await checkReachable(config.DATABASE_URL);
    log.info(
      { database: describeUrl(config.DATABASE_URL) },
      "Using the PostgreSQL at DATABASE_URL",
    );
    await migrate(config.DATABASE_URL, log);
    return { url: config.DATABASE_URL, embedded: false, stop: async () => {} };
  }

  let server: EmbeddedServer;
  try {
    server = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.EMBEDDED_PG_PORT,
      log,
    });
  } catch (error) {
    if (!(error instanceof DatabaseInUseError && options.shareRunning)) throw error;
    return useRunningEmbedded(config, error.ownerPid, log);
  }
  const url = server.serverUrl(EMBEDDED_DATABASE);
  try {
    await migrate(url, log);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, embedded: true, stop: server.stop };
}
