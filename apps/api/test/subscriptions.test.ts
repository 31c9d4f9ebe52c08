import { createLogger, loadConfig, SEED_RECIPE } from "@convnet/shared";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { PostgresPubSub } from "../src/pubsub";
import { startTestApi, type TestApi } from "./support/api-server";

let api: TestApi;
let publisher: PostgresPubSub;

beforeAll(async () => {
  api = await startTestApi(inject("serverUrl"));
  // A second pub/sub on its own connections acts as another API process.
  publisher = new PostgresPubSub(api.databaseUrl, createLogger("test-publisher"));
  await publisher.start();
});

afterAll(async () => {
  await publisher?.close();
  await api?.stop();
});

async function createRunningRun(name: string) {
  return api.prisma.run.create({
    data: {
      name,
      hyperparameters: {},
      config: SEED_RECIPE,
      architecture: SEED_RECIPE.architecture,
      dataset: SEED_RECIPE.dataset,
      seed: SEED_RECIPE.seed,
      totalSteps: 20,
      status: "running",
    },
  });
}

/** Connects the way a browser does: the token in the cookie, and the page's Origin header. */
function connectWithCookie(token: string, origin: string) {
  class BrowserLikeSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie: `convnet_token=${token}`, origin } });
    }
  }
  let closeCode: number | undefined;
  const client = createClient({
    url: api.url.replace("http://", "ws://"),
    webSocketImpl: BrowserLikeSocket,
    retryAttempts: 0,
    lazy: false,
    on: {
      closed: (event) => {
        closeCode = (event as { code?: number }).code;
      },
    },
  });
  return { client, closeCode: () => closeCode };
}

function connect(token: string | null) {
  return createClient({
    url: api.url.replace("http://", "ws://"),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
  });
}

describe("subscriptions", () => {
  it("delivers a runUpdated event published from another connection", async () => {
    const run = await api.prisma.run.create({
      data: {
        name: "watched",
        hyperparameters: {},
        config: SEED_RECIPE,
        architecture: SEED_RECIPE.architecture,
        dataset: SEED_RECIPE.dataset,
        seed: SEED_RECIPE.seed,
        totalSteps: 20,
        status: "running",
      },
    });
    const client = connect(api.tokens.viewer);
    const subscription = client.iterate<{
      runUpdated: { id: string; name: string; status: string };
    }>({
      query: "subscription ($ids: [ID!]) { runUpdated(runIds: $ids) { id name status } }",
      variables: { ids: [run.id] },
    });
    const first = subscription.next();

    // Subscribing completes asynchronously on the server; publish until the event arrives.
    let received: Awaited<typeof first> | undefined;
    for (let attempt = 0; attempt < 50 && !received; attempt += 1) {
      await publisher.send("RUN_UPDATED", {
        runId: "00000000-0000-4000-8000-000000000000",
        sweepId: null,
      });
      await publisher.send("RUN_UPDATED", { runId: run.id, sweepId: null });
      received = await Promise.race([
        first,
        new Promise<undefined>((resolve) => setTimeout(resolve, 100)),
      ]);
    }

    expect(received?.value?.data?.runUpdated).toEqual({
      id: run.id,
      name: "watched",
      status: "running",
    });
    await subscription.return?.();
    await client.dispose();
  });

  it("refuses a connection without a token", async () => {
    const client = connect(null);
    const subscription = client.iterate({ query: "subscription { sweepUpdated { id } }" });
    await expect(subscription.next()).rejects.toBeDefined();
    await client.dispose();
  });

  it("delivers logged metric points with their run and key", async () => {
    const run = await createRunningRun("logging");
    await api.prisma.metricPoint.createMany({
      data: [
        {
          runId: run.id,
          phase: "train",
          key: "loss",
          step: 1,
          epoch: 1,
          value: 0.5,
          wallTime: new Date(),
        },
        {
          runId: run.id,
          phase: "train",
          key: "val_loss",
          step: 1,
          epoch: 1,
          value: 0.6,
          wallTime: new Date(),
        },
      ],
    });
    const client = connect(api.tokens.viewer);
    const subscription = client.iterate<{
      metricsLogged: {
        runId: string;
        keys: string[];
        points: { runId: string; key: string; step: number; value: number }[];
      };
    }>({
      query:
        "subscription ($ids: [ID!]!) { metricsLogged(runIds: $ids) { runId keys points { runId key step value } } }",
      variables: { ids: [run.id] },
    });
    const first = subscription.next();

    let received: Awaited<typeof first> | undefined;
    for (let attempt = 0; attempt < 50 && !received; attempt += 1) {
      await publisher.send("METRICS_LOGGED", {
        runId: run.id,
        keys: ["loss", "val_loss"],
        fromStep: 1,
        toStep: 1,
      });
      received = await Promise.race([
        first,
        new Promise<undefined>((resolve) => setTimeout(resolve, 100)),
      ]);
    }

    const event = received?.value?.data?.metricsLogged;
    expect(event?.runId).toBe(run.id);
    expect(event?.points).toEqual([
      { runId: run.id, key: "loss", step: 1, value: 0.5 },
      { runId: run.id, key: "val_loss", step: 1, value: 0.6 },
    ]);
    await subscription.return?.();
    await client.dispose();
  });

  it("rejects a cookie upgrade from an origin outside ALLOWED_ORIGINS", async () => {
    const { client, closeCode } = connectWithCookie(api.tokens.viewer, "http://evil.example");
    const subscription = client.iterate({ query: "subscription { sweepUpdated { id } }" });

    await expect(subscription.next()).rejects.toBeDefined();
    expect(closeCode()).toBe(4403);
    await client.dispose();
  });

  it("accepts a cookie upgrade from an allowed origin", async () => {
    const [allowed] = loadConfig().allowedOrigins;
    if (!allowed) throw new Error("ALLOWED_ORIGINS is empty; the test needs one allowed origin.");
    const run = await createRunningRun("watched by cookie");
    const { client } = connectWithCookie(api.tokens.viewer, allowed);
    const subscription = client.iterate<{ runUpdated: { id: string } }>({
      query: "subscription ($ids: [ID!]) { runUpdated(runIds: $ids) { id } }",
      variables: { ids: [run.id] },
    });
    const first = subscription.next();

    let received: Awaited<typeof first> | undefined;
    for (let attempt = 0; attempt < 50 && !received; attempt += 1) {
      await publisher.send("RUN_UPDATED", { runId: run.id, sweepId: null });
      received = await Promise.race([
        first,
        new Promise<undefined>((resolve) => setTimeout(resolve, 100)),
      ]);
    }

    expect(received?.value?.data?.runUpdated).toEqual({ id: run.id });
    await subscription.return?.();
    await client.dispose();
  });
});
