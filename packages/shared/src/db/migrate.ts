import path from "node:path";
import { runner } from "node-pg-migrate";
import type { Logger } from "../logger";

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../../../prisma/migrations");

/**
 * Applies the SQL migrations in prisma/migrations that this database has not seen yet.
 * node-pg-migrate holds an advisory lock meanwhile, so API processes starting together are safe.
 */
export async function migrate(
  databaseUrl: string,
  log: Logger,
  dir = MIGRATIONS_DIR,
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir,
    direction: "up",
    migrationsTable: "pgmigrations",
    count: Number.POSITIVE_INFINITY,
    checkOrder: true,
    log: (message: string) => log.debug(message),
    logger: {
      debug: (message: string) => log.debug(message),
      info: (message: string) => log.debug(message),
      warn: (message: string) => log.warn(message),
      error: (message: string) => log.error(message),
    },
  });
  const names = applied.map((migration) => migration.name);
  if (names.length > 0) log.info({ migrations: names }, "Applied database migrations");
  return names;
}
