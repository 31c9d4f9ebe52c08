"use client";

import { useEffect, useState } from "react";
import { useQuery, useSubscription } from "urql";
import {
  METRIC_SERIES_QUERY,
  METRICS_LOGGED_SUBSCRIPTION,
  RUN_UPDATED_SUBSCRIPTION,
} from "./queries";
import type { MetricSeries, RunRow } from "./types";

/** Maximum points per series the charts request. The API downsamples longer series and keeps each bucket's min and max. */
const MAX_POINTS = 1000;

/** Groups a burst of metric events (one per key) into one refetch. */
const REFETCH_DELAY_MS = 250;

/**
 * Loads metric series and refetches them whenever the API reports new points for these runs.
 * The event only names runs and keys (its points carry no key), so the series query is the source.
 */
export function useLiveSeries(runIds: string[], keys: readonly string[]) {
  const paused = runIds.length === 0;
  const [result, reexecute] = useQuery<{ metricSeries: MetricSeries[] }>({
    query: METRIC_SERIES_QUERY,
    variables: { runIds, keys, maxPoints: MAX_POINTS },
    pause: paused,
  });
  const [events, setEvents] = useState(0);

  useSubscription(
    { query: METRICS_LOGGED_SUBSCRIPTION, variables: { runIds }, pause: paused },
    (_previous, event) => {
      setEvents((count) => count + 1);
      return event;
    },
  );

  useEffect(() => {
    if (events === 0) return;
    const timer = setTimeout(() => reexecute({ requestPolicy: "network-only" }), REFETCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [events, reexecute]);

  return { ...result, refetch: () => reexecute({ requestPolicy: "network-only" }) };
}

/** Keeps the latest copy of each run that runUpdated delivered, keyed by run id. */
export function useLiveRuns(runIds: string[]): Map<string, RunRow> {
  const [latest, setLatest] = useState<Map<string, RunRow>>(new Map());
  useSubscription<{ runUpdated: RunRow }>(
    { query: RUN_UPDATED_SUBSCRIPTION, variables: { runIds }, pause: runIds.length === 0 },
    (_previous, event) => {
      setLatest((current) => new Map(current).set(event.runUpdated.id, event.runUpdated));
      return event;
    },
  );
  return latest;
}
