import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType()
export class ModelVersion {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) version!: number;
  @Field(() => JSONScalar) metrics!: unknown;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  // run and aliases are resolved in ModelVersionFieldResolver.
}

@ObjectType()
export class ModelAlias {
  @Field(() => String) modelName!: string;
  @Field(() => String) alias!: string;
  @Field(() => ModelVersion) version!: unknown;
  @Field(() => String, { nullable: true }) movedBy!: string | null;
  @Field(() => DateTimeScalar) movedAt!: Date;
}

@ObjectType()
export class AliasEvent {
  @Field(() => String) modelName!: string;
  @Field(() => String) alias!: string;
  @Field(() => ModelVersion, { nullable: true }) fromVersion!: unknown;
  @Field(() => ModelVersion) toVersion!: unknown;
  @Field(() => String, { nullable: true }) movedBy!: string | null;
  @Field(() => DateTimeScalar) movedAt!: Date;
}

@ObjectType()
export class Model {
  @Field(() => String) name!: string;
  @Field(() => [ModelVersion]) versions!: unknown[];
  @Field(() => [ModelAlias]) aliases!: unknown[];
}

@ObjectType()
export class Prediction {
  @Field(() => Int) label!: number;
  @Field(() => [Float]) probabilities!: number[];
  @Field(() => ModelVersion) modelVersion!: unknown;
}
