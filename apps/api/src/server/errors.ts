import { GraphQLError } from "graphql";

/** Every code a client can see in `extensions.code`; anything else is masked as INTERNAL_SERVER_ERROR. */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));

/** One invalid input field, so the dashboard can put the message beside the control. */
export interface FieldError {
  field: string;
  message: string;
}

export function isPublicCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && PUBLIC_CODES.has(code);
}

export function apiError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** BAD_USER_INPUT listing every invalid field; the message repeats them for clients that show only it. */
export function invalidInput(fields: FieldError[], summary = "Invalid input"): GraphQLError {
  const detail = fields.map((entry) => `${entry.field}: ${entry.message}`).join("; ");
  return apiError(ErrorCode.BAD_USER_INPUT, `${summary}: ${detail}`, { fields });
}

export function notFound(what: string, id: string, fix?: string): GraphQLError {
  const message = `${what} ${JSON.stringify(id)} not found.${fix ? ` ${fix}` : ""}`;
  return apiError(ErrorCode.NOT_FOUND, message);
}

export function conflict(message: string): GraphQLError {
  return apiError(ErrorCode.CONFLICT, message);
}
