import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@convnet/shared";
import { afterEach, describe, expect, test } from "vitest";
import {
  ApiClient,
  ApiError,
  backoffDelay,
  LogLimiter,
  type RetryPolicy,
  TransportError,
} from "../src/worker/api-client";
import { Outbox } from "../src/worker/outbox";

const log = createLogger("worker-client-test");
const FAST: RetryPolicy = { initialDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 5_000 };
let server: Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  // fetch keeps connections alive, and close() would wait for them.
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

/** Serves each request with the next scripted reply: an HTTP status and a JSON body. */
async function scriptedApi(
  replies: [number, unknown][],
): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      const [status, body] = replies[Math.min(count, replies.length - 1)] ?? [500, {}];
      count += 1;
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, requests: () => count };
}

describe("ApiClient", () => {
  test("retries through server errors", async () => {
    const api = await scriptedApi([
      [503, { errors: [{ message: "down", extensions: { code: "INTERNAL_SERVER_ERROR" } }] }],
      [502, "bad gateway"],
      [200, { data: { heartbeat: true } }],
    ]);
    const client = new ApiClient(api.url, "token", log);

    const data = await client.requestWithRetry<{ heartbeat: boolean }>(
      "heartbeat",
      "{ heartbeat }",
      {},
      { policy: FAST },
    );

    expect(data.heartbeat).toBe(true);
    expect(api.requests()).toBe(3);
  });

  test("does not retry a CONFLICT", async () => {
    const api = await scriptedApi([
      [200, { errors: [{ message: "stale", extensions: { code: "CONFLICT" } }] }],
    ]);
    const client = new ApiClient(api.url, "token", log);

    const error = await client
      .requestWithRetry("logMetrics", "{ x }", {}, { policy: FAST })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("CONFLICT");
    expect(api.requests()).toBe(1);
  });

  test("gives up after the policy's elapsed time", async () => {
    const api = await scriptedApi([[503, "unavailable"]]);
    const client = new ApiClient(api.url, "token", log);
    const policy: RetryPolicy = { initialDelayMs: 5, maxDelayMs: 10, maxElapsedMs: 60 };

    const error = await client
      .requestWithRetry("failRun", "{ x }", {}, { policy })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransportError);
    expect(api.requests()).toBeGreaterThan(1);
  });
});

describe("ApiClient.downloadArtifact", () => {
  const artifactId = "00000000-0000-4000-8000-000000000001";

  test("retries a server error, then returns the file", async () => {
    const api = await scriptedApi([
      [503, "unavailable"],
      [200, { files: {} }],
    ]);
    const client = new ApiClient(api.url, "token", log);

    const bytes = await client.downloadArtifact(artifactId, undefined, { policy: FAST });

    expect(Buffer.from(bytes).toString("utf8")).toBe('{"files":{}}');
    expect(api.requests()).toBe(2);
  });

  test("gives up after the maximum attempts", async () => {
    const api = await scriptedApi([[503, "unavailable"]]);
    const client = new ApiClient(api.url, "token", log);

    const error = await client
      .downloadArtifact(artifactId, undefined, { policy: FAST, maxAttempts: 3 })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toContain(`artifact ${artifactId}`);
    expect((error as Error).message).toContain("after 3 attempts");
    expect((error as Error).message).toContain("HTTP 503");
    expect(api.requests()).toBe(3);
  });

  test("does not retry a missing artifact", async () => {
    const api = await scriptedApi([[404, { error: "not found" }]]);
    const client = new ApiClient(api.url, "token", log);

    const error = await client
      .downloadArtifact(artifactId, undefined, { policy: FAST })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect(api.requests()).toBe(1);
  });
});

describe("LogLimiter", () => {
  test("lets one line a minute through and counts the rest", () => {
    let now = 0;
    const limiter = new LogLimiter(60_000, () => now);

    expect(limiter.take()).toBe(0);
    now = 1_000;
    expect(limiter.take()).toBeNull();
    now = 59_999;
    expect(limiter.take()).toBeNull();
    now = 60_000;
    expect(limiter.take()).toBe(2);
    now = 60_001;
    expect(limiter.take()).toBeNull();
  });
});

describe("backoffDelay", () => {
  test("grows exponentially within jitter bounds", () => {
    const policy: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 10_000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(800);
    expect(backoffDelay(10, policy, () => 1)).toBe(1_000);
  });
});

describe("Outbox", () => {
  test("sends reports in push order", async () => {
    const sent: string[] = [];
    const outbox = new Outbox(log, () => undefined);
    // The first report is the slowest, so only sequential sending keeps the order.
    const send = (label: string, delayMs: number) => async () => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      sent.push(label);
    };

    outbox.push("a", send("a", 30));
    outbox.push("b", send("b", 10));
    outbox.push("c", send("c", 0));
    await outbox.flush();

    expect(sent).toEqual(["a", "b", "c"]);
  });

  test("stops at a rejected report", async () => {
    const sent: string[] = [];
    const rejected: string[] = [];
    const outbox = new Outbox(log, (error) => rejected.push(error.code));

    outbox.push("a", async () => sent.push("a"));
    outbox.push("b", async () => {
      throw new ApiError("stale attempt", "CONFLICT");
    });
    outbox.push("c", async () => sent.push("c"));
    const flushed = await outbox.flush().catch((error: unknown) => error);

    expect(sent).toEqual(["a"]);
    expect(rejected).toEqual(["CONFLICT"]);
    expect(flushed).toBeInstanceOf(ApiError);
  });
});
