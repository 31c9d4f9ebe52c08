import { spawn } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import {
  DatabaseInUseError,
  type EmbeddedServer,
  openDatabase,
  startEmbeddedPostgres,
} from "@convnet/shared/db";
import pg from "pg";
import { afterEach, describe, expect, test } from "vitest";

const log = createLogger("embedded-database-test");
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "convnet-embedded-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dataDir: string, port: number): Promise<EmbeddedServer> {
  const server = await startEmbeddedPostgres({ dataDir, port, log });
  cleanups.push(() => server.stop());
  return server;
}

async function query(server: EmbeddedServer, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: server.serverUrl("convnet") });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Starts a separate process that owns the embedded server, resolving once it is running. */
async function startOwnerProcess(dataDir: string, port: number) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(import.meta.dirname, "support/embedded-owner.ts"),
      dataDir,
      String(port),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`owner process exited with ${code}`)));
  });
  return child;
}

describe("embedded database", () => {
  test("keeps data across stop and start", async () => {
    const dataDir = await tempDataDir();
    const port = await freePort();

    const first = await start(dataDir, port);
    await query(first, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')");
    await first.stop();

    const second = await start(dataDir, port);
    const rows = await query(second, "SELECT value FROM kept");
    expect(rows.rows).toEqual([{ value: "still here" }]);
  });

  test("refuses a second owner and recovers after the first is killed", async () => {
    const dataDir = await tempDataDir();
    const port = await freePort();
    const owner = await startOwnerProcess(dataDir, port);
    cleanups.push(async () => {
      owner.kill("SIGKILL");
    });

    const refused = await startEmbeddedPostgres({ dataDir, port, log }).catch((error) => error);
    expect(refused).toBeInstanceOf(SetupError);
    expect(refused.message).toContain(`already in use by process ${owner.pid}`);
    expect(refused.fix).toContain("DATA_DIR");

    owner.kill("SIGKILL");
    await new Promise((resolve) => owner.once("exit", resolve));

    const recovered = await start(dataDir, port);
    const rows = await query(recovered, "SELECT 1 AS ok");
    expect(rows.rows).toEqual([{ ok: 1 }]);
  });

  test("shares a running server with short commands", async () => {
    const dataDir = await tempDataDir();
    const port = await freePort();
    const owner = await startOwnerProcess(dataDir, port);
    cleanups.push(async () => {
      owner.kill("SIGKILL");
    });
    const config = loadConfig({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });

    const refused = await openDatabase(config, log).catch((error) => error);
    expect(refused).toBeInstanceOf(DatabaseInUseError);

    const shared = await openDatabase(config, log, { shareRunning: true });
    const client = new pg.Client({ connectionString: shared.url });
    await client.connect();
    const rows = await client.query("SELECT current_database() AS name");
    await client.end();
    await shared.stop();
    expect(rows.rows).toEqual([{ name: "convnet" }]);
    expect(owner.exitCode).toBeNull();
  });

  test("keeps a generated password readable by its owner only", async () => {
    const dataDir = await tempDataDir();
    const port = await freePort();
    const server = await start(dataDir, port);

    const mode = (await stat(path.join(dataDir, "postgres-password"))).mode & 0o777;
    expect(mode).toBe(0o600);
    const guess = new pg.Client({
      connectionString: `postgresql://postgres:postgres@127.0.0.1:${port}/convnet`,
    });
    await expect(guess.connect()).rejects.toThrow(/password authentication failed/);
    expect((await query(server, "SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  });

  test("names DATA_DIR when it is a file", async () => {
    const parent = await tempDataDir();
    const file = path.join(parent, "data");
    await writeFile(file, "");

    const error = await startEmbeddedPostgres({ dataDir: file, port: await freePort(), log }).catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(SetupError);
    expect(error.message).toContain("is a file, not a folder");
    expect(error.fix).toContain("DATA_DIR");
  });

  test("names EMBEDDED_PG_PORT when the port is taken", async () => {
    const dataDir = await tempDataDir();
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, "127.0.0.1", () => {
        const address = blocker.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      }),
    );
    cleanups.push(() => new Promise((resolve) => blocker.close(() => resolve())));

    const error = await startEmbeddedPostgres({ dataDir, port, log }).catch((caught) => caught);
    expect(error).toBeInstanceOf(SetupError);
    expect(error.message).toContain(`Port ${port}`);
    expect(error.fix).toContain("EMBEDDED_PG_PORT");
  });

  test("names DATA_DIR when the data folder cannot be written", async () => {
    const parent = await tempDataDir();
    const file = path.join(parent, "not-a-folder");
    await writeFile(file, "");

    const error = await startEmbeddedPostgres({
      dataDir: path.join(file, "data"),
      port: await freePort(),
      log,
    }).catch((caught) => caught);
    expect(error).toBeInstanceOf(SetupError);
    expect(error.message).toContain("not writable");
    expect(error.fix).toContain("DATA_DIR");
  });
});
