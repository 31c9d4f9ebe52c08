import { randomBytes } from "node:crypto";
import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import { createPrismaClient } from "@convnet/shared/db";
import { afterAll, describe, expect, inject, test } from "vitest";
import { ensureBootstrapTokens } from "../src/auth/bootstrap";
import { hashToken, revokeApiToken, verifyApiToken } from "../src/auth/tokens";

const log = createLogger("bootstrap-tokens-test");
const prisma = createPrismaClient(inject("databaseUrl"), 2);

afterAll(() => prisma.$disconnect());

function newToken(): string {
  return `cnl_${randomBytes(32).toString("base64url")}`;
}

describe("bootstrap tokens", () => {
  test("become valid with their role, once", async () => {
    const editor = newToken();
    const worker = newToken();
    const config = loadConfig({ BOOTSTRAP_EDITOR_TOKEN: editor, BOOTSTRAP_WORKER_TOKEN: worker });

    await ensureBootstrapTokens(prisma, config, log);
    await ensureBootstrapTokens(prisma, config, log);

    expect((await verifyApiToken(prisma, editor, log))?.role).toBe("editor");
    expect((await verifyApiToken(prisma, worker, log))?.role).toBe("worker");
    expect(await prisma.apiToken.count({ where: { tokenHash: hashToken(editor) } })).toBe(1);
  });

  test("stay revoked after a restart", async () => {
    const editor = newToken();
    const config = loadConfig({ BOOTSTRAP_EDITOR_TOKEN: editor });
    await ensureBootstrapTokens(prisma, config, log);
    const row = await prisma.apiToken.findUniqueOrThrow({
      where: { tokenHash: hashToken(editor) },
    });

    await revokeApiToken(prisma, row.id);
    await ensureBootstrapTokens(prisma, config, log);

    expect(await verifyApiToken(prisma, editor, log)).toBeNull();
  });

  test("reject a malformed value without echoing it", () => {
    let error: unknown;
    try {
      loadConfig({ BOOTSTRAP_WORKER_TOKEN: "hunter2" });
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(SetupError);
    expect((error as SetupError).message).toContain("BOOTSTRAP_WORKER_TOKEN=(value hidden)");
    expect((error as SetupError).message).not.toContain("hunter2");
  });
});
