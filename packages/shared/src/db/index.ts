export * from "./database";
export {
  createDatabaseIfMissing,
  type EmbeddedServer,
  startEmbeddedPostgres,
} from "./embedded-postgres";
export { MIGRATIONS_DIR, migrate } from "./migrate";
export { DatabaseInUseError } from "./owner-lock";
export { createPrismaClient, type PrismaClient } from "./prisma";
