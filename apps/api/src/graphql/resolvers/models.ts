import type { db } from "@convnet/shared/prisma";
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
} from "type-graphql";
import {
  checkAlias,
  DEFAULT_MODEL_NAME,
  promote,
  registerModelVersion,
} from "../../models/registry";
import type { ApiContext } from "../../server/context";
import { notFound } from "../../server/errors";
import { AliasEvent, Model, ModelAlias, ModelVersion, Run } from "../types";
import { checkId } from "./ids";

interface ModelRow {
  name: string;
}

async function loadVersion(context: ApiContext, id: string): Promise<db.ModelVersion> {
  const version = await context.loaders.modelVersion(id);
  if (!version) throw notFound("Model version", id);
  return version;
}

@Resolver(() => Model)
export class ModelResolver {
  @Authorized()
  @Query(() => [Model], { description: "Every registered model name" })
  async models(@Ctx() context: ApiContext): Promise<ModelRow[]> {
    const names = await context.prisma.modelVersion.findMany({
      distinct: ["name"],
      select: { name: true },
      orderBy: { name: "asc" },
    });
    return names;
  }

  @Authorized()
  @Query(() => Model, { nullable: true })
  async model(
    @Arg("name", () => String) name: string,
    @Ctx() context: ApiContext,
  ): Promise<ModelRow | null> {
    const exists = await context.prisma.modelVersion.findFirst({
      where: { name },
      select: { name: true },
    });
    return exists;
  }

  @Authorized()
  @Query(() => [AliasEvent], { description: "Every move of the alias, newest first" })
  aliasHistory(
    @Arg("modelName", () => String) modelName: string,
    @Arg("alias", () => String) alias: string,
    @Ctx() context: ApiContext,
  ): Promise<db.ModelAliasEvent[]> {
    return context.prisma.modelAliasEvent.findMany({
      where: { modelName, alias },
      orderBy: { movedAt: "desc" },
    });
  }

  @FieldResolver(() => [ModelVersion], { description: "Newest version first" })
  versions(@Root() model: ModelRow, @Ctx() context: ApiContext): Promise<db.ModelVersion[]> {
    return context.prisma.modelVersion.findMany({
      where: { name: model.name },
      orderBy: { version: "desc" },
    });
  }

  @FieldResolver(() => [ModelAlias])
  aliases(@Root() model: ModelRow, @Ctx() context: ApiContext): Promise<db.ModelAlias[]> {
    return context.prisma.modelAlias.findMany({
      where: { modelName: model.name },
      orderBy: { alias: "asc" },
    });
  }

  @Authorized("editor")
  @Mutation(() => ModelVersion, {
    description:
      'Registers a succeeded run\'s final model as the next version; name defaults to "mnist-cnn"',
  })
  registerModelVersion(
    @Arg("runId", () => ID) runId: string,
    @Arg("name", () => String, { nullable: true }) name: string | null,
    @Ctx() context: ApiContext,
  ): Promise<db.ModelVersion> {
    return registerModelVersion(context.prisma, context.log, {
      runId: checkId(runId, "runId"),
      name: name ?? DEFAULT_MODEL_NAME,
      createdBy: context.viewer?.label ?? null,
    });
  }

  @Authorized("editor")
  @Mutation(() => ModelAlias, {
    description: "Points the alias at the version and records the move",
  })
  promote(
    @Arg("versionId", () => ID) versionId: string,
    @Arg("alias", () => String) alias: string,
    @Ctx() context: ApiContext,
  ): Promise<db.ModelAlias> {
    return promote(context.prisma, context.log, {
      versionId: checkId(versionId, "versionId"),
      alias: checkAlias(alias),
      movedBy: context.viewer?.label ?? null,
    });
  }
}

@Resolver(() => ModelVersion)
export class ModelVersionFieldResolver {
  @FieldResolver(() => Run)
  async run(@Root() version: db.ModelVersion, @Ctx() context: ApiContext): Promise<db.Run> {
    const run = await context.loaders.run(version.runId);
    if (!run) throw notFound("Run", version.runId);
    return run;
  }

  @FieldResolver(() => [String], { description: "Aliases that point at this version" })
  async aliases(@Root() version: db.ModelVersion, @Ctx() context: ApiContext): Promise<string[]> {
    const rows = await context.prisma.modelAlias.findMany({
      where: { versionId: version.id },
      select: { alias: true },
      orderBy: { alias: "asc" },
    });
    return rows.map((row) => row.alias);
  }
}

@Resolver(() => ModelAlias)
export class ModelAliasFieldResolver {
  @FieldResolver(() => ModelVersion)
  version(@Root() alias: db.ModelAlias, @Ctx() context: ApiContext): Promise<db.ModelVersion> {
    return loadVersion(context, alias.versionId);
  }
}

@Resolver(() => AliasEvent)
export class AliasEventFieldResolver {
  @FieldResolver(() => ModelVersion, { nullable: true })
  async fromVersion(@Root() event: db.ModelAliasEvent, @Ctx() context: ApiContext) {
    return event.fromVersionId
      ? ((await context.loaders.modelVersion(event.fromVersionId)) ?? null)
      : null;
  }

  @FieldResolver(() => ModelVersion)
  toVersion(
    @Root() event: db.ModelAliasEvent,
    @Ctx() context: ApiContext,
  ): Promise<db.ModelVersion> {
    return loadVersion(context, event.toVersionId);
  }
}
