// Measures the runs page over 10,000 runs: first rows, a server-side sort, a filter and the next
// page on scroll. Starts its own API (no workers) on a fresh database and the built dashboard.
// Run: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench -w apps/web
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startStack } from "../support/stack";
import { launchBrowser } from "./browser";
import { buildWebApp, startWebApp } from "./web-app";

const RUN_COUNT = Number(process.env.BENCH_RUNS ?? 10_000);
const STATUSES = ["succeeded", "failed", "running", "queued", "cancelled"] as const;
const WEB_PORT = Number(process.env.BENCH_WEB_PORT ?? 3950);

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl)
  throw new Error(
    "Set DATABASE_URL to a PostgreSQL server URL; the benchmark creates its own database there.",
  );

const stack = await startStack({
  serverUrl,
  workers: 0,
  env: { ALLOWED_ORIGINS: `http://127.0.0.1:${WEB_PORT}`, LOG_LEVEL: "warn" },
});
try {
  const rows = Array.from({ length: RUN_COUNT }, (_, index) => {
    const learningRate = 10 ** -(2 + (index % 3));
    const finished = index % 5 !== 2 && index % 5 !== 3;
    return {
      name: `bench-run-${index}`,
      status: STATUSES[index % STATUSES.length],
      hyperparameters: { learningRate },
      config: {
        architecture: "seed-cnn",
        learningRate,
        batchSize: 128,
        epochs: 2,
        optimizer: "adam",
      },
      architecture: "seed-cnn",
      dataset: "mnist",
      seed: index,
      totalSteps: 3,
      createdAt: new Date(Date.now() - index * 1000),
      testAccuracy: finished ? 0.9 + (index % 97) / 1000 : null,
      bestValAccuracy: finished ? 0.91 + (index % 89) / 1000 : null,
      durationSeconds: finished ? 30 + (index % 50) : null,
    };
  });
  const insertStart = performance.now();
  await stack.prisma.run.createMany({ data: rows });
  console.log(
    `inserted ${RUN_COUNT} runs in ${((performance.now() - insertStart) / 1000).toFixed(1)} s`,
  );

  await buildWebApp(
    path.resolve(import.meta.dirname, "../../test-results/e2e/bench-next-build.log"),
  );
  const web = await startWebApp({ apiUrl: stack.apiUrl, port: WEB_PORT, logFile: "/dev/null" });
  const browser = await launchBrowser();
  const page = browser.page;
  try {
    await page.goto(`${web.url}/sign-in`);
    await page.fill('input[name="token"]', stack.tokens.viewer);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${web.url}/`);

    const timed = async (label: string, action: () => Promise<unknown>) => {
      const start = performance.now();
      await action();
      console.log(`${label}: ${(performance.now() - start).toFixed(0)} ms`);
    };
    const rowCount = () => page.locator("tr[data-run-id]").count();

    await timed("runs page, reload to first 50 rows", async () => {
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll("tr[data-run-id]").length >= 50);
    });
    await timed("sort by test accuracy (server-side)", async () => {
      await page.getByRole("button", { name: /^Test acc/ }).click();
      await page.waitForFunction(
        () => new URL(location.href).searchParams.get("sort") === "testAccuracy:desc",
      );
      await page.waitForFunction(
        () =>
          !document.querySelector(".state-loading") &&
          document.querySelectorAll("tr[data-run-id]").length >= 50,
      );
    });
    await timed("filter status = failed", async () => {
      await page.selectOption('select[aria-label="Filter Status"]', "failed");
      await page.waitForFunction(() => {
        const badges = [...document.querySelectorAll("tr[data-run-id] [data-status]")];
        return (
          badges.length >= 50 &&
          badges.every((badge) => badge.getAttribute("data-status") === "failed")
        );
      });
    });
    await timed("scroll to the next page of 50", async () => {
      const before = await rowCount();
      await page.locator("tr[data-run-id]").last().scrollIntoViewIfNeeded();
      await page.mouse.wheel(0, 5000);
      await page.waitForFunction(
        (count) => document.querySelectorAll("tr[data-run-id]").length > count,
        before,
      );
    });
    console.log(`count shown: ${await page.textContent('[data-testid="runs-count"]')}`);
  } finally {
    await browser.close();
    await web.stop();
  }
} finally {
  await stack.stop();
}
