"use client";

import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { parseHyperparameterSchema } from "@/lib/hyperparameters";
import { LAUNCH_FORM_QUERY, RUN_UPDATED_SUBSCRIPTION, RUNS_QUERY } from "@/lib/queries";
import type { PageInfo, RunRow } from "@/lib/types";
import { parseList, useUrlState } from "@/lib/url-state";
import { useSession } from "../providers";
import { Empty, ErrorBox, Loading } from "../states";
import { type RunColumn, runColumns } from "./columns";
import { FilterCell } from "./filter-cell";
import {
  filterFromParams,
  formatSort,
  parseSort,
  type RunFilterInput,
  type RunSortInput,
} from "./run-filters";

/** Rows per request: enough to fill a tall screen, small enough that a page arrives in one frame. */
const PAGE_SIZE = 50;

interface RunsData {
  runs: {
    totalCount: number;
    pageInfo: PageInfo;
    edges: { cursor: string; node: RunRow }[];
  };
}

export function RunsTable() {
  const { params, update } = useUrlState();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const sort = useMemo(() => parseSort(params.get("sort")), [params]);
  const selectedInUrl = params.get("selected");
  // Kept locally as well, so a checkbox flips at once rather than after the URL round trip.
  const [selected, setSelected] = useState(() => parseList(selectedInUrl));
  useEffect(() => setSelected(parseList(selectedInUrl)), [selectedInUrl]);

  const [schema] = useQuery<{ hyperparameterSchema: unknown }>({ query: LAUNCH_FORM_QUERY });
  const enums = useMemo(() => {
    const parsed = parseHyperparameterSchema(schema.data?.hyperparameterSchema);
    const values: Record<string, string[]> = {};
    for (const [name, spec] of Object.entries(parsed)) {
      if (spec.values) values[name] = spec.values.map(String);
    }
    return values;
  }, [schema.data]);
  const columns = useMemo(() => runColumns(enums), [enums]);

  function toggleSort(column: RunColumn) {
    if (!column.sortField) return;
    const next: RunSortInput =
      sort.field === column.sortField
        ? { field: sort.field, direction: sort.direction === "desc" ? "asc" : "desc" }
        : { field: column.sortField, direction: column.numeric ? "desc" : "asc" };
    update({ sort: formatSort(next) });
  }

  function toggleSelected(id: string) {
    const next = selected.includes(id)
      ? selected.filter((entry) => entry !== id)
      : [...selected, id];
    setSelected(next);
    update({ selected: next.join(",") || null });
  }

  const hasFilters = [...params.keys()].some((key) => key !== "sort" && key !== "selected");
  const listKey = JSON.stringify({ filter, sort });

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Runs</h1>
          <p className="muted">
            Click a header to sort; type in the row below it to filter (ranges as 0.9..1).
          </p>
        </div>
        <div className="actions">
          {hasFilters ? (
            <button type="button" onClick={() => update(clearFilters(params))}>
              Clear filters
            </button>
          ) : null}
          <Link
            className={selected.length < 2 ? "disabled-link" : undefined}
            aria-disabled={selected.length < 2}
            href={selected.length >= 2 ? `/compare?runs=${selected.join(",")}` : "#"}
            data-testid="compare-selected"
          >
            <button type="button" className="primary" disabled={selected.length < 2}>
              Compare {selected.length > 0 ? selected.length : ""} selected
            </button>
          </Link>
        </div>
      </div>
      <RunList
        key={listKey}
        columns={columns}
        filter={filter}
        sort={sort}
        selected={selected}
        onToggleSelected={toggleSelected}
        onToggleSort={toggleSort}
        params={params}
        update={update}
      />
    </>
  );
}

function clearFilters(params: URLSearchParams): Record<string, null> {
  const changes: Record<string, null> = {};
  for (const key of params.keys()) if (key !== "sort" && key !== "selected") changes[key] = null;
  return changes;
}

function RunList(props: {
  columns: RunColumn[];
  filter: RunFilterInput;
  sort: RunSortInput;
  selected: string[];
  onToggleSelected(id: string): void;
  onToggleSort(column: RunColumn): void;
  params: URLSearchParams;
  update(changes: Record<string, string | null>): void;
}) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [lastPage, setLastPage] = useState<{ pageInfo: PageInfo; totalCount: number } | null>(null);
  const [live, setLive] = useState<Map<string, RunRow>>(new Map());
  const [refreshCount, setRefreshCount] = useState(0);
  const knownIds = useRef(new Set<string>());
  const sentinel = useRef<HTMLDivElement>(null);

  // Status and metrics change in place through runUpdated; a run that is on no loaded page yet
  // (a new sweep launched elsewhere) refreshes the first page instead.
  useSubscription<{ runUpdated: RunRow }>(
    { query: RUN_UPDATED_SUBSCRIPTION, variables: { sweepId: props.filter.sweepId ?? null } },
    (_previous, event) => {
      const run = event.runUpdated;
      if (knownIds.current.has(run.id)) {
        setLive((current) => new Map(current).set(run.id, run));
      } else {
        setRefreshCount((count) => count + 1);
      }
      return event;
    },
  );

  const loadMore = useCallback(() => {
    if (!lastPage?.pageInfo.hasNextPage || !lastPage.pageInfo.endCursor) return;
    const cursor = lastPage.pageInfo.endCursor;
    setCursors((current) => (current.includes(cursor) ? current : [...current, cursor]));
  }, [lastPage]);

  useEffect(() => {
    const element = sentinel.current;
    if (!element) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [loadMore]);

  return (
    <>
      <p className="muted" data-testid="runs-count">
        {lastPage ? `${lastPage.totalCount.toLocaleString("en")} runs` : " "}
      </p>
      <div className="table-wrap runs-table">
        <table>
          <thead>
            <tr>
              <th aria-label="Select" />
              {props.columns.map((column) => (
                <th
                  key={column.id}
                  className={`${column.numeric ? "num" : ""} ${column.hideNarrow ? "hide-narrow" : ""}`}
                  aria-sort={
                    props.sort.field === column.sortField
                      ? props.sort.direction === "asc"
                        ? "ascending"
                        : "descending"
                      : undefined
                  }
                >
                  {column.sortField ? (
                    <button type="button" onClick={() => props.onToggleSort(column)}>
                      {column.label}
                      {props.sort.field === column.sortField
                        ? props.sort.direction === "asc"
                          ? " ▲"
                          : " ▼"
                        : ""}
                    </button>
                  ) : (
                    column.label
                  )}
                </th>
              ))}
            </tr>
            <tr className="filter-row">
              <th />
              {props.columns.map((column) => (
                <th key={column.id} className={column.hideNarrow ? "hide-narrow" : undefined}>
                  {column.filter ? (
                    <FilterCell
                      filter={column.filter}
                      label={column.label}
                      params={props.params}
                      update={props.update}
                    />
                  ) : null}
                </th>
              ))}
            </tr>
          </thead>
          {cursors.map((after, index) => (
            <RunPage
              key={after ?? "first"}
              after={after}
              filter={props.filter}
              sort={props.sort}
              columns={props.columns}
              live={live}
              knownIds={knownIds.current}
              selected={props.selected}
              onToggleSelected={props.onToggleSelected}
              refreshCount={index === 0 ? refreshCount : 0}
              onPage={index === cursors.length - 1 ? setLastPage : undefined}
            />
          ))}
        </table>
      </div>
      <div ref={sentinel} className="actions" style={{ marginTop: "0.75rem" }}>
        {lastPage?.pageInfo.hasNextPage ? (
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        ) : null}
      </div>
    </>
  );
}

function NoRuns() {
  const { canEdit } = useSession();
  return canEdit ? (
    <>
      No runs match. Clear the filters, or <Link href="/sweeps/new">launch a sweep</Link>.
    </>
  ) : (
    <>No runs match. Clear the filters to see every run.</>
  );
}

function RunPage(props: {
  after: string | null;
  filter: RunFilterInput;
  sort: RunSortInput;
  columns: RunColumn[];
  live: Map<string, RunRow>;
  knownIds: Set<string>;
  selected: string[];
  onToggleSelected(id: string): void;
  refreshCount: number;
  onPage?: (page: { pageInfo: PageInfo; totalCount: number }) => void;
}) {
  const [result, reexecute] = useQuery<RunsData>({
    query: RUNS_QUERY,
    variables: { first: PAGE_SIZE, after: props.after, filter: props.filter, sort: props.sort },
  });
  const { onPage, refreshCount } = props;
  const span = props.columns.length + 1;

  useEffect(() => {
    if (refreshCount > 0) {
      const timer = setTimeout(() => reexecute({ requestPolicy: "network-only" }), 500);
      return () => clearTimeout(timer);
    }
  }, [refreshCount, reexecute]);

  const runs = result.data?.runs;
  useEffect(() => {
    if (runs && onPage) onPage({ pageInfo: runs.pageInfo, totalCount: runs.totalCount });
  }, [runs, onPage]);

  if (result.error && !runs) {
    return (
      <tbody>
        <tr>
          <td colSpan={span}>
            <ErrorBox
              error={result.error}
              retry={() => reexecute({ requestPolicy: "network-only" })}
            />
          </td>
        </tr>
      </tbody>
    );
  }
  if (!runs) {
    return (
      <tbody>
        <tr>
          <td colSpan={span}>
            <Loading what="runs" />
          </td>
        </tr>
      </tbody>
    );
  }
  if (runs.edges.length === 0 && props.after === null) {
    return (
      <tbody>
        <tr>
          <td colSpan={span}>
            <Empty>
              <NoRuns />
            </Empty>
          </td>
        </tr>
      </tbody>
    );
  }

  return (
    <tbody>
      {runs.edges.map(({ node }) => {
        props.knownIds.add(node.id);
        const run = props.live.get(node.id) ?? node;
        const isSelected = props.selected.includes(run.id);
        return (
          <tr key={run.id} aria-selected={isSelected} data-run-id={run.id}>
            <td>
              <input
                type="checkbox"
                aria-label={`Select ${run.name}`}
                checked={isSelected}
                onChange={() => props.onToggleSelected(run.id)}
              />
            </td>
            {props.columns.map((column) => (
              <td
                key={column.id}
                className={`${column.numeric ? "num" : ""} ${column.hideNarrow ? "hide-narrow" : ""}`}
              >
                {column.render(run)}
              </td>
            ))}
          </tr>
        );
      })}
    </tbody>
  );
}
