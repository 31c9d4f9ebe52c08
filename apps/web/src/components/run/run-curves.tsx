"use client";

import { curveOption, finetuneStartStep, pointsFor } from "@/lib/curves";
import type { MetricSeries } from "@/lib/types";
import { Chart, PALETTE } from "../chart";

const PANELS = [
  { title: "Loss", train: "loss", validation: "val_loss", percent: false },
  { title: "Accuracy", train: "accuracy", validation: "val_accuracy", percent: true },
] as const;

/** Train and validation curves of one run on a shared step axis, with fine-tuning marked. */
export function RunCurves(props: { runId: string; series: MetricSeries[] }) {
  const finetuneStep = finetuneStartStep(props.series, props.runId);
  // The marker sits half a step before the first fine-tune epoch, between the two phases.
  const markers = finetuneStep === null ? [] : [{ x: finetuneStep - 0.5, label: "fine-tuning" }];

  return (
    <div className="grid">
      {PANELS.map((panel) => (
        <section key={panel.title} className="card">
          <h2>{panel.title}</h2>
          <Chart
            label={`${panel.title} by step`}
            testId={`curve-${panel.train}`}
            points={
              pointsFor(props.series, props.runId, panel.train).length +
              pointsFor(props.series, props.runId, panel.validation).length
            }
            option={curveOption({
              xName: "step (epoch across both phases)",
              yName: panel.title.toLowerCase(),
              percent: panel.percent,
              markers,
              lines: [
                {
                  name: "train",
                  color: PALETTE[0],
                  points: pointsFor(props.series, props.runId, panel.train).map((p) => [
                    p.step,
                    p.value,
                  ]),
                },
                {
                  name: "validation",
                  color: PALETTE[1],
                  points: pointsFor(props.series, props.runId, panel.validation).map((p) => [
                    p.step,
                    p.value,
                  ]),
                },
              ],
            })}
          />
        </section>
      ))}
    </div>
  );
}
