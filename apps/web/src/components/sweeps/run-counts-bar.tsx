import type { RunCounts } from "@/lib/types";

const SEGMENTS = [
  { key: "succeeded", color: "#16a34a" },
  { key: "running", color: "#2563eb" },
  { key: "failed", color: "#dc2626" },
  { key: "cancelled", color: "#d97706" },
  { key: "pruned", color: "#a16207" },
  { key: "queued", color: "#cbd5e1" },
] as const;

/**
 * Renders a stacked bar of a sweep's runs by status, with the counts spelled out for screen readers.
 * A launch creates every planned run at once, so the run count, not the budget (only a cap on a
 * grid), is the whole bar.
 */
export function RunCountsBar(props: { counts: RunCounts }) {
  const total = Math.max(props.counts.total, 1);
  const done =
    props.counts.succeeded + props.counts.failed + props.counts.cancelled + props.counts.pruned;
  const summary = SEGMENTS.filter((segment) => props.counts[segment.key] > 0)
    .map((segment) => `${props.counts[segment.key]} ${segment.key}`)
    .join(", ");

  return (
    <div>
      <div
        className="progress"
        style={{ display: "flex", height: 10 }}
        role="img"
        aria-label={summary || "no runs yet"}
      >
        {SEGMENTS.map((segment) => (
          <span
            key={segment.key}
            style={{
              width: `${(props.counts[segment.key] / total) * 100}%`,
              background: segment.color,
            }}
          />
        ))}
      </div>
      <small className="muted" data-testid="sweep-progress">
        {done} of {props.counts.total} done{summary ? ` · ${summary}` : ""}
      </small>
    </div>
  );
}
