"use client";

import { hyperparameterValue, numericAxisType } from "@/lib/hyperparameters";
import type { Json, RunRow } from "@/lib/types";
import { Chart, PALETTE } from "../chart";

export const METRIC_CHOICES = [
  { field: "testAccuracy", label: "Test accuracy" },
  { field: "bestValAccuracy", label: "Best val accuracy" },
  { field: "testLoss", label: "Test loss" },
  { field: "durationSeconds", label: "Duration (s)" },
] as const;
export type MetricField = (typeof METRIC_CHOICES)[number]["field"];

/** Draws one axis per hyperparameter (numeric or categorical), then the chosen metric on the last axis. */
export function ParallelChart(props: { runs: RunRow[]; names: string[]; metric: MetricField }) {
  const axes = props.names.map((name, index) => {
    const values = props.runs.map((run) => hyperparameterValue(run, name));
    const numeric = values.every(
      (value) => typeof value === "number" || value === undefined || value === null,
    );
    return numeric
      ? { dim: index, name, type: numericAxisType(values), scale: true }
      : {
          dim: index,
          name,
          type: "category" as const,
          data: [...new Set(values.map((value) => toLabel(value)))],
        };
  });
  const metricLabel =
    METRIC_CHOICES.find((choice) => choice.field === props.metric)?.label ?? props.metric;
  const metricAxis = { dim: axes.length, name: metricLabel, type: "value" as const, scale: true };

  const lines = props.runs.map((run, index) => ({
    name: run.name,
    value: [
      ...props.names.map((name, axis) => {
        const value = hyperparameterValue(run, name);
        return axes[axis]?.type === "category"
          ? toLabel(value)
          : typeof value === "number"
            ? value
            : null;
      }),
      run[props.metric],
    ],
    lineStyle: { color: PALETTE[index % PALETTE.length], width: 2.5, opacity: 0.85 },
  }));

  return (
    <Chart
      label={`Hyperparameters against ${metricLabel}`}
      testId="parallel-chart"
      height={340}
      option={{
        parallel: { left: 48, right: 80, top: 40, bottom: 32 },
        parallelAxis: [...axes, metricAxis],
        tooltip: {
          trigger: "item",
          formatter: (params) => (params as { name?: string }).name ?? "",
        },
        series: [{ type: "parallel", data: lines, smooth: false }],
      }}
    />
  );
}

function toLabel(value: Json | undefined): string {
  if (value === undefined || value === null) return "–";
  return typeof value === "string" ? value : JSON.stringify(value);
}
