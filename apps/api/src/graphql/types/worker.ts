import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import { Phase, TokenRole } from "./enums";
import { Float64Base64Scalar, NumberListScalar } from "./packed-scalars";
import { Artifact, Run } from "./run";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType()
export class Worker {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) host!: string;
  @Field(() => String, { nullable: true }) backend!: string | null;
  @Field(() => DateTimeScalar) lastHeartbeatAt!: Date;
  // currentRun and alive are resolved in WorkerFieldResolver.
}

@ObjectType()
export class Viewer {
  @Field(() => TokenRole) role!: string;
  @Field(() => String) label!: string;
}

@ObjectType()
export class ClaimedRun {
  @Field(() => Run) run!: unknown;
  @Field(() => JSONScalar) config!: unknown;
  @Field(() => Artifact, { nullable: true }) resumeFrom!: unknown;
}

@InputType()
export class WorkerInfo {
  @Field(() => String) name!: string;
  @Field(() => String) host!: string;
  @Field(() => Int, { nullable: true }) pid?: number | null;
  @Field(() => String, { nullable: true }) backend?: string | null;
  @Field(() => JSONScalar, { nullable: true }) versions?: unknown;
}

@InputType()
export class MetricInput {
  @Field(() => Phase) phase!: "train" | "finetune";
  @Field(() => String) key!: string;
  @Field(() => Int) step!: number;
  @Field(() => Int) epoch!: number;
  @Field(() => Float) value!: number;
  @Field(() => DateTimeScalar, { nullable: true }) wallTime?: Date | null;
}

@InputType({
  description:
    "A batch of metric points as parallel arrays: index i of every array is point i. Parses far faster than one MetricInput per point.",
})
export class PackedMetricsInput {
  @Field(() => [String], {
    description: "Key table with each key once, which keyIndexes point into",
  })
  keys!: string[];
  @Field(() => NumberListScalar, { description: "Per point: the index of its key in keys" })
  keyIndexes!: number[];
  @Field(() => [Phase]) phases!: ("train" | "finetune")[];
  @Field(() => NumberListScalar, { description: "Per point: integer step >= 0" })
  steps!: number[];
  @Field(() => NumberListScalar, { description: "Per point: integer epoch >= 0" })
  epochs!: number[];
  @Field(() => Float64Base64Scalar, { description: "Per point: the value, finite" })
  values!: Float64Array;
  @Field(() => NumberListScalar, {
    nullable: true,
    description: "Per point: milliseconds since the Unix epoch, by default the time of receipt",
  })
  wallTimes?: number[] | null;
}

@InputType()
export class MisclassifiedInput {
  @Field(() => Int) index!: number;
  @Field(() => Int) label!: number;
  @Field(() => Int) predicted!: number;
}

@InputType()
export class FinishInput {
  @Field(() => Float) testLoss!: number;
  @Field(() => Float) testAccuracy!: number;
  @Field(() => [[Int]]) confusionMatrix!: number[][];
  @Field(() => [MisclassifiedInput]) misclassified!: MisclassifiedInput[];
  @Field(() => Float) durationSeconds!: number;
  @Field(() => String, {
    nullable: true,
    description: "Artifact path of the final model uploaded with putArtifact",
  })
  modelFile?: string | null;
}
