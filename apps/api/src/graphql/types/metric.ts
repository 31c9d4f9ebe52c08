import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import {
  type PackedLine,
  phaseName,
  type SeriesPoint,
  toSeriesPoints,
} from "../../queries/metric-series";
import { Phase } from "./enums";
import { Float64Base64Scalar, NumberListScalar } from "./packed-scalars";
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

@ObjectType({
  description:
    "A line as parallel arrays: index i of every array is point i, in step order. Downsampled points are the last point of their bucket.",
})
export class PackedSeries {
  constructor(private readonly line: PackedLine) {}

  @Field(() => Int, { description: "Number of points" })
  get length(): number {
    return this.line.steps.length;
  }

  @Field(() => NumberListScalar)
  get steps(): Int32Array {
    return this.line.steps;
  }

  @Field(() => NumberListScalar)
  get epochs(): Int32Array {
    return this.line.epochs;
  }

  @Field(() => [Phase])
  get phases(): string[] {
    return Array.from(this.line.phases, phaseName);
  }

  @Field(() => Float64Base64Scalar)
  get values(): Float64Array {
    return this.line.values;
  }

  @Field(() => Float64Base64Scalar, {
    nullable: true,
    description: "Each bucket's minimum; null unless downsampled",
  })
  get mins(): Float64Array | null {
    return this.line.mins;
  }

  @Field(() => Float64Base64Scalar, {
    nullable: true,
    description: "Each bucket's maximum; null unless downsampled",
  })
  get maxs(): Float64Array | null {
    return this.line.maxs;
  }

  @Field(() => NumberListScalar, { description: "Milliseconds since the Unix epoch" })
  get wallTimes(): Float64Array {
    return this.line.wallTimes;
  }
}

@ObjectType()
export class MetricSeries {
  constructor(private readonly line: PackedLine) {}

  @Field(() => ID)
  get runId(): string {
    return this.line.runId;
  }

  @Field(() => String)
  get key(): string {
    return this.line.key;
  }

  @Field(() => Phase, { nullable: true, description: "Null when the series spans both phases" })
  get phase(): string | null {
    return this.line.phase;
  }

  @Field(() => [MetricPoint], {
    description: "One object per point; prefer packed for many lines, it is far cheaper to send",
  })
  get points(): SeriesPoint[] {
    return toSeriesPoints(this.line);
  }

  @Field(() => PackedSeries)
  get packed(): PackedSeries {
    return new PackedSeries(this.line);
  }

  @Field(() => Boolean)
  get downsampled(): boolean {
    return this.line.downsampled;
  }
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
