import type { RunRow } from "@/lib/types";

/** Returns the run field that stores a sweep's metric. Validation loss has no run column, so it falls back to best val accuracy. */
export function sweepMetricValue(run: RunRow, metric: string): number | null {
  switch (metric) {
    case "test_accuracy":
      return run.testAccuracy;
    case "test_loss":
      return run.testLoss;
    default:
      return run.bestValAccuracy;
  }
}

export function sweepMetricLabel(metric: string): string {
  switch (metric) {
    case "test_accuracy":
      return "test accuracy";
    case "test_loss":
      return "test loss";
    default:
      return "best val accuracy";
  }
}

export const SWEEP_METRICS = [
  { value: "val_accuracy", label: "Validation accuracy", direction: "maximize" },
  { value: "test_accuracy", label: "Test accuracy", direction: "maximize" },
  { value: "val_loss", label: "Validation loss", direction: "minimize" },
  { value: "test_loss", label: "Test loss", direction: "minimize" },
] as const;
