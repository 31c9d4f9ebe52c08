import { describe, expect, test } from "vitest";
import { ProgressBar } from "../src/cli/progress";
import type { BatchProgress } from "../src/train";

function recordingStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, write: (text: string) => writes.push(text) > 0 };
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

function batch(index: number, batches = 400): BatchProgress {
  return {
    phase: "train",
    epoch: 1,
    epochs: 3,
    batch: index,
    batches,
    loss: 0.5,
    accuracy: 0.9,
    elapsedSeconds: index,
  };
}

describe("ProgressBar in a log", () => {
  test("writes a line every 30 seconds", () => {
    const { stream, writes } = recordingStream(false);
    let clock = 0;
    const bar = new ProgressBar(stream, () => clock);
    for (let index = 1; index <= 100; index++) {
      bar.batch(batch(index));
      clock += 1_000;
    }
    // Batch 1 at 0 s starts the epoch, then batches 31, 61 and 91 each come 30 s after a line.
    expect(writes[0]).toBe("Epoch 1/3\n");
    const progressLines = writes.slice(1);
    expect(progressLines).toHaveLength(3);
    expect(progressLines[0]).toMatch(
      /^ 31\/400 \[.*\] - ETA 6m09s - loss: 0\.5000 - acc: 0\.9000\n$/,
    );
    expect(progressLines.every((line) => !line.includes("\r"))).toBe(true);
  });

  test("writes no line for a short epoch", () => {
    const { stream, writes } = recordingStream(false);
    let clock = 0;
    const bar = new ProgressBar(stream, () => clock);
    for (let index = 1; index <= 10; index++) {
      bar.batch(batch(index, 10));
      clock += 1_000;
    }
    expect(writes).toEqual(["Epoch 1/3\n"]);
  });
});
