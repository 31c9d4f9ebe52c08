import { randomUUID } from "node:crypto";
import type { Logger } from "@convnet/shared";
import type { GraphQLFormattedError } from "graphql";
import { ErrorCode, isPublicCode } from "./errors";

/** Codes from Apollo and graphql-js that describe a bad request, mapped onto ours. */
const REQUEST_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/** Prisma error codes that are the caller's doing, with the code the client gets for each. */
const PRISMA_CODES: Record<string, { code: ErrorCode; message: string }> = {
  P2002: { code: ErrorCode.CONFLICT, message: "The change conflicts with an existing record." },
  P2025: { code: ErrorCode.NOT_FOUND, message: "The record to change was not found." },
  P2023: { code: ErrorCode.BAD_USER_INPUT, message: "An id is not a valid UUID." },
};

function prismaCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

interface WrappedError {
  name?: unknown;
  originalError?: unknown;
}

/** Names of GraphQLError and of Apollo's subclass for variables that do not fit their types. */
const GRAPHQL_ERROR_NAMES = new Set<unknown>(["GraphQLError", "UserInputError"]);

/**
 * Tells errors built as GraphQLError (ours, Apollo's, graphql-js's) from anything else. By name
 * rather than instanceof, because a test runner may load a second copy of graphql.
 */
function isGraphQLError(error: unknown): error is WrappedError {
  return (
    typeof error === "object" &&
    error !== null &&
    GRAPHQL_ERROR_NAMES.has((error as WrappedError).name)
  );
}

/** Walks `originalError` links to the error a resolver or plugin actually threw. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}

/**
 * Gives clients only codes from ErrorCode and messages written for them; anything unexpected is
 * logged in full and reaches the client as INTERNAL_SERVER_ERROR with an id to find the log line.
 */
export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    const cause = rootCause(error);
    const thrownByUs = isGraphQLError(cause) || !(cause instanceof Error);

    if (isPublicCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR && thrownByUs) {
      const { stacktrace: _stacktrace, http: _http, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (typeof code === "string" && REQUEST_ERROR_CODES.has(code)) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }

    const mapped = PRISMA_CODES[prismaCode(cause) ?? ""];
    if (mapped) {
      return { message: mapped.message, path: formatted.path, extensions: { code: mapped.code } };
    }

    const errorId = randomUUID();
    log.error(
      { err: cause, errorId, path: formatted.path },
      "A request failed with an unexpected error",
    );
    return {
      message: `Internal server error (error id ${errorId}); the API log has the details.`,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId },
    };
  };
}
