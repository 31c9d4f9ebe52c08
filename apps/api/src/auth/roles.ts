import type { db } from "@convnet/shared/prisma";

export type Role = db.TokenRole;
export const ROLES = ["viewer", "editor", "worker"] as const satisfies readonly Role[];

/**
 * Roles are separate capabilities, not a ladder: every role reads, an editor also launches sweeps
 * and manages models, a worker also claims runs and reports on them. Neither can do the other's work.
 */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** The caller behind a request, as the resolvers see it. */
export interface Viewer {
  tokenId: string;
  role: Role;
  label: string;
}
