import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createLogger, type Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";

export interface LocalTokens {
  editor: string;
  worker: string;
}

type TokenModule = {
  createApiToken: (
    prisma: PrismaClient,
    input: { role: "viewer" | "editor" | "worker"; label: string },
  ) => Promise<{ token: string }>;
  verifyApiToken?: (prisma: PrismaClient, token: string, log: Logger) => Promise<unknown>;
};

const log = createLogger("local-tokens");
const TOKEN_MODULE = path.resolve(import.meta.dirname, "../../apps/api/src/auth/tokens.ts");

/**
 * Returns the tokens of the local stack, created on first start and kept in DATA_DIR (mode 0600)
 * so that restarts print the same dashboard token instead of piling up new ones. A stored token
 * that the database no longer accepts (revoked, or a new database) is replaced.
 */
export async function ensureLocalTokens(
  prisma: PrismaClient,
  dataDir: string,
): Promise<LocalTokens | undefined> {
  if (!existsSync(TOKEN_MODULE)) return undefined;
  const tokens = (await import(TOKEN_MODULE)) as TokenModule;
  const file = path.join(dataDir, "local-tokens.json");

  const stored = await readFile(file, "utf8")
    .then((text) => JSON.parse(text) as LocalTokens)
    .catch(() => undefined);
  if (stored && tokens.verifyApiToken) {
    const [editorOk, workerOk] = await Promise.all([
      tokens.verifyApiToken(prisma, stored.editor, log),
      tokens.verifyApiToken(prisma, stored.worker, log),
    ]);
    if (editorOk && workerOk) return stored;
  }

  const editor = await tokens.createApiToken(prisma, { role: "editor", label: "local dashboard" });
  const worker = await tokens.createApiToken(prisma, { role: "worker", label: "local workers" });
  const created = { editor: editor.token, worker: worker.token };
  await writeFile(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return created;
}
