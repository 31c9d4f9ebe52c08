"use client";

import { type PointerEvent, useEffect, useRef, useState } from "react";
import { useMutation } from "urql";
import { toMnistPixels } from "@/lib/digit";
import { PREDICT_MUTATION } from "@/lib/queries";
import type { Prediction } from "@/lib/types";
import { Chart } from "../chart";
import { describeError } from "../states";

/** Canvas resolution; CSS may shrink it on a phone, and pointer positions are scaled back. */
const CANVAS_SIZE = 280;
const STROKE_WIDTH = 22;

function paintBlank(canvas: HTMLCanvasElement | null) {
  const context = canvas?.getContext("2d", { willReadFrequently: true });
  if (!context) return;
  context.fillStyle = "#000";
  context.fillRect(0, 0, CANVAS_SIZE, CANVAS_SIZE);
}

/** Renders a canvas to draw a digit on with mouse, pen or finger, and the production model's prediction. */
export function DrawDigit(props: { modelName: string; alias: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const [empty, setEmpty] = useState(true);
  const [state, predict] = useMutation<{ predict: Prediction }>(PREDICT_MUTATION);

  useEffect(() => paintBlank(canvas.current), []);

  function clear() {
    paintBlank(canvas.current);
    setEmpty(true);
  }

  function position(event: PointerEvent<HTMLCanvasElement>) {
    const rect = event.currentTarget.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * CANVAS_SIZE,
      y: ((event.clientY - rect.top) / rect.height) * CANVAS_SIZE,
    };
  }

  function stroke(to: { x: number; y: number }) {
    const context = canvas.current?.getContext("2d", { willReadFrequently: true });
    if (!context) return;
    const from = last.current ?? to;
    context.strokeStyle = "#fff";
    context.lineWidth = STROKE_WIDTH;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    last.current = to;
    setEmpty(false);
  }

  function finish() {
    if (!last.current) return;
    last.current = null;
    const pixels = canvas.current ? toMnistPixels(canvas.current) : null;
    if (pixels) void predict({ pixels, modelName: props.modelName, alias: props.alias });
  }

  const prediction = state.data?.predict;

  return (
    <div className="draw">
      <div>
        <canvas
          ref={canvas}
          width={CANVAS_SIZE}
          height={CANVAS_SIZE}
          aria-label="Drawing area: draw a digit from 0 to 9"
          className="digit-canvas"
          data-testid="digit-canvas"
          onPointerDown={(event) => {
            event.currentTarget.setPointerCapture(event.pointerId);
            last.current = null;
            stroke(position(event));
          }}
          onPointerMove={(event) => {
            if (last.current) stroke(position(event));
          }}
          onPointerUp={finish}
          onPointerCancel={finish}
        />
        <div className="actions">
          <button type="button" onClick={clear} disabled={empty}>
            Clear
          </button>
          <span className="muted">Draw one digit; the prediction follows each stroke.</span>
        </div>
      </div>
      <div style={{ flex: 1, minWidth: 260 }} aria-live="polite">
        {state.error ? (
          <p className="field-error" role="alert">
            {describeError(state.error)}
          </p>
        ) : null}
        {prediction ? (
          <>
            <p className="muted">
              {prediction.modelVersion.name} v{prediction.modelVersion.version} ({props.alias})
              reads
            </p>
            <p className="prediction-label" data-testid="prediction-label">
              {prediction.label}
            </p>
            <Chart
              label="Class probabilities"
              height={220}
              testId="prediction-probabilities"
              option={{
                grid: { left: 40, right: 16, top: 16, bottom: 28 },
                xAxis: {
                  type: "category",
                  data: prediction.probabilities.map((_, digit) => String(digit)),
                },
                yAxis: {
                  type: "value",
                  max: 1,
                  axisLabel: { formatter: (value: number) => `${Math.round(value * 100)}%` },
                },
                tooltip: {
                  trigger: "axis",
                  valueFormatter: (value) => `${(Number(value) * 100).toFixed(1)}%`,
                },
                series: [
                  {
                    type: "bar",
                    data: prediction.probabilities.map((probability, digit) => ({
                      value: probability,
                      itemStyle: { color: digit === prediction.label ? "#2563eb" : "#cbd5e1" },
                    })),
                  },
                ],
              }}
            />
          </>
        ) : (
          <p className="muted">{state.fetching ? "Predicting…" : "The prediction appears here."}</p>
        )}
      </div>
    </div>
  );
}
