import { randomBytes } from "node:crypto";
import path from "node:path";
import { createLogger, loadConfig } from "@convnet/shared";
import { type EmbeddedServer, migrate, startEmbeddedPostgres } from "@convnet/shared/db";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A freshly migrated database that belongs to this test run only. */
    databaseUrl: string;
    /** The maintenance database of the same server, for tests that create databases of their own. */
    serverUrl: string;
  }
}

const log = createLogger("test-setup");

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Gives each test run its own database: on the server at DATABASE_URL when set, else on an
 * embedded server kept in data/test-postgres (apart from the product's own data folder).
 */
export default async function setup(project: TestProject) {
  const config = loadConfig();
  let embedded: EmbeddedServer | undefined;
  let serverUrl: string;

  if (config.DATABASE_URL) {
    serverUrl = withDatabase(config.DATABASE_URL, "postgres");
  } else {
    embedded = await startEmbeddedPostgres({
      dataDir: path.resolve(import.meta.dirname, "../../data/test"),
      port: Number(process.env.TEST_EMBEDDED_PG_PORT ?? config.EMBEDDED_PG_PORT + 1),
      log,
    });
    serverUrl = embedded.serverUrl("postgres");
  }

  const name = `convnet_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const databaseUrl = withDatabase(serverUrl, name);
  await migrate(databaseUrl, log);
  project.provide("databaseUrl", databaseUrl);
  project.provide("serverUrl", serverUrl);
  process.env.TEST_DATABASE_URL = databaseUrl;

  return async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
    await embedded?.stop();
  };
}
