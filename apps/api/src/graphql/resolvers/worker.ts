import type { db } from "@convnet/shared/prisma";
import { Arg, Authorized, Ctx, ID, Int, Mutation, Resolver } from "type-graphql";
import { storeArtifact, storeCheckpoint } from "../../artifacts/store";
import { getQueue, MAX_CLAIM_WAIT_SECONDS } from "../../queue";
import { failRun, finishRun, heartbeat, registerWorker, requireWorker } from "../../runs/lifecycle";
import { logMetrics, logPackedMetrics } from "../../runs/metrics";
import type { ApiContext } from "../../server/context";
import { invalidInput } from "../../server/errors";
import {
  Artifact,
  ClaimedRun,
  FinishInput,
  JSONScalar,
  MetricInput,
  PackedMetricsInput,
  Phase,
  Run,
  Worker,
  WorkerInfo,
} from "../types";
import { checkId } from "./ids";

/** The mutations a trainer in worker mode calls; every one needs a token with role worker. */
@Resolver()
export class WorkerMutationResolver {
  @Authorized("worker")
  @Mutation(() => Worker, { description: "Registers this trainer process; call once at start" })
  registerWorker(
    @Arg("info", () => WorkerInfo) info: WorkerInfo,
    @Ctx() context: ApiContext,
  ): Promise<db.Worker> {
    return registerWorker(context.prisma, info);
  }

  @Authorized("worker")
  @Mutation(() => ClaimedRun, {
    nullable: true,
    description: `Long-polls up to waitSeconds (at most ${MAX_CLAIM_WAIT_SECONDS}) for a run; null when none came`,
  })
  async claimRun(
    @Arg("workerId", () => ID) workerId: string,
    @Arg("waitSeconds", () => Int, { nullable: true }) waitSeconds: number | null,
    @Ctx() context: ApiContext,
  ): Promise<{ run: db.Run; config: unknown; resumeFrom: db.Artifact | null } | null> {
    await requireWorker(context.prisma, checkId(workerId, "workerId"));
    if (waitSeconds != null && (waitSeconds < 0 || waitSeconds > MAX_CLAIM_WAIT_SECONDS)) {
      throw invalidInput([
        {
          field: "waitSeconds",
          message: `${waitSeconds} is out of range: use 0-${MAX_CLAIM_WAIT_SECONDS}`,
        },
      ]);
    }
    const claim = await getQueue().claim(workerId, waitSeconds ?? 0);
    if (!claim) return null;
    return { run: claim.run, config: claim.run.config, resumeFrom: claim.resumeFrom };
  }

  @Authorized("worker")
  @Mutation(() => Boolean, {
    description: "Extends the lease on runId; false means stop that run (cancelled or taken away)",
  })
  heartbeat(
    @Arg("workerId", () => ID) workerId: string,
    @Arg("runId", () => ID, { nullable: true }) runId: string | null,
    @Arg("phase", () => Phase, { nullable: true }) phase: db.Phase | null,
    @Arg("epoch", () => Int, { nullable: true }) epoch: number | null,
    @Arg("step", () => Int, { nullable: true }) step: number | null,
    @Arg("attempt", () => Int, { nullable: true, description: "The attempt the worker is running" })
    attempt: number | null,
    @Ctx() context: ApiContext,
  ): Promise<boolean> {
    return heartbeat(context.prisma, {
      workerId: checkId(workerId, "workerId"),
      // Omitted optional arguments arrive as undefined, not null.
      runId: runId == null ? null : checkId(runId, "runId"),
      phase,
      epoch,
      step,
      attempt,
    });
  }

  @Authorized("worker")
  @Mutation(() => Int, {
    description:
      "Idempotent on (run, phase, key, step); returns rows written. Send points or packed, not both; packed is far cheaper for large batches",
  })
  logMetrics(
    @Arg("runId", () => ID) runId: string,
    @Arg("attempt", () => Int) attempt: number,
    @Arg("points", () => [MetricInput], { nullable: true }) points: MetricInput[] | null,
    @Arg("packed", () => PackedMetricsInput, { nullable: true }) packed: PackedMetricsInput | null,
    @Ctx() context: ApiContext,
  ): Promise<number> {
    const id = checkId(runId, "runId");
    // Omitted optional arguments arrive as undefined, not null.
    if (points != null && packed != null) {
      throw invalidInput([{ field: "packed", message: "send either points or packed, not both" }]);
    }
    if (packed != null) return logPackedMetrics(context.prisma, context.log, id, attempt, packed);
    if (points != null) return logMetrics(context.prisma, context.log, id, attempt, points);
    throw invalidInput([{ field: "points", message: "send the batch as points or as packed" }]);
  }

  @Authorized("worker")
  @Mutation(() => Artifact, {
    description: "files: {fileName: base64}; keeps the newest checkpoints",
  })
  putCheckpoint(
    @Arg("runId", () => ID) runId: string,
    @Arg("attempt", () => Int) attempt: number,
    @Arg("phase", () => Phase) phase: db.Phase,
    @Arg("epoch", () => Int) epoch: number,
    @Arg("step", () => Int) step: number,
    @Arg("files", () => JSONScalar) files: unknown,
    @Ctx() context: ApiContext,
  ): Promise<db.Artifact> {
    return storeCheckpoint(context.prisma, context.log, context.config.artifactDir, {
      runId: checkId(runId, "runId"),
      attempt,
      phase,
      epoch,
      step,
      files,
    });
  }

  @Authorized("worker")
  @Mutation(() => Artifact, { description: 'name: a relative path such as "model/model.json"' })
  putArtifact(
    @Arg("runId", () => ID) runId: string,
    @Arg("name", () => String) name: string,
    @Arg("contentBase64", () => String) contentBase64: string,
    @Arg("kind", () => String, { nullable: true, description: '"model" or "other" (default)' })
    kind: string | null,
    @Arg("attempt", () => Int, {
      nullable: true,
      description: "When given, must be the current attempt",
    })
    attempt: number | null,
    @Ctx() context: ApiContext,
  ): Promise<db.Artifact> {
    return storeArtifact(context.prisma, context.log, context.config.artifactDir, {
      runId: checkId(runId, "runId"),
      name,
      contentBase64,
      kind,
      attempt,
    });
  }

  @Authorized("worker")
  @Mutation(() => Run)
  finishRun(
    @Arg("runId", () => ID) runId: string,
    @Arg("attempt", () => Int) attempt: number,
    @Arg("result", () => FinishInput) result: FinishInput,
    @Ctx() context: ApiContext,
  ): Promise<db.Run> {
    return finishRun(context.prisma, context.log, checkId(runId, "runId"), attempt, result);
  }

  @Authorized("worker")
  @Mutation(() => Run, { description: "retryable: requeue while attempts remain (default false)" })
  failRun(
    @Arg("runId", () => ID) runId: string,
    @Arg("attempt", () => Int) attempt: number,
    @Arg("error", () => String) error: string,
    @Arg("retryable", () => Boolean, { nullable: true }) retryable: boolean | null,
    @Ctx() context: ApiContext,
  ): Promise<db.Run> {
    return failRun(context.prisma, context.log, {
      runId: checkId(runId, "runId"),
      attempt,
      error,
      retryable,
    });
  }
}
