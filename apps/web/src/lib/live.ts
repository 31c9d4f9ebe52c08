"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { useSession } from "@/components/providers";
import { exceedsPointBudget, mergeLoggedPoints } from "./merge-series";
import { unpackSeries } from "./packed-series";
import {
  METRIC_SERIES_QUERY,
  METRICS_LOGGED_SUBSCRIPTION,
  RUN_UPDATED_SUBSCRIPTION,
} from "./queries";
import type {
  LoggedMetricPoint,
  MetricSeries,
  MetricsLoggedEvent,
  PackedMetricSeries,
  RunRow,
} from "./types";

/** Maximum points per series the charts request. The API downsamples longer series and keeps each bucket's min and max. */
const MAX_POINTS = 1000;

/**
 * Loads metric series once and appends the points that metricsLogged events carry. It refetches
 * only when the socket reconnects (events sent while it was down are lost) and when a series has
 * grown to twice MAX_POINTS, so the API downsamples it again.
 */
export function useLiveSeries(runIds: string[], keys: readonly string[]) {
  const paused = runIds.length === 0;
  const [result, reexecute] = useQuery<{ metricSeries: PackedMetricSeries[] }>({
    query: METRIC_SERIES_QUERY,
    variables: { runIds, keys, maxPoints: MAX_POINTS },
    pause: paused,
  });
  const [series, setSeries] = useState<MetricSeries[] | undefined>(undefined);
  // Points received since the last fetch began: a response may have been read before some of
  // them were written, so each response gets them applied again (merging a point twice is a no-op).
  const sinceFetch = useRef<LoggedMetricPoint[]>([]);
  const wanted = useRef({ runIds, keys });
  wanted.current = { runIds, keys };
  const variablesKey = `${runIds.join(",")}|${keys.join(",")}`;

  const refetch = useCallback(() => {
    sinceFetch.current = [];
    reexecute({ requestPolicy: "network-only" });
  }, [reexecute]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: new runs or keys start a new query, so the points kept for the old one no longer apply.
  useEffect(() => {
    sinceFetch.current = [];
    setSeries(undefined);
  }, [variablesKey]);

  // The packed form costs the API and the browser far less than one object per point.
  const fetched = useMemo(
    () => (result.data ? unpackSeries(result.data.metricSeries) : undefined),
    [result.data],
  );

  useEffect(() => {
    if (!fetched) return;
    setSeries(mergeLoggedPoints(fetched, sinceFetch.current, wanted.current));
  }, [fetched]);

  useSubscription<{ metricsLogged: MetricsLoggedEvent }>(
    { query: METRICS_LOGGED_SUBSCRIPTION, variables: { runIds }, pause: paused },
    (_previous, event) => {
      const points = event.metricsLogged.points;
      sinceFetch.current.push(...points);
      setSeries((current) => current && mergeLoggedPoints(current, points, wanted.current));
      return event;
    },
  );

  useEffect(() => {
    if (series && exceedsPointBudget(series, MAX_POINTS)) refetch();
  }, [series, refetch]);

  const { connection } = useSession();
  const disconnected = useRef(false);
  useEffect(() => {
    if (connection === "closed") {
      disconnected.current = true;
    } else if (connection === "connected" && disconnected.current) {
      disconnected.current = false;
      if (!paused) refetch();
    }
  }, [connection, paused, refetch]);

  // Until the effect above has copied a response, show the response itself.
  const shown = series ?? fetched;
  return { ...result, data: shown ? { metricSeries: shown } : undefined, refetch };
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
