/**
 * Events that cross API processes. Payloads carry ids and a few small fields only, because
 * PostgreSQL caps a NOTIFY payload at 8000 bytes; subscribers load the rest on delivery.
 */
export interface TopicPayloads {
  RUN_UPDATED: { runId: string; sweepId: string | null };
  /** Steps fromStep..toStep (inclusive) of these keys were written for the run. */
  METRICS_LOGGED: { runId: string; keys: string[]; fromStep: number; toStep: number };
  SWEEP_UPDATED: { sweepId: string };
  /** An alias now points at another model version, so cached models for it are stale. */
  MODEL_ALIAS_MOVED: { modelName: string; alias: string; versionId: string };
}

export type Topic = keyof TopicPayloads;

export const TOPICS = [
  "RUN_UPDATED",
  "METRICS_LOGGED",
  "SWEEP_UPDATED",
  "MODEL_ALIAS_MOVED",
] as const satisfies readonly Topic[];

/** PostgreSQL's limit is 8000 bytes; the rest is headroom for the envelope. */
export const MAX_PAYLOAD_BYTES = 7_900;

export const NOTIFY_CHANNEL = "convnet_events";
