import type { db } from "@convnet/shared/prisma";
import { conflict } from "../server/errors";

/**
 * A run as the lifecycle tracks it. Only `running` has a worker and a lease; the terminal states
 * (succeeded, failed, cancelled, pruned) accept nothing but an editor's retry.
 */
export type RunState =
  | { status: "queued"; attempt: number; maxAttempts: number }
  | { status: "running"; attempt: number; maxAttempts: number; workerId: string }
  | { status: "succeeded"; attempt: number; maxAttempts: number }
  | { status: "failed"; attempt: number; maxAttempts: number }
  | { status: "cancelled"; attempt: number; maxAttempts: number }
  | { status: "pruned"; attempt: number; maxAttempts: number };

export type RunEvent =
  | { type: "claim"; workerId: string }
  | { type: "finish"; attempt: number }
  /** The worker reported an error; `retryable` errors go back to the queue while attempts remain. */
  | { type: "fail"; attempt: number; error: string; retryable: boolean }
  /** The worker stopped heartbeating; treated as a retryable failure. */
  | { type: "lease-expired"; error: string }
  | { type: "cancel" }
  | { type: "prune" }
  | { type: "retry" };

/** The columns a transition sets; `undefined` leaves a column as it is. */
export interface RunPatch {
  status: db.RunStatus;
  workerId?: string | null;
  attempt?: number;
  maxAttempts?: number;
  error?: string | null;
  heartbeatAt?: "now" | null;
  finishedAt?: "now" | null;
}

/** How many more attempts `retryRun` grants a failed or cancelled run. */
export const RETRY_ATTEMPTS = 3;

export function toRunState(row: {
  status: db.RunStatus;
  attempt: number;
  maxAttempts: number;
  workerId: string | null;
}): RunState {
  const { attempt, maxAttempts } = row;
  switch (row.status) {
    case "running":
      if (!row.workerId) {
        throw new Error(`A running run has no worker (attempt ${attempt}); the row is corrupt.`);
      }
      return { status: "running", attempt, maxAttempts, workerId: row.workerId };
    case "queued":
    case "succeeded":
    case "failed":
    case "cancelled":
    case "pruned":
      return { status: row.status, attempt, maxAttempts };
    default:
      return assertNever(row.status);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled value ${JSON.stringify(value)}`);
}

function illegal(state: RunState, event: RunEvent) {
  return conflict(`A ${state.status} run cannot ${event.type}.`);
}

/**
 * Rejects a worker's report for an attempt that is no longer the run's current one: the run was
 * taken away (lease expired, cancelled) and may already be running elsewhere.
 */
export function assertCurrentAttempt(state: RunState, attempt: number): void {
  if (state.status !== "running" || state.attempt !== attempt) {
    throw conflict(
      `Attempt ${attempt} of this run is stale: the run is ${state.status} at attempt ${state.attempt}. Stop working on it.`,
    );
  }
}

/** Either back to the queue for another attempt, or failed for good when none remain. */
function failOrRequeue(state: RunState, error: string, retryable: boolean): RunPatch {
  if (retryable && state.attempt < state.maxAttempts) {
    return { status: "queued", workerId: null, error, heartbeatAt: null };
  }
  const reason = retryable
    ? ` (gave up after ${state.attempt} of ${state.maxAttempts} attempts)`
    : "";
  return { status: "failed", error: `${error}${reason}`, finishedAt: "now", heartbeatAt: null };
}

/**
 * The one place that decides which status changes are legal. Throws a CONFLICT error for an
 * illegal one, or for a worker report from a stale attempt.
 */
export function transition(state: RunState, event: RunEvent): RunPatch {
  switch (event.type) {
    case "claim":
      if (state.status !== "queued") throw illegal(state, event);
      return {
        status: "running",
        workerId: event.workerId,
        attempt: state.attempt + 1,
        heartbeatAt: "now",
        finishedAt: null,
      };
    case "finish":
      assertCurrentAttempt(state, event.attempt);
      return { status: "succeeded", error: null, finishedAt: "now", heartbeatAt: "now" };
    case "fail":
      assertCurrentAttempt(state, event.attempt);
      return failOrRequeue(state, event.error, event.retryable);
    case "lease-expired":
      if (state.status !== "running") throw illegal(state, event);
      return failOrRequeue(state, event.error, true);
    case "cancel":
      if (state.status !== "queued" && state.status !== "running") throw illegal(state, event);
      return { status: "cancelled", finishedAt: "now", heartbeatAt: null };
    case "prune":
      if (state.status !== "queued" && state.status !== "running") throw illegal(state, event);
      return { status: "pruned", finishedAt: "now", heartbeatAt: null };
    case "retry":
      if (state.status !== "failed" && state.status !== "cancelled") throw illegal(state, event);
      return {
        status: "queued",
        workerId: null,
        error: null,
        finishedAt: null,
        maxAttempts: state.attempt + RETRY_ATTEMPTS,
      };
    default:
      return assertNever(event);
  }
}
