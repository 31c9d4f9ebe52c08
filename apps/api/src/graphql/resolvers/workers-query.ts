import { PRESETS, runConfigSchema, SEED_RECIPE } from "@convnet/shared";
import type { db } from "@convnet/shared/prisma";
import { Authorized, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { z } from "zod";
import type { ApiContext } from "../../server/context";
import { JSONScalar, Run, Worker } from "../types";

export interface HyperparameterDescription {
  type: "integer" | "number" | "enum" | "string";
  min?: number;
  max?: number;
  /** True when the bound itself is not allowed (learningRate > 0). */
  exclusiveMin?: boolean;
  values?: string[];
  optional: boolean;
  default: unknown;
}

/** Describes every RunConfig field from the zod schema itself, so the editor never drifts from it. */
export function describeHyperparameters(): Record<string, HyperparameterDescription> {
  const json = z.toJSONSchema(runConfigSchema) as {
    properties: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const required = new Set(json.required ?? []);
  const defaults = SEED_RECIPE as Record<string, unknown>;
  const described: Record<string, HyperparameterDescription> = {};
  for (const [name, property] of Object.entries(json.properties)) {
    const values = Array.isArray(property.enum) ? (property.enum as string[]) : undefined;
    const exclusiveMinimum = property.exclusiveMinimum;
    const minimum = typeof exclusiveMinimum === "number" ? exclusiveMinimum : property.minimum;
    described[name] = {
      type: hyperparameterType(property, values),
      ...(typeof minimum === "number" ? { min: minimum } : {}),
      ...(typeof property.maximum === "number" ? { max: property.maximum } : {}),
      ...(typeof exclusiveMinimum === "number" ? { exclusiveMin: true } : {}),
      ...(values ? { values } : {}),
      optional: !required.has(name),
      default: defaults[name] ?? null,
    };
  }
  return described;
}

function hyperparameterType(
  property: Record<string, unknown>,
  values: string[] | undefined,
): HyperparameterDescription["type"] {
  if (values) return "enum";
  if (property.type === "integer") return "integer";
  return property.type === "string" ? "string" : "number";
}

@Resolver(() => Worker)
export class WorkerQueryResolver {
  @Authorized()
  @Query(() => [Worker], { description: "Registered workers, most recently seen first" })
  workers(@Ctx() context: ApiContext): Promise<db.Worker[]> {
    return context.prisma.worker.findMany({ orderBy: { lastHeartbeatAt: "desc" } });
  }

  @Authorized()
  @Query(() => JSONScalar, { description: "{name: RunConfig} for each preset" })
  presets(): Record<string, unknown> {
    return PRESETS;
  }

  @Authorized()
  @Query(() => JSONScalar, {
    description:
      "Each RunConfig field: type, min, max, allowed values, default (drives the search-space editor)",
  })
  hyperparameterSchema(): Record<string, HyperparameterDescription> {
    return describeHyperparameters();
  }

  @FieldResolver(() => Boolean, {
    description: "Heartbeat seen within HEARTBEAT_TIMEOUT_SECONDS",
  })
  alive(@Root() worker: db.Worker, @Ctx() context: ApiContext): boolean {
    const ageMs = Date.now() - worker.lastHeartbeatAt.getTime();
    return ageMs <= context.config.HEARTBEAT_TIMEOUT_SECONDS * 1_000;
  }

  @FieldResolver(() => Run, { nullable: true })
  currentRun(@Root() worker: db.Worker, @Ctx() context: ApiContext): Promise<db.Run | null> {
    return context.prisma.run.findFirst({
      where: { workerId: worker.id, status: "running" },
      orderBy: { startedAt: "desc" },
    });
  }
}
