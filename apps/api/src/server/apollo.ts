import type { Server } from "node:http";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import type { Logger } from "@convnet/shared";
import type { GraphQLSchema } from "graphql";
import type { ApiContext } from "./context";
import { createErrorFormatter } from "./format-error";
import { operationLimitsPlugin } from "./limits";

export function createApollo(options: {
  schema: GraphQLSchema;
  httpServer: Server;
  log: Logger;
  onDrain: () => Promise<void>;
}): ApolloServer<ApiContext> {
  const { log } = options;
  return new ApolloServer<ApiContext>({
    schema: options.schema,
    csrfPrevention: true,
    // main.ts owns the shutdown order; Apollo would otherwise stop itself and re-send the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // The API runs with NODE_ENV=production, which would turn introspection off; every request
    // needs a token and schema.graphql is published, so GraphQL tools may keep reading the schema.
    introspection: true,
    formatError: createErrorFormatter(log),
    logger: {
      debug: (message) => log.debug(message),
      info: (message) => log.info(message),
      warn: (message) => log.warn(message),
      error: (message) => log.error(message),
    },
    plugins: [
      operationLimitsPlugin,
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      {
        async serverWillStart() {
          return { drainServer: options.onDrain };
        },
      },
    ],
  });
}
