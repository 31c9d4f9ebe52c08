"use client";

import { useEffect, useState } from "react";
import { RUN_STATUSES } from "@/lib/types";
import type { ColumnFilter } from "./columns";
import { parseRange } from "./run-filters";

/** Waits this long after the last keystroke before filtering, so typing "0.95" sends one request. */
const TYPING_DELAY_MS = 400;

export function FilterCell(props: {
  filter: ColumnFilter;
  label: string;
  params: URLSearchParams;
  update(changes: Record<string, string | null>): void;
}) {
  const { filter, params, update } = props;

  if (filter.kind === "status") {
    return (
      <select
        aria-label={`Filter ${props.label}`}
        value={params.get("status") ?? ""}
        onChange={(event) => update({ status: event.target.value || null })}
      >
        <option value="">all</option>
        {RUN_STATUSES.map((status) => (
          <option key={status} value={status}>
            {status}
          </option>
        ))}
        <option value="queued,running">active</option>
        <option value="failed,cancelled,pruned">ended early</option>
      </select>
    );
  }

  if (filter.kind === "enum") {
    return (
      <select
        aria-label={`Filter ${props.label}`}
        value={params.get(filter.param) ?? ""}
        onChange={(event) => update({ [filter.param]: event.target.value || null })}
      >
        <option value="">all</option>
        {filter.values.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </select>
    );
  }

  return (
    <TypedFilter
      param={filter.param}
      range={filter.kind === "range"}
      label={props.label}
      params={params}
      update={update}
    />
  );
}

function TypedFilter(props: {
  param: string;
  range: boolean;
  label: string;
  params: URLSearchParams;
  update(changes: Record<string, string | null>): void;
}) {
  const current = props.params.get(props.param) ?? "";
  const [text, setText] = useState(current);
  const { update, param, range } = props;

  useEffect(() => setText(current), [current]);

  const invalid = range && text.trim() !== "" && parseRange(text) === null;

  useEffect(() => {
    if (text === current || invalid) return;
    const timer = setTimeout(() => update({ [param]: text.trim() || null }), TYPING_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, current, invalid, param, update]);

  return (
    <input
      aria-label={`Filter ${props.label}`}
      aria-invalid={invalid || undefined}
      title={range ? "A value, or a range such as 0.9..1, ..0.01 or 100.." : undefined}
      placeholder={range ? "min..max" : "contains"}
      value={text}
      size={range ? 5 : 10}
      onChange={(event) => setText(event.target.value)}
    />
  );
}
