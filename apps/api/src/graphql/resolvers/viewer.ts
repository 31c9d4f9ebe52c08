import { Authorized, Ctx, Query, Resolver } from "type-graphql";
import type { ApiContext } from "../../server/context";
import { apiError, ErrorCode } from "../../server/errors";
import { Viewer } from "../types";

@Resolver()
export class ViewerResolver {
  @Authorized()
  @Query(() => Viewer, { description: "The caller behind the token" })
  viewer(@Ctx() context: ApiContext): Viewer {
    if (!context.viewer) throw apiError(ErrorCode.UNAUTHENTICATED, "Send an API token.");
    return { role: context.viewer.role, label: context.viewer.label };
  }
}
