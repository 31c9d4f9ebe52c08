import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createLogger, loadConfig } from "@convnet/shared";
import { createPrismaClient, migrate, type PrismaClient } from "@convnet/shared/db";
import pg from "pg";
import { createApiToken } from "../../src/auth/tokens";
import { type PostgresPubSub, startPubSub, stopPubSub } from "../../src/pubsub";
import { createApiServer, type ExtraRoute } from "../../src/server";

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: {
    message: string;
    extensions?: { code?: string; fields?: { field: string; message: string }[] };
  }[];
}

export interface TestApi {
  url: string;
  databaseUrl: string;
  artifactDir: string;
  prisma: PrismaClient;
  pubsub: PostgresPubSub;
  tokens: { viewer: string; editor: string; worker: string };
  request<T = Record<string, unknown>>(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates and migrates a database of the caller's own on the test server; returns its URL and a drop function. */
export async function createTestDatabase(
  serverUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `convnet_api_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  await migrate(url, createLogger("test-migrate"));
  return {
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Starts the real API (Apollo over HTTP + WebSocket) on an ephemeral port with a token per role. */
export async function startTestApi(
  serverUrl: string,
  options: {
    extraRoutes?: ExtraRoute[];
    /** A second API process on the first one's database and artifact folder; stop() leaves both. */
    sharedWith?: TestApi;
  } = {},
): Promise<TestApi> {
  const shared = options.sharedWith;
  const database = shared
    ? { url: shared.databaseUrl, drop: async () => undefined }
    : await createTestDatabase(serverUrl);
  const artifactDir =
    shared?.artifactDir ?? (await mkdtemp(path.join(os.tmpdir(), "convnet-api-test-")));
  const log = createLogger("test-api");
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: database.url }), artifactDir };
  const prisma = createPrismaClient(database.url, 5);
  const pubsub = await startPubSub(database.url, log);
  const server = await createApiServer({
    prisma,
    pubsub,
    config,
    log,
    extraRoutes: options.extraRoutes ?? [],
  });
  const url = await server.listen(0, "127.0.0.1");

  const tokens = {
    viewer: (await createApiToken(prisma, { role: "viewer", label: "test viewer" })).token,
    editor: (await createApiToken(prisma, { role: "editor", label: "test editor" })).token,
    worker: (await createApiToken(prisma, { role: "worker", label: "test worker" })).token,
  };

  return {
    url,
    databaseUrl: database.url,
    artifactDir,
    prisma,
    pubsub,
    tokens,
    async request(token, query, variables) {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    async stop() {
      await server.close();
      await stopPubSub(pubsub);
      await prisma.$disconnect();
      await database.drop();
      if (!shared) await rm(artifactDir, { recursive: true, force: true });
    },
  };
}

/** The codes of a response's errors, for assertions that read as one line. */
export function errorCodes(response: GraphQLResponse): (string | undefined)[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}
