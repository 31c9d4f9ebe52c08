import { createLogger, SEED_RECIPE } from "@convnet/shared";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { PostgresPubSub } from "../src/pubsub";
import { startTestApi, type TestApi } from "./support/api-server";

let api: TestApi;
let publisher: PostgresPubSub;

beforeAll(async () => {
  api = await startTestApi(inject("serverUrl"));
  // A second pub/sub on its own connections stands in for another API process.
  publisher = new PostgresPubSub(api.databaseUrl, createLogger("test-publisher"));
  await publisher.start();
});

afterAll(async () => {
  await publisher?.close();
  await api?.stop();
});

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
});
