import type { AuthChecker } from "type-graphql";
import type { ApiContext } from "../server/context";
import { apiError, ErrorCode } from "../server/errors";
import { isRole } from "./roles";

/**
 * `@Authorized()` admits any valid token; `@Authorized("editor")` admits only the listed roles.
 * Throws rather than returning false so the client gets our codes instead of "Access denied!".
 */
export const authChecker: AuthChecker<ApiContext> = ({ context, info }, roles) => {
  const viewer = context.viewer;
  if (!viewer) {
    throw apiError(ErrorCode.UNAUTHENTICATED, "Send an API token: Authorization: Bearer <token>.");
  }
  if (roles.length === 0 || roles.some((role) => isRole(role) && role === viewer.role)) return true;

  throw apiError(
    ErrorCode.FORBIDDEN,
    `${info.fieldName} needs a token with role ${roles.join(" or ")}; this token (${viewer.label}) has role ${viewer.role}.`,
  );
};
