"use client";

import { Chart } from "../chart";

/**
 * Confusion-matrix heat map. The diagonal (correct predictions) gets one pale colour and the
 * colour scale covers only the mistakes, so they stand out next to the much larger diagonal.
 */
export function ConfusionMatrix(props: { matrix: number[][] }) {
  const classes = props.matrix.map((_, index) => String(index));
  const errors: [number, number, number][] = [];
  const correct: [number, number, number][] = [];
  let maxError = 1;
  props.matrix.forEach((row, truth) => {
    row.forEach((count, predicted) => {
      if (truth === predicted) {
        correct.push([predicted, truth, count]);
      } else {
        errors.push([predicted, truth, count]);
        maxError = Math.max(maxError, count);
      }
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
          seriesIndex: 0,
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
            name: "errors",
            data: errors,
            label: { show: true, fontSize: 10 },
            emphasis: { itemStyle: { borderColor: "#111", borderWidth: 1 } },
          },
          {
            type: "heatmap",
            name: "correct",
            data: correct,
            itemStyle: { color: "#dbeafe" },
            label: { show: true, fontSize: 10, fontWeight: "bold" },
          },
        ],
      }}
    />
  );
}
