import { Arg, Authorized, Ctx, Float, Mutation, Resolver } from "type-graphql";
import { checkPixels, pixelsFromPng } from "../../models/image";
import { checkAlias, DEFAULT_ALIAS, DEFAULT_MODEL_NAME } from "../../models/registry";
import type { ApiContext } from "../../server/context";
import { apiError, ErrorCode, invalidInput } from "../../server/errors";
import { Prediction } from "../types";

@Resolver()
export class PredictResolver {
  @Authorized()
  @Mutation(() => Prediction, {
    description:
      'Classifies one digit with the model version behind the alias (default "production" of "mnist-cnn"). Send pixels (784 values in [0,1], ink = 1) or a base64 PNG.',
  })
  async predict(
    @Arg("pixels", () => [Float], { nullable: true }) pixels: number[] | null | undefined,
    @Arg("png", () => String, { nullable: true }) png: string | null | undefined,
    @Arg("modelName", () => String, { nullable: true }) modelName: string | null | undefined,
    @Arg("alias", () => String, { nullable: true }) alias: string | null | undefined,
    @Ctx() context: ApiContext,
  ) {
    // An omitted argument arrives as undefined and an explicit one as null: both mean "not sent".
    if ((pixels == null) === (png == null)) {
      throw invalidInput([{ field: "pixels", message: "send exactly one of pixels or png" }]);
    }
    const input = pixels ? checkPixels(pixels) : pixelsFromPng(png ?? "");
    const name = modelName ?? DEFAULT_MODEL_NAME;
    const aliasName = checkAlias(alias ?? DEFAULT_ALIAS);

    const target = await context.prisma.modelAlias.findUnique({
      where: { modelName_alias: { modelName: name, alias: aliasName } },
      include: { version: true },
    });
    if (!target) {
      throw apiError(
        ErrorCode.NOT_FOUND,
        `Model ${JSON.stringify(name)} has no ${JSON.stringify(aliasName)} alias. Register a succeeded run with registerModelVersion, then promote(versionId, alias: ${JSON.stringify(aliasName)}).`,
      );
    }

    const probabilities = await context.modelCache.predict(target.version, input);
    const label = probabilities.indexOf(Math.max(...probabilities));
    return { label, probabilities, modelVersion: target.version };
  }
}
