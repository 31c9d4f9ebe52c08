import type { Logger } from "@convnet/shared";
import pg from "pg";
import type { PubSub } from "type-graphql";
import {
  MAX_PAYLOAD_BYTES,
  NOTIFY_CHANNEL,
  TOPICS,
  type Topic,
  type TopicPayloads,
} from "./topics";

type Listener = (payload: unknown) => void;

/** Events a slow subscriber may fall behind by before the oldest are dropped. */
const MAX_QUEUED_EVENTS = 1_000;
const RECONNECT_DELAY_MS = 1_000;

function isTopic(value: unknown): value is Topic {
  return typeof value === "string" && (TOPICS as readonly string[]).includes(value);
}

/**
 * Fans events out through PostgreSQL LISTEN/NOTIFY, so every API process connected to the same
 * database delivers every event, including the ones it published itself (they come back through
 * the listening connection, which keeps delivery order the same in every process).
 */
export class PostgresPubSub implements PubSub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly pool: pg.Pool;
  private listenClient: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on("error", (error) =>
      this.log.error({ err: error }, "Publishing connection failed"),
    );
  }

  async start(): Promise<void> {
    await this.connectListener();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listenClient;
    this.listenClient = undefined;
    await client?.end().catch(() => undefined);
    await this.pool.end();
  }

  /** Sends the event to every API process; resolves once PostgreSQL has accepted it. */
  async send<T extends Topic>(topic: T, payload: TopicPayloads[T]): Promise<void> {
    const text = JSON.stringify({ topic, payload });
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_PAYLOAD_BYTES) {
      throw new Error(
        `The ${topic} event is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte NOTIFY limit; publish ids and load the rest on delivery.`,
      );
    }
    await this.pool.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, text]);
  }

  publish(routingKey: string, ...args: unknown[]): void {
    if (!isTopic(routingKey)) throw new Error(`Unknown topic ${JSON.stringify(routingKey)}`);
    this.send(routingKey, args[0] as TopicPayloads[typeof routingKey]).catch((error: unknown) =>
      this.log.error({ err: error, topic: routingKey }, "Publishing an event failed"),
    );
  }

  /** Calls `listener` for each event on the topic in this process; returns the unsubscribe function. */
  on<T extends Topic>(topic: T, listener: (payload: TopicPayloads[T]) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    const entry = listener as Listener;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  subscribe(routingKey: string): AsyncIterable<unknown> {
    if (!isTopic(routingKey)) throw new Error(`Unknown topic ${JSON.stringify(routingKey)}`);
    const queue: unknown[] = [];
    let waiting: ((result: IteratorResult<unknown>) => void) | undefined;
    let done = false;

    const unsubscribe = this.on(routingKey, (payload) => {
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value: payload, done: false });
        return;
      }
      if (queue.length >= MAX_QUEUED_EVENTS) {
        queue.shift();
        this.log.warn({ topic: routingKey }, "A subscriber fell behind; dropped its oldest event");
      }
      queue.push(payload);
    });

    const finish = (): Promise<IteratorResult<unknown>> => {
      done = true;
      unsubscribe();
      queue.length = 0;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
      return Promise.resolve({ value: undefined, done: true });
    };

    const iterator: AsyncIterableIterator<unknown> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return: finish,
      throw: (error: unknown) => {
        void finish();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private deliver(text: string): void {
    let message: { topic?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text) as { topic?: unknown; payload?: unknown };
    } catch (error) {
      this.log.warn({ err: error }, "Ignored a notification that is not JSON");
      return;
    }
    if (!isTopic(message.topic)) return;
    for (const listener of this.listeners.get(message.topic) ?? []) {
      try {
        listener(message.payload);
      } catch (error) {
        this.log.error({ err: error, topic: message.topic }, "An event listener failed");
      }
    }
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on("notification", (notification) => {
      if (notification.channel === NOTIFY_CHANNEL && notification.payload) {
        this.deliver(notification.payload);
      }
    });
    client.on("error", (error) => {
      this.log.error({ err: error }, "The LISTEN connection failed; reconnecting");
      this.reconnectLater(client);
    });
    client.on("end", () => this.reconnectLater(client));

    await client.connect();
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.listenClient = client;
  }

  private reconnectLater(failed: pg.Client): void {
    if (this.closed || this.listenClient !== failed) return;
    this.listenClient = undefined;
    // NOTE: events sent while the LISTEN connection is down are lost; subscribers see the change on their next refetch.
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    setTimeout(() => {
      if (this.closed) return;
      this.connectListener().catch((error: unknown) => {
        this.log.error({ err: error }, "Reconnecting the LISTEN connection failed; retrying");
        this.scheduleReconnect();
      });
    }, RECONNECT_DELAY_MS).unref();
  }
}
