import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config, Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import { createSchema, writeSchemaFile } from "../graphql/schema";
import { ModelCache } from "../models/model-cache";
import type { PostgresPubSub } from "../pubsub";
import { MetricSeriesCache } from "../queries/metric-series-cache";
import { createApollo } from "./apollo";
import { createContext } from "./context";
import { createRequestHandler, type ExtraRoute } from "./http";
import { attachWebSocketServer } from "./websocket";

export type { ApiContext, ServerDependencies } from "./context";
export type { ExtraRoute } from "./http";

export interface ApiServer {
  httpServer: Server;
  /** Listens and returns the GraphQL URL, e.g. http://127.0.0.1:4000/graphql. */
  listen(port: number, host: string): Promise<string>;
  /** Stops taking requests, finishes the ones in flight and closes every subscription. */
  close(): Promise<void>;
}

/** Builds the HTTP + WebSocket server; the caller owns Prisma, pub/sub and the database. */
export async function createApiServer(options: {
  prisma: PrismaClient;
  pubsub: PostgresPubSub;
  config: Config;
  log: Logger;
  extraRoutes?: ExtraRoute[];
  writeSchema?: boolean;
}): Promise<ApiServer> {
  const modelCache = new ModelCache(
    options.prisma,
    options.config.artifactDir,
    options.log.child({ component: "models" }),
    options.pubsub,
  );
  const dependencies = {
    prisma: options.prisma,
    pubsub: options.pubsub,
    config: options.config,
    log: options.log,
    modelCache,
    seriesCache: new MetricSeriesCache(),
  };
  const schema = await createSchema(options.pubsub);
  if (options.writeSchema) await writeSchemaFile(schema);

  const httpServer = createServer();
  const webSockets = attachWebSocketServer({
    httpServer,
    schema,
    prisma: options.prisma,
    log: options.log.child({ component: "websocket" }),
    allowedOrigins: options.config.allowedOrigins,
    createContext: (viewer) => createContext(dependencies, viewer),
  });
  const apollo = createApollo({
    schema,
    httpServer,
    log: options.log.child({ component: "apollo" }),
    onDrain: () => webSockets.close(),
  });
  await apollo.start();

  const handler = createRequestHandler({
    apollo,
    prisma: options.prisma,
    log: options.log,
    createContext: (viewer) => createContext(dependencies, viewer),
    extraRoutes: options.extraRoutes ?? [],
  });
  httpServer.on("request", (request, response) => {
    void handler(request, response);
  });

  return {
    httpServer,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          const address = httpServer.address() as AddressInfo;
          resolve(`http://${host}:${address.port}/graphql`);
        });
      }),
    close: async () => {
      await apollo.stop();
      modelCache.close();
    },
  };
}
