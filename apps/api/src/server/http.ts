import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApolloServer, HeaderMap } from "@apollo/server";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { Viewer } from "../auth/roles";
import { tokenFromHeaders, verifyApiToken } from "../auth/tokens";
import type { ApiContext } from "./context";
import { ErrorCode } from "./errors";

/** Large enough for a checkpoint of the biggest architecture sent as base64 in one mutation. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** A route outside GraphQL (artifact downloads); returns false when the path is not its own. */
export type ExtraRoute = (
  request: IncomingMessage,
  response: ServerResponse,
  viewer: Viewer | null,
) => Promise<boolean>;

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

function sendGraphQLError(
  response: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
): void {
  sendJson(response, status, { errors: [{ message, extensions: { code } }] });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new RequestError(413, `The request body is over ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function parseBody(request: IncomingMessage): Promise<unknown> {
  if (request.method !== "POST") return undefined;
  const text = await readBody(request);
  const contentType = request.headers["content-type"] ?? "";
  if (!contentType.toLowerCase().startsWith("application/json")) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestError(400, "The request body is not valid JSON.");
  }
}

function toHeaderMap(request: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

/** Returns the caller, or null when the request carries no token or an unknown/revoked one. */
export async function authenticate(
  prisma: PrismaClient,
  headers: { authorization?: string | undefined; cookie?: string | undefined },
  log: Logger,
): Promise<Viewer | null> {
  const presented = tokenFromHeaders(headers);
  if (!presented) return null;
  return verifyApiToken(prisma, presented.token, log);
}

/** Handles /healthz, /graphql and the extra routes; every GraphQL request needs a valid token. */
export function createRequestHandler(options: {
  apollo: ApolloServer<ApiContext>;
  prisma: PrismaClient;
  log: Logger;
  createContext: (viewer: Viewer) => ApiContext;
  extraRoutes: ExtraRoute[];
}) {
  const { apollo, prisma, log } = options;

  const checkHealth = async (response: ServerResponse) => {
    try {
      await prisma.$queryRaw`SELECT 1`;
      sendJson(response, 200, { status: "ok", database: "reachable" });
    } catch (error) {
      log.error({ err: error }, "Health check failed: the database is unreachable");
      sendJson(response, 503, { status: "unavailable", database: "unreachable" });
    }
  };

  const handleGraphQL = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    const viewer = await authenticate(prisma, request.headers, log);
    if (!viewer) {
      const message = tokenFromHeaders(request.headers)
        ? "The API token is invalid or revoked; create one with `npm run token -- create`."
        : "Send an API token: Authorization: Bearer <token>.";
      sendGraphQLError(response, 401, ErrorCode.UNAUTHENTICATED, message);
      return;
    }

    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: request.method ?? "GET",
        headers: toHeaderMap(request),
        search: url.search,
        body: await parseBody(request),
      },
      context: async () => options.createContext(viewer),
    });

    const headers: Record<string, string> = {};
    for (const [name, value] of result.headers) headers[name] = value;
    response.writeHead(result.status ?? 200, headers);
    if (result.body.kind === "complete") {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  };

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://localhost");
    try {
      if (url.pathname === "/healthz" && request.method === "GET") {
        await checkHealth(response);
        return;
      }
      if (url.pathname === "/graphql") {
        await handleGraphQL(request, response, url);
        return;
      }
      if (options.extraRoutes.length > 0) {
        const viewer = await authenticate(prisma, request.headers, log);
        for (const route of options.extraRoutes) {
          if (await route(request, response, viewer)) return;
        }
      }
      sendJson(response, 404, { error: `No route for ${request.method} ${url.pathname}.` });
    } catch (error) {
      if (error instanceof RequestError) {
        sendGraphQLError(response, error.status, ErrorCode.BAD_USER_INPUT, error.message);
        return;
      }
      log.error({ err: error, path: url.pathname }, "A request failed with an unexpected error");
      if (!response.headersSent) {
        sendGraphQLError(response, 500, ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error.");
      } else {
        response.destroy();
      }
    }
  };
}
