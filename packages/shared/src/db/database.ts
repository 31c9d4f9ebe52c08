import pg from "pg";
import type { Config } from "../config";
import { SetupError } from "../errors";
import type { Logger } from "../logger";
import { EMBEDDED_DATABASE, startEmbeddedPostgres } from "./embedded-postgres";
import { migrate } from "./migrate";

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
 * The one place that decides which PostgreSQL the product uses: DATABASE_URL when set, else an
 * embedded server under DATA_DIR. Either way the database is migrated before this returns.
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.DATABASE_URL) {
    await checkReachable(config.DATABASE_URL);
    log.info(
      { database: describeUrl(config.DATABASE_URL) },
      "Using the PostgreSQL at DATABASE_URL",
    );
    await migrate(config.DATABASE_URL, log);
    return { url: config.DATABASE_URL, embedded: false, stop: async () => {} };
  }

  const server = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.EMBEDDED_PG_PORT,
    log,
  });
  const url = server.serverUrl(EMBEDDED_DATABASE);
  try {
    await migrate(url, log);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, embedded: true, stop: server.stop };
}
