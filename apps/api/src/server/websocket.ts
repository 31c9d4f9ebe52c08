import type { Server } from "node:http";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
// graphql's CommonJS entry by path: it is the copy type-graphql builds the schema with, also under
// vitest, which would otherwise hand this file graphql's ESM copy and fail "another realm" checks.
import { GraphQLError, type GraphQLSchema, parse, validate } from "graphql/index.js";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Viewer } from "../auth/roles";
import { tokenFromHeaders, verifyApiToken } from "../auth/tokens";
import type { ApiContext } from "./context";
import { createErrorFormatter } from "./format-error";
import { checkOperationLimits } from "./limits";

interface ConnectionExtra extends Record<PropertyKey, unknown> {
  viewer?: Viewer;
}

function bearer(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return value.replace(/^Bearer\s+/i, "").trim() || undefined;
}

/**
 * Serves graphql-ws subscriptions on the HTTP server's /graphql path. A connection authenticates
 * once, with connectionParams.authorization or the dashboard's cookie; a cookie only counts when
 * the upgrade comes from an allowed origin, since browsers attach cookies to cross-site upgrades.
 */
export function attachWebSocketServer(options: {
  httpServer: Server;
  schema: GraphQLSchema;
  prisma: PrismaClient;
  log: Logger;
  allowedOrigins: string[];
  createContext: (viewer: Viewer) => ApiContext;
}) {
  const { log, prisma } = options;
  const formatError = createErrorFormatter(log);
  const webSocketServer = new WebSocketServer({ server: options.httpServer, path: "/graphql" });

  const cleanup = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: options.schema,
      onConnect: async (context) => {
        const request = context.extra.request;
        const fromParams = bearer(context.connectionParams?.authorization);
        let token = fromParams;
        if (!token) {
          const presented = tokenFromHeaders({ cookie: request.headers.cookie });
          const origin = request.headers.origin;
          if (presented && origin && !options.allowedOrigins.includes(origin)) {
            log.warn(
              { origin },
              "Rejected a cookie-authenticated WebSocket from an origin not in ALLOWED_ORIGINS",
            );
            return false;
          }
          token = presented?.token;
        }
        const viewer = token ? await verifyApiToken(prisma, token, log) : null;
        if (!viewer) return false;
        // NOTE: the token is checked once per connection, so revoking it does not close open subscriptions.
        context.extra.viewer = viewer;
        return true;
      },
      onSubscribe: (context, _id, payload) => {
        const viewer = context.extra.viewer;
        if (!viewer)
          return [new GraphQLError("Unauthenticated", { extensions: { code: "UNAUTHENTICATED" } })];
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [
            error instanceof GraphQLError
              ? error
              : new GraphQLError("The query is not valid GraphQL."),
          ];
        }
        const errors = validate(options.schema, document);
        if (errors.length > 0) return errors;
        try {
          checkOperationLimits({
            schema: options.schema,
            document,
            variables: payload.variables ?? undefined,
            operationName: payload.operationName,
          });
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        return {
          schema: options.schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: options.createContext(viewer),
        };
      },
      onNext: (_context, _id, _payload, _args, result) => {
        if (!result.errors) return;
        return {
          ...result,
          errors: result.errors.map((error) => formatError(error.toJSON(), error)),
        };
      },
      onError: (_context, id, _payload, errors) => {
        log.debug(
          { subscriptionId: id, errors: errors.map((error) => error.message) },
          "A subscription was rejected",
        );
      },
    },
    webSocketServer,
  );

  return {
    async close() {
      await cleanup.dispose();
      await new Promise<void>((resolve) => webSocketServer.close(() => resolve()));
    },
  };
}

export { CloseCode };
