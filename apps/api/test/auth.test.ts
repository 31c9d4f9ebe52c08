import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApiToken, revokeApiToken } from "../src/auth/tokens";
import { errorCodes, startTestApi, type TestApi } from "./support/api-server";

const LAUNCH = `mutation Launch($spec: SweepSpec!) { launchSweep(spec: $spec) { id name } }`;
const PROMOTE = `mutation { promote(versionId: "00000000-0000-4000-8000-000000000000", alias: "production") { alias } }`;
const LOG_METRICS = `mutation { logMetrics(runId: "00000000-0000-4000-8000-000000000000", attempt: 1, points: []) }`;
const SPEC = {
  name: "auth check",
  method: "grid",
  preset: "quick",
  searchSpace: { learningRate: { values: [0.001] } },
  metric: "val_accuracy",
  direction: "maximize",
  runBudget: 1,
  concurrency: 1,
};

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi(inject("serverUrl"));
});

afterAll(async () => {
  await api?.stop();
});

describe("authentication", () => {
  it("rejects a request without a token", async () => {
    const response = await api.request(null, "{ viewer { role } }");
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(["UNAUTHENTICATED"]);
  });

  it("rejects an unknown token", async () => {
    const response = await api.request("cnl_not-a-real-token", "{ viewer { role } }");
    expect(errorCodes(response)).toEqual(["UNAUTHENTICATED"]);
  });

  it("rejects a revoked token", async () => {
    const { token, id } = await createApiToken(api.prisma, {
      role: "editor",
      label: "soon revoked",
    });
    const before = await api.request(token, "{ viewer { label } }");
    expect(before.data).toEqual({ viewer: { label: "soon revoked" } });

    expect(await revokeApiToken(api.prisma, id)).toBe(true);
    const after = await api.request(token, "{ viewer { label } }");
    expect(after.status).toBe(401);
    expect(errorCodes(after)).toEqual(["UNAUTHENTICATED"]);
  });

  it("stores only the token's hash", async () => {
    const rows = await api.prisma.apiToken.findMany();
    for (const row of rows) {
      expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(Object.values(api.tokens)).not.toContain(row.tokenHash);
    }
  });

  it("leaves /healthz open", async () => {
    const response = await fetch(api.url.replace("/graphql", "/healthz"));
    expect(response.status).toBe(200);
  });
});

describe("roles", () => {
  it("lets every role read", async () => {
    for (const token of Object.values(api.tokens)) {
      const response = await api.request(token, "{ sweeps(first: 1) { totalCount } }");
      expect(response.errors).toBeUndefined();
    }
  });

  it("forbids a viewer to launch a sweep", async () => {
    const response = await api.request(api.tokens.viewer, LAUNCH, { spec: SPEC });
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
    expect(await api.prisma.sweep.count()).toBe(0);
  });

  it("forbids a worker to launch a sweep", async () => {
    const response = await api.request(api.tokens.worker, LAUNCH, { spec: SPEC });
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
  });

  it("forbids a viewer to promote a model version", async () => {
    const response = await api.request(api.tokens.viewer, PROMOTE);
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
  });

  it("forbids a viewer to log metrics", async () => {
    const response = await api.request(api.tokens.viewer, LOG_METRICS);
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
  });

  it("forbids an editor to log metrics", async () => {
    const response = await api.request(api.tokens.editor, LOG_METRICS);
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
  });

  it("lets an editor launch a sweep", async () => {
    const response = await api.request<{ launchSweep: { name: string } }>(
      api.tokens.editor,
      LAUNCH,
      { spec: SPEC },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.launchSweep.name).toBe("auth check");
  });
});

describe("request limits", () => {
  it("rejects more than 200 run ids", async () => {
    const ids = Array.from({ length: 201 }, () => "00000000-0000-4000-8000-000000000000");
    const response = await api.request(
      api.tokens.viewer,
      "query ($ids: [ID!]!) { compareRuns(ids: $ids) { differing { name } } }",
      { ids },
    );
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.extensions?.fields?.[0]?.field).toBe("ids");
  });

  it("rejects more than 5,000 metric points in one batch", async () => {
    const points = Array.from({ length: 5_001 }, (_, step) => ({
      phase: "train",
      key: "loss",
      step,
      epoch: 1,
      value: 1,
    }));
    const response = await api.request(
      api.tokens.worker,
      'mutation ($points: [MetricInput!]!) { logMetrics(runId: "00000000-0000-4000-8000-000000000000", attempt: 1, points: $points) }',
      { points },
    );
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.extensions?.fields?.[0]?.field).toBe("points");
  });

  it("rejects packed values of partial float64s", async () => {
    const packed = {
      keys: ["loss"],
      keyIndexes: [0],
      phases: ["train"],
      steps: [1],
      epochs: [1],
      values: Buffer.from([1, 2, 3, 4]).toString("base64"),
    };
    const response = await api.request(
      api.tokens.worker,
      'mutation ($packed: PackedMetricsInput!) { logMetrics(runId: "00000000-0000-4000-8000-000000000000", attempt: 1, packed: $packed) }',
      { packed },
    );
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.message).toMatch(/packed\.values.*8 bytes/);
  });

  it("rejects points and packed together", async () => {
    const response = await api.request(
      api.tokens.worker,
      'mutation { logMetrics(runId: "00000000-0000-4000-8000-000000000000", attempt: 1, points: [], packed: { keys: [], keyIndexes: [], phases: [], steps: [], epochs: [], values: "" }) }',
    );
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.extensions?.fields?.[0]?.field).toBe("packed");
  });

  it("rejects a query nested too deep", async () => {
    const nested = "sweep { runs(first: 1) { edges { node { ".repeat(4);
    const query = `{ run(id: "00000000-0000-4000-8000-000000000000") { ${nested} id ${"} } } }".repeat(4)} } }`;
    const response = await api.request(api.tokens.viewer, query);
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.message).toMatch(/levels deep/);
  });

  it("rejects a page larger than the maximum", async () => {
    const response = await api.request(api.tokens.viewer, "{ runs(first: 100000) { totalCount } }");
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
  });

  it("blocks a GET query without a preflight header", async () => {
    const response = await fetch(`${api.url}?query=${encodeURIComponent("{ viewer { role } }")}`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    expect(response.status).toBe(400);
  });

  it("masks unexpected errors and maps bad ids to BAD_USER_INPUT", async () => {
    const response = await api.request(api.tokens.viewer, '{ run(id: "not-a-uuid") { id } }');
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(JSON.stringify(response)).not.toMatch(/stacktrace|at .*\.ts/);
  });
});
