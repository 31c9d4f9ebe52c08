import path from "node:path";
import { defineConfig } from "prisma/config";

// `prisma generate` works offline; the schema engine (migrate, db push) would be downloaded,
// so it points at a stub that explains where migrations live instead.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve(
  import.meta.dirname,
  "scripts/bin/prisma-schema-engine-stub",
);

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/unused" },
});
