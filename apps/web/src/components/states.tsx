"use client";

import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import type { RunStatus, SweepStatus } from "@/lib/types";

export function StatusBadge(props: { status: RunStatus | SweepStatus }) {
  return (
    <span className={`badge badge-${props.status}`} data-status={props.status}>
      {props.status === "running" ? <span className="pulse" aria-hidden /> : null}
      {props.status}
    </span>
  );
}

export function Loading(props: { what: string }) {
  return (
    <p className="state state-loading" role="status">
      Loading {props.what}…
    </p>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <div className="state state-empty">{props.children}</div>;
}

/** Describes a failed request in a sentence, with the step that usually fixes it. */
export function describeError(error: CombinedError): string {
  if (error.networkError) {
    return `The dashboard could not reach its server (${error.networkError.message}). Check your connection and reload.`;
  }
  const first = error.graphQLErrors[0];
  const code = first?.extensions?.code;
  if (code === "UNAUTHENTICATED") return "Your session has ended. Sign in again with an API token.";
  if (code === "FORBIDDEN") return `${first?.message ?? "Forbidden."} This needs an editor token.`;
  return error.graphQLErrors.map((entry) => entry.message).join(" ") || error.message;
}

export function ErrorBox(props: { error: CombinedError | string; retry?: () => void }) {
  const message = typeof props.error === "string" ? props.error : describeError(props.error);
  return (
    <div className="state state-error" role="alert">
      <p>{message}</p>
      {props.retry ? (
        <button type="button" onClick={props.retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Renders loading, error or the content, so every page handles the three states the same way. */
export function QueryState(props: {
  fetching: boolean;
  error: CombinedError | undefined;
  hasData: boolean;
  what: string;
  retry?: () => void;
  children: ReactNode;
}) {
  if (props.error && !props.hasData) return <ErrorBox error={props.error} retry={props.retry} />;
  if (!props.hasData) return props.fetching ? <Loading what={props.what} /> : null;
  return <>{props.children}</>;
}
