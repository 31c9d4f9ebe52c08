import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import { Phase } from "./enums";
import { Run } from "./run";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType({
  description: "One point, or the last point of a bucket with the bucket's min and max",
})
export class MetricPoint {
  @Field(() => Int) step!: number;
  @Field(() => Int) epoch!: number;
  @Field(() => Phase) phase!: string;
  @Field(() => Float) value!: number;
  @Field(() => Float, { nullable: true }) min!: number | null;
  @Field(() => Float, { nullable: true }) max!: number | null;
  @Field(() => DateTimeScalar) wallTime!: Date;
}

@ObjectType()
export class MetricSeries {
  @Field(() => ID) runId!: string;
  @Field(() => String) key!: string;
  @Field(() => Phase, { nullable: true, description: "Null when the series spans both phases" })
  phase!: string | null;
  @Field(() => [MetricPoint]) points!: MetricPoint[];
  @Field(() => Boolean) downsampled!: boolean;
}

@ObjectType({
  description:
    "A point as written by the worker, with its run and key so a client can append it to the matching series; min and max are always null",
})
export class LoggedMetricPoint extends MetricPoint {
  @Field(() => ID) runId!: string;
  @Field(() => String) key!: string;
}

@ObjectType()
export class MetricsLoggedEvent {
  @Field(() => ID) runId!: string;
  @Field(() => [LoggedMetricPoint]) points!: LoggedMetricPoint[];
  @Field(() => [String]) keys!: string[];
}

@ObjectType()
export class HyperparameterDiff {
  @Field(() => String) name!: string;
  @Field(() => [JSONScalar], {
    nullable: "items",
    description: "In the order of the requested ids",
  })
  values!: unknown[];
}

@ObjectType()
export class RunComparison {
  @Field(() => [Run]) runs!: unknown[];
  @Field(() => [HyperparameterDiff]) differing!: HyperparameterDiff[];
}
