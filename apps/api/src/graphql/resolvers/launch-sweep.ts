import type { db } from "@convnet/shared/prisma";
import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { publish } from "../../pubsub";
import { scheduleSweep } from "../../runs/scheduler";
import type { ApiContext } from "../../server/context";
import { invalidInput } from "../../server/errors";
import { checkBaseModels } from "../../sweeps/base-models";
import { planSweep } from "../../sweeps/search-space";
import { Sweep, SweepSpec } from "../types";

@Resolver()
export class LaunchSweepResolver {
  @Authorized("editor")
  @Mutation(() => Sweep, {
    description:
      "Validates the spec, creates the sweep and all its queued runs, and starts scheduling",
  })
  async launchSweep(
    @Arg("spec", () => SweepSpec) spec: SweepSpec,
    @Ctx() context: ApiContext,
  ): Promise<db.Sweep> {
    const planned = planSweep(spec);
    if (!planned.ok) throw invalidInput(planned.errors, "Invalid sweep spec");
    const { plan } = planned;
    const searchSpace = spec.searchSpace as Record<string, unknown> | null;
    const baseModelErrors = await checkBaseModels(
      context.prisma,
      plan.runs,
      searchSpace !== null && typeof searchSpace === "object" && "baseModel" in searchSpace,
    );
    if (baseModelErrors.length > 0) throw invalidInput(baseModelErrors, "Invalid sweep spec");

    const sweep = await context.prisma.$transaction(async (tx) => {
      const created = await tx.sweep.create({
        data: {
          name: spec.name.trim(),
          method: spec.method as db.SearchMethod,
          searchSpace: spec.searchSpace as db.Prisma.InputJsonValue,
          baseConfig: plan.baseConfig,
          metric: spec.metric,
          direction: spec.direction as db.MetricDirection,
          runBudget: spec.runBudget,
          concurrency: spec.concurrency,
          createdBy: context.viewer?.label ?? null,
        },
      });
      await tx.run.createMany({
        data: plan.runs.map((run) => ({
          sweepId: created.id,
          sweepIndex: run.index,
          name: `${created.name} #${run.index + 1}`,
          status: "queued" as const,
          hyperparameters: run.hyperparameters as db.Prisma.InputJsonValue,
          config: run.config,
          architecture: run.config.architecture,
          dataset: run.config.dataset,
          seed: run.config.seed,
          totalSteps: run.config.epochs + run.config.finetuneEpochs,
        })),
      });
      return created;
    });

    context.log.info(
      { sweepId: sweep.id, runs: plan.runs.length, method: sweep.method, by: sweep.createdBy },
      "Sweep launched",
    );
    await scheduleSweep(context.prisma, sweep.id);
    await publish("SWEEP_UPDATED", { sweepId: sweep.id });
    return sweep;
  }
}
