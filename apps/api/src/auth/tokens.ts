import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { Role, Viewer } from "./roles";

/** Recognisable in logs, config files and secret scanners. */
export const TOKEN_PREFIX = "cnl_";
/** Maximum staleness of last_used_at, so a busy worker does not write a row on every request. */
const LAST_USED_THROTTLE_MS = 60_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Returns a new random token; nothing is stored until it is created or bootstrapped. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** Creates a token and stores only its hash; the token itself is returned once and never again. */
export async function createApiToken(
  prisma: PrismaClient,
  options: { role: Role; label: string },
): Promise<{ token: string; id: string }> {
  const label = options.label.trim();
  if (label === "") throw new Error("A token needs a non-empty label, e.g. --label alice");

  const token = generateToken();
  const row = await prisma.apiToken.create({
    data: {
      label,
      role: options.role,
      tokenHash: hashToken(token),
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    },
    select: { id: true },
  });
  return { token, id: row.id };
}

/** Marks a token revoked; returns false when no unrevoked token has that id. */
export async function revokeApiToken(prisma: PrismaClient, id: string): Promise<boolean> {
  const result = await prisma.apiToken.updateMany({
    where: { id, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return result.count > 0;
}

export async function listApiTokens(prisma: PrismaClient) {
  return prisma.apiToken.findMany({
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      label: true,
      role: true,
      prefix: true,
      createdAt: true,
      lastUsedAt: true,
      revokedAt: true,
    },
  });
}

/** Returns the caller for a presented token, or null when it is unknown, malformed or revoked. */
export async function verifyApiToken(
  prisma: PrismaClient,
  token: string,
  log: Logger,
): Promise<Viewer | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;

  const row = await prisma.apiToken.findUnique({ where: { tokenHash: hashToken(token) } });
  if (!row || row.revokedAt) return null;

  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_THROTTLE_MS) {
    prisma.apiToken
      .update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } })
      .catch((error: unknown) =>
        log.warn({ err: error, tokenId: row.id }, "Updating a token's last use failed"),
      );
  }
  return { tokenId: row.id, role: row.role, label: row.label };
}

/** Picks the token from `Authorization: Bearer …`, else from the dashboard's cookie. */
export function tokenFromHeaders(headers: {
  authorization?: string | undefined;
  cookie?: string | undefined;
}): { token: string; source: "header" | "cookie" } | null {
  const authorization = headers.authorization?.trim();
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    return match?.[1] ? { token: match[1], source: "header" } : null;
  }
  const cookie = readCookie(headers.cookie, TOKEN_COOKIE);
  return cookie ? { token: cookie, source: "cookie" } : null;
}

export const TOKEN_COOKIE = "convnet_token";

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    if (part.slice(0, index).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}
