import type { db } from "@convnet/shared/prisma";
import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { DEFAULT_MAX_POINTS, loadMetricSeries, MAX_MAX_POINTS } from "../../queries/metric-series";
import type { ApiContext } from "../../server/context";
import { invalidInput } from "../../server/errors";
import { MetricSeries, Phase } from "../types";
import { checkId } from "./ids";

@Resolver()
export class MetricQueryResolver {
  @Authorized()
  @Query(() => [MetricSeries], {
    description:
      "One line per run and key, downsampled to at most maxPoints (default 500) points by bucketed min/max/last",
  })
  async metricSeries(
    @Arg("runIds", () => [ID]) runIds: string[],
    @Arg("keys", () => [String]) keys: string[],
    @Arg("phase", () => Phase, { nullable: true }) phase: db.Phase | null,
    @Arg("maxPoints", () => Int, { nullable: true }) maxPoints: number | null,
    @Ctx() context: ApiContext,
  ): Promise<MetricSeries[]> {
    const limit = maxPoints ?? DEFAULT_MAX_POINTS;
    if (limit < 2 || limit > MAX_MAX_POINTS) {
      throw invalidInput([
        { field: "maxPoints", message: `${limit} is out of range; use 2..${MAX_MAX_POINTS}` },
      ]);
    }
    const ids = runIds.map((id, index) => checkId(id, `runIds[${index}]`));
    const lines = await loadMetricSeries(context.prisma, context.seriesCache, {
      runIds: [...new Set(ids)],
      keys: [...new Set(keys)],
      phase,
      maxPoints: limit,
    });
    return lines.map((line) => new MetricSeries(line));
  }
}
