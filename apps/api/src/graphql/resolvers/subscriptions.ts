import type { db } from "@convnet/shared/prisma";
import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import type { TopicPayloads } from "../../pubsub";
import type { ApiContext } from "../../server/context";
import { notFound } from "../../server/errors";
import { MetricsLoggedEvent, Run, Sweep } from "../types";

interface SubscriptionArgs {
  runIds?: string[] | null;
  sweepId?: string | null;
  id?: string | null;
}

/**
 * Events carry ids only (NOTIFY payloads are capped at 8000 bytes), so each delivery loads the
 * current row. A row deleted between the event and the load ends that event with NOT_FOUND.
 */
@Resolver()
export class SubscriptionResolver {
  @Authorized()
  @Subscription(() => Run, {
    topics: "RUN_UPDATED",
    filter: ({
      payload,
      args,
    }: {
      payload: TopicPayloads["RUN_UPDATED"];
      args: SubscriptionArgs;
    }) =>
      (!args.runIds || args.runIds.includes(payload.runId)) &&
      (!args.sweepId || args.sweepId === payload.sweepId),
    description: "A run changed state or progressed; filter by runIds and/or sweepId",
  })
  async runUpdated(
    @Root() payload: TopicPayloads["RUN_UPDATED"],
    @Arg("runIds", () => [ID], { nullable: true }) _runIds: string[] | null,
    @Arg("sweepId", () => ID, { nullable: true }) _sweepId: string | null,
    @Ctx() context: ApiContext,
  ): Promise<db.Run> {
    const run = await context.prisma.run.findUnique({ where: { id: payload.runId } });
    if (!run) throw notFound("Run", payload.runId);
    return run;
  }

  @Authorized()
  @Subscription(() => MetricsLoggedEvent, {
    topics: "METRICS_LOGGED",
    filter: ({
      payload,
      args,
    }: {
      payload: TopicPayloads["METRICS_LOGGED"];
      args: SubscriptionArgs;
    }) => args.runIds?.includes(payload.runId) ?? false,
    description: "Metric points written for one of the runs",
  })
  async metricsLogged(
    @Root() payload: TopicPayloads["METRICS_LOGGED"],
    @Arg("runIds", () => [ID]) _runIds: string[],
    @Ctx() context: ApiContext,
  ): Promise<MetricsLoggedEvent> {
    const rows = await context.prisma.metricPoint.findMany({
      where: {
        runId: payload.runId,
        key: { in: payload.keys },
        step: { gte: payload.fromStep, lte: payload.toStep },
      },
      orderBy: [{ step: "asc" }, { key: "asc" }],
    });
    return {
      runId: payload.runId,
      keys: payload.keys,
      points: rows.map((row) => ({
        runId: row.runId,
        key: row.key,
        step: row.step,
        epoch: row.epoch,
        phase: row.phase,
        value: row.value,
        min: null,
        max: null,
        wallTime: row.wallTime,
      })),
    };
  }

  @Authorized()
  @Subscription(() => Sweep, {
    topics: "SWEEP_UPDATED",
    filter: ({
      payload,
      args,
    }: {
      payload: TopicPayloads["SWEEP_UPDATED"];
      args: SubscriptionArgs;
    }) => !args.id || args.id === payload.sweepId,
    description: "A sweep's status or run counts changed; all sweeps when id is omitted",
  })
  async sweepUpdated(
    @Root() payload: TopicPayloads["SWEEP_UPDATED"],
    @Arg("id", () => ID, { nullable: true }) _id: string | null,
    @Ctx() context: ApiContext,
  ): Promise<db.Sweep> {
    const sweep = await context.prisma.sweep.findUnique({ where: { id: payload.sweepId } });
    if (!sweep) throw notFound("Sweep", payload.sweepId);
    return sweep;
  }
}
