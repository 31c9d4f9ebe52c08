import { isDeepStrictEqual } from "node:util";
import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import type { ApiContext } from "../../server/context";
import { notFound } from "../../server/errors";
import { RunComparison } from "../types";
import { checkId } from "./ids";

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

@Resolver()
export class CompareResolver {
  @Authorized()
  @Query(() => RunComparison, {
    description: "The runs in the requested order and every config field whose value differs",
  })
  async compareRuns(@Arg("ids", () => [ID]) ids: string[], @Ctx() context: ApiContext) {
    const checked = ids.map((id, index) => checkId(id, `ids[${index}]`));
    const rows = await context.prisma.run.findMany({ where: { id: { in: checked } } });
    const byId = new Map(rows.map((run) => [run.id, run]));
    const runs = checked.map((id) => {
      const run = byId.get(id);
      if (!run) throw notFound("Run", id);
      return run;
    });

    // The full config rather than `hyperparameters`: runs from different sweeps searched
    // different fields, and a field one sweep fixed may be the one another varied.
    const configs = runs.map((run) => asRecord(run.config));
    const names = [...new Set(configs.flatMap((config) => Object.keys(config)))].sort();
    const differing = names.flatMap((name) => {
      const values = configs.map((config) => config[name] ?? null);
      const same = values.every((value) => isDeepStrictEqual(value, values[0]));
      return same ? [] : [{ name, values }];
    });
    return { runs, differing };
  }
}
