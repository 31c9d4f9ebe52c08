import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import { Phase, RunStatus, SortDirection } from "./enums";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class Misclassified {
  @Field(() => Int, { description: "Index into the test set" }) index!: number;
  @Field(() => Int) label!: number;
  @Field(() => Int) predicted!: number;
}

@ObjectType()
export class Artifact {
  @Field(() => ID) id!: string;
  @Field(() => String) kind!: string;
  @Field(() => Phase, { nullable: true }) phase!: string | null;
  @Field(() => Int, { nullable: true }) epoch!: number | null;
  @Field(() => Int, { nullable: true }) step!: number | null;
  @Field(() => String) path!: string;
  // sizeBytes and url are resolved in ArtifactFieldResolver.
  @Field(() => String) sha256!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType()
export class Run {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => ID, { nullable: true }) sweepId!: string | null;
  @Field(() => RunStatus) status!: string;
  @Field(() => JSONScalar, {
    description: "Only the searched fields of a sweep run, flat {name: value}",
  })
  hyperparameters!: unknown;
  @Field(() => JSONScalar, { description: "The full RunConfig" }) config!: unknown;
  @Field(() => String) architecture!: string;
  @Field(() => String) dataset!: string;
  @Field(() => Int) seed!: number;
  @Field(() => Phase, { nullable: true }) phase!: string | null;
  @Field(() => Int) epoch!: number;
  @Field(() => Int) step!: number;
  @Field(() => Int) totalSteps!: number;
  @Field(() => Int) attempt!: number;
  @Field(() => Int) maxAttempts!: number;
  @Field(() => String, { nullable: true }) backend!: string | null;
  @Field(() => JSONScalar, { nullable: true }) versions!: unknown;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) startedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) heartbeatAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) finishedAt!: Date | null;
  @Field(() => Float, { nullable: true }) durationSeconds!: number | null;
  @Field(() => Float, { nullable: true }) bestValAccuracy!: number | null;
  @Field(() => Float, { nullable: true }) testLoss!: number | null;
  @Field(() => Float, { nullable: true }) testAccuracy!: number | null;
  @Field(() => [[Int]], { nullable: true }) confusionMatrix!: unknown;
  @Field(() => [Misclassified], { nullable: true }) misclassified!: unknown;
  @Field(() => String, { nullable: true }) error!: string | null;
  // sweep, worker, checkpoints and lastMetrics are resolved in RunFieldResolver.
}

@ObjectType()
export class RunEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Run) node!: unknown;
}

@ObjectType()
export class RunConnection {
  @Field(() => [RunEdge]) edges!: RunEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType()
export class RunCounts {
  @Field(() => Int) queued!: number;
  @Field(() => Int) running!: number;
  @Field(() => Int) succeeded!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) cancelled!: number;
  @Field(() => Int) pruned!: number;
  @Field(() => Int) total!: number;
}

@InputType()
export class HyperparameterRange {
  @Field(() => String) name!: string;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
  @Field(() => JSONScalar, { nullable: true }) equals?: unknown;
}

@InputType({ description: "metric: testAccuracy | testLoss | bestValAccuracy | durationSeconds" })
export class MetricThreshold {
  @Field(() => String) metric!: string;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
}

@InputType()
export class RunFilter {
  @Field(() => ID, { nullable: true }) sweepId?: string | null;
  @Field(() => [RunStatus], { nullable: true }) status?: string[] | null;
  @Field(() => String, { nullable: true, description: "Part of the run name, or a run id" })
  search?: string | null;
  @Field(() => [HyperparameterRange], { nullable: true }) hyperparameters?:
    | HyperparameterRange[]
    | null;
  @Field(() => [MetricThreshold], { nullable: true }) metrics?: MetricThreshold[] | null;
}

@InputType({
  description:
    "field: createdAt | name | status | testAccuracy | bestValAccuracy | durationSeconds | testLoss | hp.<name>",
})
export class RunSort {
  @Field(() => String) field!: string;
  @Field(() => SortDirection) direction!: SortDirection;
}
