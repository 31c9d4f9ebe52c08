"use client";

import Link from "next/link";
import { useMutation } from "urql";
import { CANCEL_RUN_MUTATION, REGISTER_MODEL_MUTATION, RETRY_RUN_MUTATION } from "@/lib/queries";
import type { ModelVersion, RunRow } from "@/lib/types";
import { useSession } from "../providers";
import { describeError } from "../states";

/** Cancel, retry and register buttons; a viewer token sees none of them. */
export function RunActions(props: { run: RunRow }) {
  const { canEdit } = useSession();
  const [cancelState, cancel] = useMutation(CANCEL_RUN_MUTATION);
  const [retryState, retry] = useMutation(RETRY_RUN_MUTATION);
  const [registerState, register] = useMutation<{ registerModelVersion: ModelVersion }>(
    REGISTER_MODEL_MUTATION,
  );
  if (!canEdit) return null;

  const { run } = props;
  const active = run.status === "queued" || run.status === "running";
  const retryable = run.status === "failed" || run.status === "cancelled";
  const error = cancelState.error ?? retryState.error ?? registerState.error;
  const registered = registerState.data?.registerModelVersion;

  return (
    <div className="actions">
      {active ? (
        <button
          type="button"
          className="danger"
          disabled={cancelState.fetching}
          onClick={() => {
            if (window.confirm(`Cancel ${run.name}? Its worker stops at the next heartbeat.`)) {
              void cancel({ id: run.id });
            }
          }}
        >
          Cancel run
        </button>
      ) : null}
      {retryable ? (
        <button
          type="button"
          disabled={retryState.fetching}
          onClick={() => void retry({ id: run.id })}
        >
          Retry
        </button>
      ) : null}
      {run.status === "succeeded" ? (
        registered ? (
          <Link href="/models">
            Registered as {registered.name} v{registered.version}
          </Link>
        ) : (
          <button
            type="button"
            disabled={registerState.fetching}
            onClick={() => void register({ runId: run.id })}
          >
            Register model version
          </button>
        )
      ) : null}
      {error ? (
        <span className="field-error" role="alert">
          {describeError(error)}
        </span>
      ) : null}
    </div>
  );
}
