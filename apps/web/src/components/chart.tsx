"use client";

import type { EChartsOption } from "echarts";
import { BarChart, HeatmapChart, LineChart, ParallelChart, ScatterChart } from "echarts/charts";
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import ReactEChartsCore from "echarts-for-react/lib/core";

// Only the chart kinds the dashboard draws are registered, which keeps the bundle a fraction of
// the full echarts build.
echarts.use([
  LineChart,
  HeatmapChart,
  ScatterChart,
  ParallelChart,
  BarChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkLineComponent,
  VisualMapComponent,
  DataZoomComponent,
  ParallelComponent,
  TitleComponent,
  CanvasRenderer,
]);

// The full option type is used for checking only; the runtime imports stay tree-shaken.
export type ChartOption = EChartsOption;

export const PALETTE = [
  "#2563eb",
  "#dc2626",
  "#16a34a",
  "#9333ea",
  "#ea580c",
  "#0891b2",
  "#ca8a04",
  "#db2777",
];

export function Chart(props: {
  option: ChartOption;
  height?: number;
  label: string;
  testId?: string;
  notMerge?: boolean;
  /** Number of data points drawn, exposed as data-points so browser tests can watch a curve grow. */
  points?: number;
}) {
  return (
    <figure
      className="chart"
      aria-label={props.label}
      data-testid={props.testId}
      data-points={props.points}
    >
      <ReactEChartsCore
        echarts={echarts}
        option={{ color: PALETTE, animation: false, ...props.option }}
        notMerge={props.notMerge ?? true}
        lazyUpdate
        style={{ height: props.height ?? 320, width: "100%" }}
      />
    </figure>
  );
}
