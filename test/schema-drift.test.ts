import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createLogger } from "@convnet/shared";
import { MIGRATIONS_DIR, migrate } from "@convnet/shared/db";
import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { readDatabaseSchema } from "./support/database-model";
import { readExpectedSchema } from "./support/prisma-model";
import { diffSchemas } from "./support/schema-diff";

const log = createLogger("schema-drift-test");

async function withScratchDatabase<T>(use: (url: string) => Promise<T>): Promise<T> {
  const serverUrl = inject("serverUrl");
  const name = `convnet_drift_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await use(url.toString());
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

describe("schema drift", () => {
  test("migrated database matches schema.prisma", async () => {
    const expected = readExpectedSchema();
    const actual = await readDatabaseSchema(inject("databaseUrl"));

    expect(expected.tables.size).toBeGreaterThan(0);
    expect(diffSchemas(expected, actual)).toEqual([]);
  });

  test("each migration file is needed to match schema.prisma", async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith(".sql"));
    expect(files.length).toBeGreaterThan(0);

    for (const removed of files) {
      const dir = await mkdtemp(path.join(os.tmpdir(), "convnet-migrations-"));
      try {
        await cp(MIGRATIONS_DIR, dir, { recursive: true });
        await rm(path.join(dir, removed));
        const differences = await withScratchDatabase(async (url) => {
          await migrate(url, log, dir);
          return diffSchemas(readExpectedSchema(), await readDatabaseSchema(url));
        });
        expect(differences, `without ${removed}`).not.toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
});
