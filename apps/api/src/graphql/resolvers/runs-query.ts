import type { db } from "@convnet/shared/prisma";
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Int,
  Query,
  Resolver,
  Root,
} from "type-graphql";
import { artifactUrlPath } from "../../artifacts/http";
import { searchRuns, toRunConnection } from "../../queries/run-search";
import type { ApiContext } from "../../server/context";
import { DEFAULT_PAGE_SIZE } from "../../server/limits";
import {
  Artifact,
  JSONScalar,
  Run,
  RunConnection,
  RunFilter,
  RunSort,
  Sweep,
  Worker,
} from "../types";
import { checkId } from "./ids";

@Resolver(() => Run)
export class RunQueryResolver {
  @Authorized()
  @Query(() => RunConnection, { description: "Runs, filtered and sorted; pages with first/after" })
  async runs(
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("filter", () => RunFilter, { nullable: true }) filter: RunFilter | null,
    @Arg("sort", () => RunSort, { nullable: true }) sort: RunSort | null,
    @Ctx() context: ApiContext,
  ) {
    const page = await searchRuns(context.prisma, {
      first: first ?? DEFAULT_PAGE_SIZE,
      after,
      filter,
      sort,
    });
    return toRunConnection(page);
  }

  @Authorized()
  @Query(() => Run, { nullable: true })
  run(@Arg("id", () => ID) id: string, @Ctx() context: ApiContext): Promise<db.Run | null> {
    return context.prisma.run.findUnique({ where: { id: checkId(id, "id") } });
  }

  @FieldResolver(() => Sweep, { nullable: true })
  async sweep(@Root() run: db.Run, @Ctx() context: ApiContext) {
    return run.sweepId ? ((await context.loaders.sweep(run.sweepId)) ?? null) : null;
  }

  @FieldResolver(() => Worker, { nullable: true })
  async worker(@Root() run: db.Run, @Ctx() context: ApiContext) {
    return run.workerId ? ((await context.loaders.worker(run.workerId)) ?? null) : null;
  }

  @FieldResolver(() => [Artifact])
  async checkpoints(@Root() run: db.Run, @Ctx() context: ApiContext) {
    return (await context.loaders.checkpoints(run.id)) ?? [];
  }

  @FieldResolver(() => [Artifact], {
    description:
      "The final model in the tfjs layers format (model/model.json, model/weights.bin); empty until the run succeeds",
  })
  async modelFiles(@Root() run: db.Run, @Ctx() context: ApiContext) {
    return context.prisma.artifact.findMany({
      where: { runId: run.id, kind: "model" },
      orderBy: { path: "asc" },
    });
  }

  @FieldResolver(() => JSONScalar, {
    nullable: true,
    description: 'The latest value of each metric key, e.g. {"val_accuracy": 0.98}',
  })
  async lastMetrics(@Root() run: db.Run, @Ctx() context: ApiContext) {
    return (await context.loaders.lastMetrics(run.id)) ?? null;
  }
}

@Resolver(() => Artifact)
export class ArtifactFieldResolver {
  @FieldResolver(() => Float)
  sizeBytes(@Root() artifact: db.Artifact): number {
    return Number(artifact.sizeBytes);
  }

  @FieldResolver(() => String, {
    description: "GET path on the API that streams the file (auth required)",
  })
  url(@Root() artifact: db.Artifact): string {
    return artifactUrlPath(artifact.id);
  }
}
