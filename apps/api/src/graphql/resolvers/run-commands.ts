import type { db } from "@convnet/shared/prisma";
import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { cancelRun, retryRun } from "../../runs/lifecycle";
import { cancelSweep } from "../../runs/scheduler";
import type { ApiContext } from "../../server/context";
import { Run, Sweep } from "../types";
import { checkId } from "./ids";

/** An editor's commands on runs and sweeps that are under way or have ended. */
@Resolver()
export class RunCommandResolver {
  @Authorized("editor")
  @Mutation(() => Sweep, { description: "Cancels the sweep and its queued and running runs" })
  cancelSweep(@Arg("id", () => ID) id: string, @Ctx() context: ApiContext): Promise<db.Sweep> {
    return cancelSweep(context.prisma, checkId(id, "id"));
  }

  @Authorized("editor")
  @Mutation(() => Run, {
    description: "Cancels a queued or running run; its worker stops at the next heartbeat",
  })
  cancelRun(@Arg("id", () => ID) id: string, @Ctx() context: ApiContext): Promise<db.Run> {
    return cancelRun(context.prisma, context.log, checkId(id, "id"));
  }

  @Authorized("editor")
  @Mutation(() => Run, {
    description: "Queues a failed or cancelled run again; it resumes from its last checkpoint",
  })
  retryRun(@Arg("id", () => ID) id: string, @Ctx() context: ApiContext): Promise<db.Run> {
    return retryRun(context.prisma, context.log, checkId(id, "id"));
  }
}
