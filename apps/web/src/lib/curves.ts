import type { ChartOption } from "@/components/chart";
import type { MetricPoint, MetricSeries } from "./types";

/** Metric keys the trainer logs once per epoch, per phase. */
export const CURVE_KEYS = ["loss", "val_loss", "accuracy", "val_accuracy"] as const;

export interface CurveLine {
  name: string;
  color?: string;
  dashed?: boolean;
  points: [number, number][];
}

/** Joins a run's train and fine-tune series for one key into one line ordered by step. */
export function pointsFor(series: MetricSeries[], runId: string, key: string): MetricPoint[] {
  return series
    .filter((entry) => entry.runId === runId && entry.key === key)
    .flatMap((entry) => entry.points)
    .sort((a, b) => a.step - b.step);
}

/** Returns the step where fine-tuning starts, for the marker line, or null before the first fine-tune point. */
export function finetuneStartStep(series: MetricSeries[], runId: string): number | null {
  const steps = series
    .filter((entry) => entry.runId === runId)
    .flatMap((entry) => entry.points)
    .filter((point) => point.phase === "finetune")
    .map((point) => point.step);
  return steps.length > 0 ? Math.min(...steps) : null;
}

/**
 * Exponential moving average with debiasing (as TensorBoard's smoothing slider), so the first
 * points are not pulled toward zero. weight 0 returns the values unchanged.
 */
export function smooth(values: number[], weight: number): number[] {
  if (weight <= 0) return values;
  let average = 0;
  return values.map((value, index) => {
    average = average * weight + (1 - weight) * value;
    return average / (1 - weight ** (index + 1));
  });
}

export function curveOption(options: {
  lines: CurveLine[];
  xName: string;
  xType?: "value" | "time";
  yName: string;
  percent?: boolean;
  markers?: { x: number | string; label: string }[];
}): ChartOption {
  const formatValue = (value: number) =>
    options.percent ? `${(value * 100).toFixed(2)}%` : value.toPrecision(4);

  return {
    grid: { left: 56, right: 24, top: 40, bottom: 56 },
    legend: { top: 0, type: "scroll" as const },
    tooltip: {
      trigger: "axis",
      valueFormatter: (value) => (typeof value === "number" ? formatValue(value) : String(value)),
    },
    xAxis: {
      type: options.xType ?? "value",
      name: options.xName,
      nameLocation: "middle",
      nameGap: 28,
      minInterval: options.xType === "time" ? undefined : 1,
      min: options.xType === "time" ? undefined : "dataMin",
    },
    yAxis: {
      type: "value",
      name: options.yName,
      scale: true,
      axisLabel: { formatter: (value: number) => formatValue(value) },
    },
    dataZoom: [{ type: "inside" }],
    series: options.lines.map((line, index) => ({
      type: "line",
      name: line.name,
      data: line.points,
      showSymbol: line.points.length < 40,
      symbolSize: 5,
      lineStyle: { type: line.dashed ? "dashed" : "solid", width: 2 },
      itemStyle: line.color ? { color: line.color } : undefined,
      markLine:
        index === 0 && options.markers && options.markers.length > 0
          ? {
              symbol: "none",
              silent: true,
              lineStyle: { color: "#9ca3af", type: "dashed" },
              label: { formatter: "{b}", position: "insideEndTop" },
              data: options.markers.map((marker) => ({ name: marker.label, xAxis: marker.x })),
            }
          : undefined,
    })),
  };
}
