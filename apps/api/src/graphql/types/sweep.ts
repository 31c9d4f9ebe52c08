import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { MetricDirection, SearchMethod, SweepStatus } from "./enums";
import { PageInfo } from "./run";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType()
export class Sweep {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => SearchMethod) method!: string;
  @Field(() => JSONScalar) searchSpace!: unknown;
  @Field(() => JSONScalar) baseConfig!: unknown;
  @Field(() => String, { description: "val_accuracy | val_loss | test_accuracy | test_loss" })
  metric!: string;
  @Field(() => MetricDirection) direction!: string;
  @Field(() => Int) runBudget!: number;
  @Field(() => Int) concurrency!: number;
  @Field(() => SweepStatus) status!: string;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) finishedAt!: Date | null;
  // runCounts, bestRun and runs are resolved in SweepFieldResolver.
}

@ObjectType()
export class SweepEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Sweep) node!: unknown;
}

@ObjectType()
export class SweepConnection {
  @Field(() => [SweepEdge]) edges!: SweepEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@InputType({
  description:
    'searchSpace: {hyperparameter: spec}, spec {"values": [...]} (grid or random) or {"min", "max", "log"} (random only)',
})
export class SweepSpec {
  @Field(() => String) name!: string;
  @Field(() => SearchMethod) method!: string;
  @Field(() => JSONScalar, {
    nullable: true,
    description: "Partial RunConfig merged over the preset",
  })
  baseConfig?: unknown;
  @Field(() => String, {
    nullable: true,
    description: "seed-recipe (default) | quick | deep-augmented",
  })
  preset?: string | null;
  @Field(() => JSONScalar) searchSpace!: unknown;
  @Field(() => String) metric!: string;
  @Field(() => MetricDirection) direction!: string;
  @Field(() => Int, { description: "random: number of runs; grid: cap on the grid size" })
  runBudget!: number;
  @Field(() => Int) concurrency!: number;
}
