export * from "./database";
export { createDatabaseIfMissing, startEmbeddedPostgres } from "./embedded-postgres";
export { MIGRATIONS_DIR, migrate } from "./migrate";
export { createPrismaClient, type PrismaClient } from "./prisma";
