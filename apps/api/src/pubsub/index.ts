import { createLogger, type Logger } from "@convnet/shared";
import { PostgresPubSub } from "./postgres-pubsub";
import type { Topic, TopicPayloads } from "./topics";

export { PostgresPubSub } from "./postgres-pubsub";
export * from "./topics";

let active: PostgresPubSub | undefined;
let warnedInactive = false;
let log: Logger | undefined;

/** Starts the process's pub/sub and makes `publish` send through it. */
export async function startPubSub(databaseUrl: string, parentLog: Logger): Promise<PostgresPubSub> {
  log = parentLog.child({ component: "pubsub" });
  const pubsub = new PostgresPubSub(databaseUrl, log);
  await pubsub.start();
  active = pubsub;
  return pubsub;
}

export async function stopPubSub(pubsub: PostgresPubSub): Promise<void> {
  if (active === pubsub) active = undefined;
  await pubsub.close();
}

/**
 * Sends an event to every subscriber of every API process. Call it after the change is committed.
 * It never rejects: a failed NOTIFY is logged, because the change itself has already happened.
 */
export async function publish<T extends Topic>(topic: T, payload: TopicPayloads[T]): Promise<void> {
  if (!active) {
    if (!warnedInactive) {
      warnedInactive = true;
      (log ?? createLogger("pubsub")).warn(
        { topic },
        "No pub/sub is running in this process; events are not sent",
      );
    }
    return;
  }
  try {
    await active.send(topic, payload);
  } catch (error) {
    (log ?? createLogger("pubsub")).error(
      { err: error, topic, payload },
      "Publishing an event failed",
    );
  }
}
