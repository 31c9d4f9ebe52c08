import type { Config, Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { Role } from "./roles";
import { hashToken, TOKEN_PREFIX } from "./tokens";

/**
 * Makes the tokens named in BOOTSTRAP_EDITOR_TOKEN and BOOTSTRAP_WORKER_TOKEN valid, so a
 * deployment (docker-compose's .env) can hand the same secret to its trainers and its people
 * before any token exists. Only hashes are stored. A bootstrap token that was revoked stays
 * revoked: revocation wins over configuration, and the API logs a warning instead.
 */
export async function ensureBootstrapTokens(
  prisma: PrismaClient,
  config: Config,
  log: Logger,
): Promise<void> {
  const configured: [Role, string | undefined][] = [
    ["editor", config.BOOTSTRAP_EDITOR_TOKEN],
    ["worker", config.BOOTSTRAP_WORKER_TOKEN],
  ];

  for (const [role, token] of configured) {
    if (!token) continue;
    const tokenHash = hashToken(token);
    const existing = await prisma.apiToken.findUnique({ where: { tokenHash } });
    if (existing?.revokedAt) {
      log.warn({ role, tokenId: existing.id }, "A bootstrap token was revoked; it stays revoked");
      continue;
    }
    if (existing && existing.role !== role) {
      log.warn(
        { role, tokenId: existing.id },
        "A bootstrap token already exists with another role",
      );
      continue;
    }
    if (existing) continue;

    const created = await prisma.apiToken.create({
      data: {
        label: `bootstrap ${role}`,
        role,
        tokenHash,
        prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      },
      select: { id: true },
    });
    log.info({ role, tokenId: created.id }, "Stored a bootstrap token");
  }
}
