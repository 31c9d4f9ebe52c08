import type { Config, Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { Viewer } from "../auth/roles";
import type { ModelCache } from "../models/model-cache";
import type { PostgresPubSub } from "../pubsub";
import type { MetricSeriesCache } from "../queries/metric-series-cache";
import { createLoaders, type Loaders } from "./loaders";

/** Services that live for the whole process and that every request shares. */
export interface ServerDependencies {
  prisma: PrismaClient;
  config: Config;
  log: Logger;
  pubsub: PostgresPubSub;
  /** Loaded model versions for predict, shared by every request of the process. */
  modelCache: ModelCache;
  /** Downsampled metric lines, valid while their run row is unchanged. */
  seriesCache: MetricSeriesCache;
}

/** The context of one GraphQL operation (an HTTP request or one subscription). */
export interface ApiContext extends ServerDependencies {
  /** Null only while the auth checks run; every resolver gets an authenticated caller. */
  viewer: Viewer | null;
  loaders: Loaders;
}

export function createContext(dependencies: ServerDependencies, viewer: Viewer | null): ApiContext {
  return {
    ...dependencies,
    viewer,
    log: viewer ? dependencies.log.child({ tokenId: viewer.tokenId }) : dependencies.log,
    loaders: createLoaders(dependencies.prisma),
  };
}
