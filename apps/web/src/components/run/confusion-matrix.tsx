"use client";

import { Chart } from "../chart";

/**
 * Confusion-matrix heat map. The colour scale tops out at the largest off-diagonal count, so
 * the mistakes stand out instead of vanishing next to thousands of correct predictions.
 */
export function ConfusionMatrix(props: { matrix: number[][] }) {
  const classes = props.matrix.map((_, index) => String(index));
  const cells: [number, number, number][] = [];
  let maxError = 1;
  props.matrix.forEach((row, truth) => {
    row.forEach((count, predicted) => {
      cells.push([predicted, truth, count]);
      if (truth !== predicted) maxError = Math.max(maxError, count);
    });
  });

  return (
    <Chart
      label="Confusion matrix: true label by predicted label"
      testId="confusion-matrix"
      height={380}
      option={{
        grid: { left: 48, right: 16, top: 16, bottom: 72 },
        tooltip: {
          formatter: (params) => {
            const value = (params as { value?: [number, number, number] }).value;
            if (!value) return "";
            return `true ${value[1]}, predicted ${value[0]}: ${value[2]}`;
          },
        },
        xAxis: {
          type: "category",
          data: classes,
          name: "predicted",
          nameLocation: "middle",
          nameGap: 24,
        },
        yAxis: {
          type: "category",
          data: classes,
          name: "true",
          inverse: true,
          nameLocation: "middle",
          nameGap: 28,
        },
        visualMap: {
          min: 0,
          max: maxError,
          calculable: true,
          orient: "horizontal",
          left: "center",
          bottom: 0,
          inRange: { color: ["#f8fafc", "#fde68a", "#f97316", "#b91c1c"] },
          text: [`≥${maxError}`, "0"],
        },
        series: [
          {
            type: "heatmap",
            data: cells,
            label: { show: true, fontSize: 10 },
            emphasis: { itemStyle: { borderColor: "#111", borderWidth: 1 } },
          },
        ],
      }}
    />
  );
}
