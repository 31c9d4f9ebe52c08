import { createRequire } from "node:module";
import type { ApolloServerPlugin } from "@apollo/server";
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type SelectionSetNode,
} from "graphql";
import type * as QueryComplexity from "graphql-query-complexity";
import type { ComplexityEstimator } from "graphql-query-complexity";

// The CommonJS build, because Node loads `graphql` itself as CommonJS while the ESM build of this
// package imports graphql's .mjs files, and two copies of graphql reject each other's schemas.
const { getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  "graphql-query-complexity",
) as typeof QueryComplexity;

import { ErrorCode } from "./errors";

/** Deep enough for run → sweep → runs → edges → node → checkpoints, shallow enough to stop cycles. */
export const MAX_QUERY_DEPTH = 12;
/** About 10 pages of 100 fully selected runs; a field costs 1, a page multiplies its children. */
export const MAX_QUERY_COST = 50_000;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_RUN_IDS = 200;
export const MAX_METRIC_POINTS_PER_BATCH = 5_000;
export const MAX_METRIC_KEYS = 20;

/** Array arguments with a cap, by field name, so every resolver of that field gets the same guard. */
const LIST_LIMITS: Record<string, Record<string, number>> = {
  metricSeries: { runIds: MAX_RUN_IDS, keys: MAX_METRIC_KEYS },
  compareRuns: { ids: MAX_RUN_IDS },
  metricsLogged: { runIds: MAX_RUN_IDS },
  runUpdated: { runIds: MAX_RUN_IDS },
  logMetrics: { points: MAX_METRIC_POINTS_PER_BATCH },
};

function rejected(message: string, field: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: ErrorCode.BAD_USER_INPUT,
      fields: [{ field, message }],
      http: { status: 400 },
    },
  });
}

/** Checks the capped list arguments and prices a page as its size times its children. */
const limitEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const limits = LIST_LIMITS[field.name];
  for (const [name, max] of Object.entries(limits ?? {})) {
    const value: unknown = args[name];
    if (Array.isArray(value) && value.length > max) {
      throw rejected(
        `${field.name}(${name}:) has ${value.length} entries; send at most ${max} per request.`,
        name,
      );
    }
  }

  const first: unknown = args.first;
  if (typeof first === "number") {
    if (first < 0 || first > MAX_PAGE_SIZE) {
      throw rejected(
        `${field.name}(first: ${first}) is out of range; use 0..${MAX_PAGE_SIZE}.`,
        "first",
      );
    }
    return 1 + first * childComplexity;
  }
  if (field.name === "metricSeries" && Array.isArray(args.runIds) && Array.isArray(args.keys)) {
    return 1 + args.runIds.length * args.keys.length * Math.max(1, childComplexity);
  }
  return undefined;
};

/** Returns the deepest field nesting of the operation, following fragment spreads once each. */
export function queryDepth(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }

  const depthOf = (selectionSet: SelectionSetNode, visited: Set<string>): number => {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? depthOf(selection.selectionSet, visited) : 0;
        deepest = Math.max(deepest, 1 + below);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, visited));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visited.has(name)) continue;
        deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...visited, name])));
      }
    }
    return deepest;
  };

  let deepest = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      deepest = Math.max(deepest, depthOf(definition.selectionSet, new Set()));
    }
  }
  return deepest;
}

/** Tells graphql-js errors without a code apart, by name because this package has its own graphql. */
function isUncodedGraphQLError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== "GraphQLError") return false;
  const extensions = (error as { extensions?: Record<string, unknown> }).extensions;
  return extensions?.code === undefined;
}

/**
 * Rejects an operation before it runs when it is too deep, too costly or sends an oversized list.
 * Runs after variables are known, so `first: $n` and list variables count too.
 */
export function checkOperationLimits(options: {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined | null;
}): void {
  const depth = queryDepth(options.document);
  if (depth > MAX_QUERY_DEPTH) {
    throw rejected(`The query is ${depth} levels deep; the limit is ${MAX_QUERY_DEPTH}.`, "query");
  }

  let cost: number;
  try {
    cost = getComplexity({
      schema: options.schema,
      query: options.document,
      variables: options.variables ?? {},
      ...(options.operationName ? { operationName: options.operationName } : {}),
      estimators: [limitEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (error) {
    // A mistyped variable comes out of getComplexity with no code, which clients would see as an
    // internal error. Execution rejects it as BAD_USER_INPUT and runs nothing, so skip the price.
    if (isUncodedGraphQLError(error)) return;
    throw error;
  }
  if (cost > MAX_QUERY_COST) {
    throw rejected(
      `The query costs ${cost}; the limit is ${MAX_QUERY_COST}. Request smaller pages (first:) or fewer fields.`,
      "query",
    );
  }
}

export const operationLimitsPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ request, document, schema }) {
        checkOperationLimits({
          schema,
          document,
          variables: request.variables,
          operationName: request.operationName,
        });
      },
    };
  },
};
