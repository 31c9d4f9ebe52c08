import type { db } from "@convnet/shared/prisma";
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";
import { decodeCursor, encodeCursor } from "../../queries/cursor";
import { searchRuns, toRunConnection } from "../../queries/run-search";
import type { ApiContext } from "../../server/context";
import { invalidInput } from "../../server/errors";
import { DEFAULT_PAGE_SIZE } from "../../server/limits";
import { Run, RunConnection, RunCounts, Sweep, SweepConnection } from "../types";
import { checkId } from "./ids";

/** Sweep metrics and the run column holding each one's final value. */
const BEST_RUN_COLUMNS: Record<string, keyof db.Run> = {
  val_accuracy: "bestValAccuracy",
  test_accuracy: "testAccuracy",
  test_loss: "testLoss",
};

@Resolver(() => Sweep)
export class SweepQueryResolver {
  @Authorized()
  @Query(() => SweepConnection, { description: "Sweeps, newest first" })
  async sweeps(
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() context: ApiContext,
  ) {
    const size = first ?? DEFAULT_PAGE_SIZE;
    const cursor = after ? decodeCursor(after) : null;
    const createdAt = cursor && typeof cursor.value === "string" ? new Date(cursor.value) : null;
    if (cursor && (!createdAt || Number.isNaN(createdAt.getTime()))) {
      throw invalidInput([{ field: "after", message: "is not a cursor from this list" }]);
    }

    const where =
      cursor && createdAt
        ? { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: cursor.id } }] }
        : {};
    const [rows, totalCount] = await Promise.all([
      context.prisma.sweep.findMany({
        where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: size + 1,
      }),
      context.prisma.sweep.count(),
    ]);
    const edges = rows.slice(0, size).map((sweep) => ({
      cursor: encodeCursor({ value: sweep.createdAt.toISOString(), id: sweep.id }),
      node: sweep,
    }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount,
    };
  }

  @Authorized()
  @Query(() => Sweep, { nullable: true })
  sweep(@Arg("id", () => ID) id: string, @Ctx() context: ApiContext): Promise<db.Sweep | null> {
    return context.prisma.sweep.findUnique({ where: { id: checkId(id, "id") } });
  }

  @FieldResolver(() => RunCounts)
  async runCounts(@Root() sweep: db.Sweep, @Ctx() context: ApiContext) {
    return context.loaders.runCounts(sweep.id);
  }

  @FieldResolver(() => Run, {
    nullable: true,
    description: "The succeeded run with the best value of the sweep's metric",
  })
  async bestRun(@Root() sweep: db.Sweep, @Ctx() context: ApiContext): Promise<db.Run | null> {
    const column = BEST_RUN_COLUMNS[sweep.metric];
    if (column) {
      return context.prisma.run.findFirst({
        where: { sweepId: sweep.id, status: "succeeded", [column]: { not: null } },
        orderBy: [
          { [column]: sweep.direction === "minimize" ? "asc" : "desc" },
          { createdAt: "asc" },
        ],
      });
    }
    // val_loss has no column of its own: rank by the lowest val_loss each run logged.
    const rows = await context.prisma.$queryRaw<{ run_id: string }[]>`
      SELECT m.run_id::text AS run_id
      FROM metric_point m JOIN run r ON r.id = m.run_id
      WHERE r.sweep_id = ${sweep.id}::uuid AND r.status = 'succeeded' AND m.key = ${sweep.metric}
      GROUP BY m.run_id
      ORDER BY CASE WHEN ${sweep.direction} = 'minimize' THEN min(m.value) ELSE -max(m.value) END
      LIMIT 1`;
    const runId = rows[0]?.run_id;
    return runId ? context.prisma.run.findUnique({ where: { id: runId } }) : null;
  }

  @FieldResolver(() => RunConnection, { description: "The sweep's runs in launch order" })
  async runs(
    @Root() sweep: db.Sweep,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() context: ApiContext,
  ) {
    const page = await searchRuns(context.prisma, {
      first: first ?? DEFAULT_PAGE_SIZE,
      after,
      filter: { sweepId: sweep.id },
      sort: { field: "sweepIndex", direction: "asc" },
    });
    return toRunConnection(page);
  }
}
