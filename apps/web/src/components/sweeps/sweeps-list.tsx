"use client";

import Link from "next/link";
import { useState } from "react";
import { useQuery, useSubscription } from "urql";
import { formatDateTime, formatPercent } from "@/lib/format";
import { SWEEP_UPDATED_SUBSCRIPTION, SWEEPS_QUERY } from "@/lib/queries";
import type { PageInfo, SweepRow } from "@/lib/types";
import { useSession } from "../providers";
import { Empty, QueryState, StatusBadge } from "../states";
import { RunCountsBar } from "./run-counts-bar";
import { sweepMetricLabel, sweepMetricValue } from "./sweep-metric";

const PAGE_SIZE = 50;

interface SweepsData {
  sweeps: { totalCount: number; pageInfo: PageInfo; edges: { node: SweepRow }[] };
}

export function SweepsList() {
  const { canEdit } = useSession();
  const [result, reexecute] = useQuery<SweepsData>({
    query: SWEEPS_QUERY,
    variables: { first: PAGE_SIZE },
  });
  const [live, setLive] = useState<Map<string, SweepRow>>(new Map());

  useSubscription<{ sweepUpdated: SweepRow }>(
    { query: SWEEP_UPDATED_SUBSCRIPTION, variables: { id: null } },
    (_previous, event) => {
      const sweep = event.sweepUpdated;
      const known = result.data?.sweeps.edges.some((edge) => edge.node.id === sweep.id);
      if (known) setLive((current) => new Map(current).set(sweep.id, sweep));
      else reexecute({ requestPolicy: "network-only" });
      return event;
    },
  );

  const sweeps = result.data?.sweeps;

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Sweeps</h1>
          <p className="muted">{sweeps ? `${sweeps.totalCount} sweeps` : " "}</p>
        </div>
        {canEdit ? (
          <Link href="/sweeps/new">
            <button type="button" className="primary" data-testid="launch-sweep">
              Launch a sweep
            </button>
          </Link>
        ) : null}
      </div>
      <QueryState
        fetching={result.fetching}
        error={result.error}
        hasData={Boolean(sweeps)}
        what="sweeps"
        retry={() => reexecute({ requestPolicy: "network-only" })}
      >
        {sweeps && sweeps.edges.length === 0 ? (
          <Empty>No sweeps yet.{canEdit ? " Launch one to train a batch of runs." : ""}</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Sweep</th>
                  <th>Status</th>
                  <th>Progress</th>
                  <th className="hide-narrow">Method</th>
                  <th>Best run</th>
                  <th className="hide-narrow">Created</th>
                </tr>
              </thead>
              <tbody>
                {sweeps?.edges.map(({ node }) => {
                  const sweep = live.get(node.id) ?? node;
                  return (
                    <tr key={sweep.id}>
                      <td>
                        <Link href={`/sweeps/${sweep.id}`}>{sweep.name}</Link>
                      </td>
                      <td>
                        <StatusBadge status={sweep.status} />
                      </td>
                      <td style={{ minWidth: 180 }}>
                        <RunCountsBar counts={sweep.runCounts} />
                      </td>
                      <td className="hide-narrow">
                        {sweep.method}, {sweep.direction} {sweep.metric}
                      </td>
                      <td>
                        {sweep.bestRun ? (
                          <Link href={`/runs/${sweep.bestRun.id}`}>
                            {sweep.bestRun.name} (
                            {formatPercent(sweepMetricValue(sweep.bestRun, sweep.metric))}{" "}
                            {sweepMetricLabel(sweep.metric)})
                          </Link>
                        ) : (
                          "–"
                        )}
                      </td>
                      <td className="hide-narrow">{formatDateTime(sweep.createdAt)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </>
  );
}
