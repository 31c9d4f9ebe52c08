import { SEED_RECIPE } from "@convnet/shared";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { errorCodes, type GraphQLResponse, startTestApi, type TestApi } from "./support/api-server";

const RUNS = `query Runs($first: Int, $after: String, $filter: RunFilter, $sort: RunSort) {
  runs(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name config testAccuracy } }
  }
}`;

interface RunsPage {
  runs: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: {
      node: {
        id: string;
        name: string;
        config: Record<string, number>;
        testAccuracy: number | null;
      };
    }[];
  };
}

const RUN_COUNT = 23;
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi(inject("serverUrl"));
  await api.prisma.run.createMany({
    data: Array.from({ length: RUN_COUNT }, (_, index) => {
      // Three runs share each learning rate, so the sort needs its id tiebreak across pages.
      const config = {
        ...SEED_RECIPE,
        learningRate: 0.001 * (1 + Math.floor(index / 3)),
        batchSize: 32 * (1 + (index % 4)),
      };
      return {
        name: `run ${String(index).padStart(2, "0")}`,
        hyperparameters: { learningRate: config.learningRate },
        config,
        architecture: config.architecture,
        dataset: config.dataset,
        seed: config.seed,
        totalSteps: 20,
        // Every fifth run has no result yet, to check that missing values sort last.
        testAccuracy: index % 5 === 0 ? null : 0.9 + index / 1000,
      };
    }),
  });
});

afterAll(async () => {
  await api?.stop();
});

async function allPages(variables: Record<string, unknown>, pageSize: number) {
  const seen: RunsPage["runs"]["edges"][number]["node"][] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const response: GraphQLResponse<RunsPage> = await api.request<RunsPage>(
      api.tokens.viewer,
      RUNS,
      { ...variables, first: pageSize, after },
    );
    expect(response.errors).toBeUndefined();
    const runs: RunsPage["runs"] | undefined = response.data?.runs;
    if (!runs) throw new Error("runs missing from the response");
    seen.push(...runs.edges.map((edge) => edge.node));
    if (!runs.pageInfo.hasNextPage) return { nodes: seen, totalCount: runs.totalCount };
    after = runs.pageInfo.endCursor;
  }
  throw new Error("pagination did not end");
}

describe("runs pagination", () => {
  it("visits every run once across pages", async () => {
    const { nodes, totalCount } = await allPages({}, 5);
    expect(totalCount).toBe(RUN_COUNT);
    expect(new Set(nodes.map((node) => node.id)).size).toBe(RUN_COUNT);
  });

  it("pages through a hyperparameter sort with ties in order", async () => {
    const { nodes } = await allPages({ sort: { field: "hp.learningRate", direction: "desc" } }, 4);
    expect(nodes).toHaveLength(RUN_COUNT);
    const rates = nodes.map((node) => node.config.learningRate ?? 0);
    expect(rates).toEqual([...rates].sort((a, b) => b - a));
  });

  it("sorts runs without a metric last in both directions", async () => {
    for (const direction of ["asc", "desc"]) {
      const { nodes } = await allPages({ sort: { field: "testAccuracy", direction } }, 6);
      expect(nodes).toHaveLength(RUN_COUNT);
      const firstMissing = nodes.findIndex((node) => node.testAccuracy === null);
      expect(nodes.slice(firstMissing).every((node) => node.testAccuracy === null)).toBe(true);
      const present = nodes.slice(0, firstMissing).map((node) => node.testAccuracy ?? 0);
      const expected = [...present].sort((a, b) => (direction === "asc" ? a - b : b - a));
      expect(present).toEqual(expected);
    }
  });

  it("filters by hyperparameter range and metric threshold", async () => {
    const { nodes, totalCount } = await allPages(
      {
        filter: {
          hyperparameters: [
            { name: "learningRate", min: 0.002, max: 0.004 },
            { name: "batchSize", equals: 64 },
          ],
          metrics: [{ metric: "testAccuracy", min: 0.9 }],
        },
      },
      2,
    );
    expect(totalCount).toBe(nodes.length);
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      expect(node.config.learningRate).toBeGreaterThanOrEqual(0.002);
      expect(node.config.learningRate).toBeLessThanOrEqual(0.004);
      expect(node.config.batchSize).toBe(64);
      expect(node.testAccuracy).not.toBeNull();
    }
  });

  it("rejects an unknown sort field by name", async () => {
    const response = await api.request(api.tokens.viewer, RUNS, {
      sort: { field: "hp.momentum", direction: "asc" },
    });
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.extensions?.fields?.[0]?.field).toBe("sort.field");
  });

  it("rejects a forged cursor", async () => {
    const response = await api.request(api.tokens.viewer, RUNS, { after: "not-a-cursor" });
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
  });
});
