import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { type GraphQLSchema, printSchema } from "graphql";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { authChecker } from "../auth/auth-checker";
import type { PostgresPubSub } from "../pubsub";
import { CompareResolver } from "./resolvers/compare";
import { LaunchSweepResolver } from "./resolvers/launch-sweep";
import { MetricQueryResolver } from "./resolvers/metrics";
import {
  AliasEventFieldResolver,
  ModelAliasFieldResolver,
  ModelResolver,
  ModelVersionFieldResolver,
} from "./resolvers/models";
import { PredictResolver } from "./resolvers/predict";
import { RunCommandResolver } from "./resolvers/run-commands";
import { ArtifactFieldResolver, RunQueryResolver } from "./resolvers/runs-query";
import { SubscriptionResolver } from "./resolvers/subscriptions";
import { SweepQueryResolver } from "./resolvers/sweeps-query";
import { ViewerResolver } from "./resolvers/viewer";
import { WorkerMutationResolver } from "./resolvers/worker";
import { WorkerQueryResolver } from "./resolvers/workers-query";

// biome-ignore lint/complexity/noBannedTypes: type-graphql takes resolver classes as Function.
export const RESOLVERS: NonEmptyArray<Function> = [
  ViewerResolver,
  RunQueryResolver,
  ArtifactFieldResolver,
  SweepQueryResolver,
  MetricQueryResolver,
  CompareResolver,
  WorkerQueryResolver,
  ModelResolver,
  ModelVersionFieldResolver,
  ModelAliasFieldResolver,
  AliasEventFieldResolver,
  PredictResolver,
  LaunchSweepResolver,
  SubscriptionResolver,
  WorkerMutationResolver,
  RunCommandResolver,
];

export const SCHEMA_FILE = path.resolve(import.meta.dirname, "../../schema.graphql");

/** Builds the executable schema; `pubsub` serves the subscriptions of this process. */
export async function createSchema(pubsub: PostgresPubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    authMode: "error",
    pubSub: pubsub,
    validate: false,
  });
}

/** Writes the printed schema beside the app so the dashboard and workers can read the real shape. */
export async function writeSchemaFile(schema: GraphQLSchema, file = SCHEMA_FILE): Promise<void> {
  await writeFile(file, `${printSchema(schema)}\n`);
}
