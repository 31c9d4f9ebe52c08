import { mkdir } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { graphql, type Stack, startStack } from "../support/stack";
import { type Browser, launchBrowser } from "./browser";
import { buildWebApp, startWebApp, type WebApp } from "./web-app";

const LOG_DIR = path.resolve(import.meta.dirname, "../../test-results/e2e");
/** Generous: two runs of a 2,000-image slice share 2 cores with the API, the dashboard and Chromium. */
const TRAINING_TIMEOUT_MS = 600_000;
const UI_TIMEOUT_MS = 30_000;

if (!process.env.MNIST_DIR) {
  throw new Error(
    "Set MNIST_DIR to the folder with the four MNIST IDX files to run the browser tests.",
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function signIn(page: Page, baseUrl: string, token: string) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.fill('input[name="token"]', token);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${baseUrl}/`, { timeout: UI_TIMEOUT_MS });
}

/** Reads a chart's data-points attribute: how many points it currently draws. */
async function chartPoints(page: Page, testId: string): Promise<number> {
  return page.$eval(`[data-testid="${testId}"]`, (element) =>
    Number(element.getAttribute("data-points") ?? 0),
  );
}

describe("dashboard in a browser", () => {
  let stack: Stack;
  let web: WebApp;
  let browser: Browser;
  let page: Page;
  const state: { sweepId?: string; runIds: string[]; bestRunId?: string } = { runIds: [] };

  beforeAll(async () => {
    await mkdir(LOG_DIR, { recursive: true });
    const webPort = await freePort();
    const origins = `http://127.0.0.1:${webPort},http://localhost:${webPort}`;

    const [startedStack] = await Promise.all([
      startStack({
        serverUrl: inject("serverUrl"),
        workers: 2,
        env: { ALLOWED_ORIGINS: origins, WEB_PORT: String(webPort), LOG_LEVEL: "warn" },
      }),
      buildWebApp(path.join(LOG_DIR, "next-build.log")),
    ]);
    stack = startedStack;
    web = await startWebApp({
      apiUrl: stack.apiUrl,
      port: webPort,
      logFile: path.join(LOG_DIR, "next-start.log"),
    });
    browser = await launchBrowser();
    page = browser.page;
  }, 600_000);

  afterEach(async (context) => {
    if (context.task.result?.state !== "fail" || !browser) return;
    const name = context.task.name.replace(/[^a-z0-9]+/gi, "-");
    await browser.screenshot(`failed-${name}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await stack?.stop();
  });

  /** Launches a one-run quick sweep through the API and returns the run's id. */
  async function launchOneRun(name: string, dropout: number, epochs: number): Promise<string> {
    const launched = await graphql<{
      launchSweep: { runs: { edges: { node: { id: string } }[] } };
    }>(
      stack.apiUrl,
      stack.tokens.editor,
      `mutation ($spec: SweepSpec!) { launchSweep(spec: $spec) { runs { edges { node { id } } } } }`,
      {
        spec: {
          name,
          method: "grid",
          preset: "quick",
          baseConfig: { trainLimit: 2000, testLimit: 500, epochs, finetuneEpochs: 0 },
          searchSpace: { dropout: { values: [dropout] } },
          metric: "val_accuracy",
          direction: "maximize",
          runBudget: 1,
          concurrency: 1,
        },
      },
    );
    const runId = launched.launchSweep.runs.edges[0]?.node.id;
    if (!runId) throw new Error(`launchSweep ${name} returned no run.`);
    return runId;
  }

  it("signs in with an editor token", async () => {
    await page.goto(`${web.url}/sign-in`);
    await browser.screenshot("sign-in");
    await signIn(page, web.url, stack.tokens.editor);

    await page.getByRole("heading", { name: "Runs" }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page
      .locator('[data-testid="connection"]', { hasText: "Live" })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.textContent(".viewer")).toContain("editor");
  });

  it("rejects an unknown token with a message", async () => {
    const fresh = await browser.context.newPage();
    await fresh.goto(`${web.url}/sign-in`);
    await fresh.fill('input[name="token"]', "not-a-token");
    await fresh.click('button[type="submit"]');

    await fresh.locator("#token-error").waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await fresh.textContent("#token-error")).toMatch(/unknown or revoked/);
    await fresh.close();
  });

  it("launches a two-run sweep from the form", async () => {
    await page.goto(`${web.url}/sweeps/new`);
    await page.getByTestId("launch-form").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.fill('input[name="name"]', "e2e-learning-rate");
    await page.fill('input[name="config.trainLimit"]', "2000");
    await page.fill('input[name="config.testLimit"]', "500");
    await page.fill('input[name="config.epochs"]', "2");
    await page.fill('input[name="config.finetuneEpochs"]', "1");
    await page.fill('input[aria-label="Values of learningRate"]', "0.001, 0.003");
    await page.fill('input[name="runBudget"]', "2");
    await page.fill('input[name="concurrency"]', "2");
    await browser.screenshot("sweep-launch-form");
    await page.click('button[type="submit"]');

    await page.waitForURL(
      (url) => /^\/sweeps\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith("/new"),
      {
        timeout: UI_TIMEOUT_MS,
      },
    );
    state.sweepId = new URL(page.url()).pathname.split("/").pop();
    await page.waitForFunction(
      () => document.querySelectorAll("tr[data-run-id]").length === 2,
      null,
      {
        timeout: UI_TIMEOUT_MS,
      },
    );
    state.runIds = await page.$$eval("tr[data-run-id]", (rows) =>
      rows.map((row) => row.getAttribute("data-run-id") ?? ""),
    );

    expect(state.sweepId).toBeTruthy();
    expect(state.runIds).toHaveLength(2);
  });

  it("shows field errors the API returns for an invalid sweep", async () => {
    await page.goto(`${web.url}/sweeps/new`);
    await page.getByTestId("launch-form").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.fill('input[name="config.epochs"]', "100000");
    await page.click('button[type="submit"]');

    await page.getByTestId("launch-error").waitFor({ timeout: UI_TIMEOUT_MS });
    const fieldMessages = await page.locator("label .field-error").allTextContents();
    expect(fieldMessages.join(" ")).toMatch(/200/);
    await browser.screenshot("sweep-launch-field-errors");
  });

  it("grows a run's curves live while it trains", async () => {
    const runId = state.runIds[0];
    await page.goto(`${web.url}/runs/${runId}`);
    // A reload would drop this marker, so finding it at the end proves the page updated in place.
    await page.evaluate(() => Object.assign(window, { e2eMarker: true }));

    await page.waitForFunction(
      () =>
        Number(document.querySelector('[data-testid="curve-loss"]')?.getAttribute("data-points")) >=
        1,
      null,
      { timeout: TRAINING_TIMEOUT_MS, polling: 250 },
    );
    const first = await chartPoints(page, "curve-loss");
    await browser.screenshot("run-training");
    await page.waitForFunction(
      (seen) =>
        Number(document.querySelector('[data-testid="curve-loss"]')?.getAttribute("data-points")) >
        seen,
      first,
      { timeout: TRAINING_TIMEOUT_MS, polling: 250 },
    );

    expect(await chartPoints(page, "curve-loss")).toBeGreaterThan(first);
    expect(await page.evaluate(() => "e2eMarker" in window)).toBe(true);
  });

  it("shows a finished run's results", async () => {
    await page.locator('h1 [data-status="succeeded"]').waitFor({ timeout: TRAINING_TIMEOUT_MS });
    await page.getByTestId("confusion-matrix").waitFor({ timeout: UI_TIMEOUT_MS });

    expect(await page.evaluate(() => "e2eMarker" in window)).toBe(true);
    expect(
      await page.locator("section", { hasText: "Checkpoints" }).locator("tbody tr").count(),
    ).toBeGreaterThan(0);
    // The gallery's first digit comes from the API's GET /mnist/test/<index>.png through the
    // dashboard's file proxy; a broken image would have a natural width of 0.
    const digit = page.getByTestId("misclassified").locator("img").first();
    await digit.waitFor({ timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="misclassified"] img') as HTMLImageElement | null)
          ?.complete,
      null,
      { timeout: UI_TIMEOUT_MS },
    );
    expect(await digit.evaluate((image) => (image as HTMLImageElement).naturalWidth)).toBe(28);
    await browser.screenshot("run-finished");
    await page.setViewportSize({ width: 390, height: 844 });
    await browser.screenshot("run-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("compares the two runs selected in the runs table", async () => {
    await page.goto(`${web.url}/?sweep=${state.sweepId}`);
    await page.waitForFunction(
      () => document.querySelectorAll('tr[data-run-id] [data-status="succeeded"]').length === 2,
      null,
      { timeout: TRAINING_TIMEOUT_MS, polling: 500 },
    );
    await browser.screenshot("runs");
    await page.setViewportSize({ width: 390, height: 844 });
    await browser.screenshot("runs-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${web.url}/sweeps/${state.sweepId}`);
    await page.locator('h1 [data-status="succeeded"]').waitFor({ timeout: TRAINING_TIMEOUT_MS });
    expect(await page.textContent('[data-testid="sweep-progress"]')).toContain("2 of 2 done");
    await browser.screenshot("sweep");
    await page.goto(`${web.url}/?sweep=${state.sweepId}`);
    await page.locator("tr[data-run-id]").nth(1).waitFor({ timeout: UI_TIMEOUT_MS });
    for (const runId of state.runIds)
      await page.check(`tr[data-run-id="${runId}"] input[type="checkbox"]`);
    await page.click('[data-testid="compare-selected"] button');

    await page.waitForURL((url) => url.pathname === "/compare", { timeout: UI_TIMEOUT_MS });
    await page.getByTestId("compare-table").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(
      () =>
        Number(
          document
            .querySelector('[data-testid="compare-val_accuracy"]')
            ?.getAttribute("data-points"),
        ) >= 2,
      null,
      { timeout: UI_TIMEOUT_MS },
    );
    await page.fill('input[aria-label="Smoothing"]', "0.5");
    await page.waitForURL((url) => url.searchParams.get("smooth") === "0.5", {
      timeout: UI_TIMEOUT_MS,
    });

    const selected = new URL(page.url()).searchParams.get("runs")?.split(",") ?? [];
    expect(selected.sort()).toEqual([...state.runIds].sort());
    await page.getByTestId("parallel-chart").waitFor();
    await browser.screenshot("compare");
  });

  it("registers and promotes the better run", async () => {
    const data = await graphql<{
      runs: { edges: { node: { id: string; testAccuracy: number } }[] };
    }>(
      stack.apiUrl,
      stack.tokens.editor,
      'query ($sweepId: ID) { runs(filter: { sweepId: $sweepId }, sort: { field: "testAccuracy", direction: desc }) { edges { node { id testAccuracy } } } }',
      { sweepId: state.sweepId },
    );
    state.bestRunId = data.runs.edges[0]?.node.id;
    await page.goto(`${web.url}/runs/${state.bestRunId}`);
    await page
      .getByRole("button", { name: "Register model version" })
      .click({ timeout: UI_TIMEOUT_MS });
    await page.getByText(/Registered as .* v\d+/).waitFor({ timeout: UI_TIMEOUT_MS });

    await page.goto(`${web.url}/models`);
    await page
      .getByRole("button", { name: "Promote to production" })
      .first()
      .click({ timeout: UI_TIMEOUT_MS });
    await page.getByRole("dialog").getByRole("button", { name: "Promote", exact: true }).click();
    await page
      .locator('[data-testid="alias-history"] li')
      .first()
      .waitFor({ timeout: UI_TIMEOUT_MS });

    expect(await page.locator("tbody .badge", { hasText: "production" }).count()).toBe(1);
    expect(await page.textContent('[data-testid="alias-history"]')).toContain("stack-editor");
  });

  it("predicts a digit drawn on the canvas", async () => {
    const canvas = page.getByTestId("digit-canvas");
    const box = await canvas.boundingBox();
    if (!box)
      throw new Error("The drawing canvas has no layout box; is the production model missing?");
    const x = box.x + box.width / 2;
    await page.mouse.move(x, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(x, box.y + box.height * 0.85, { steps: 12 });
    await page.mouse.up();

    const label = page.getByTestId("prediction-label");
    await label.or(page.locator(".draw [role=alert]")).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator(".draw [role=alert]").allTextContents()).toEqual([]);
    expect(await label.textContent()).toMatch(/^[0-9]$/);
    await browser.screenshot("models");
  });

  it("cancels and retries a run from its page", async () => {
    const runId = await launchOneRun("e2e-cancel", 0.1, 2);
    await page.goto(`${web.url}/runs/${runId}`);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Cancel run" }).click({ timeout: UI_TIMEOUT_MS });
    await page.locator('h1 [data-status="cancelled"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await browser.screenshot("run-cancelled");

    await page.getByRole("button", { name: "Retry" }).click();
    await page
      .locator('h1 [data-status="queued"], h1 [data-status="running"]')
      .first()
      .waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(0);
  });

  it("shows a failed run's error text", async () => {
    const runId = await launchOneRun("e2e-failed", 0.2, 1);
    await graphql(
      stack.apiUrl,
      stack.tokens.editor,
      "mutation ($id: ID!) { cancelRun(id: $id) { id } }",
      {
        id: runId,
      },
    );
    // A worker failure takes minutes of retries to reach its last attempt. So the failed state is
    // written straight to the row, and the page under test only reads it.
    const errorText =
      "train-images-idx3-ubyte.gz is truncated: expected 9,912,422 bytes, found 1,024";
    await stack.prisma.run.update({
      where: { id: runId },
      data: { status: "failed", error: errorText, finishedAt: new Date() },
    });

    await page.goto(`${web.url}/runs/${runId}`);
    const errorBox = page.getByTestId("run-error");
    await errorBox.waitFor({ timeout: UI_TIMEOUT_MS });

    expect(await errorBox.textContent()).toContain(errorText);
    expect(await page.locator('h1 [data-status="failed"]').count()).toBe(1);
    await browser.screenshot("run-failed");
  });

  it("hides launch and promote buttons from a viewer token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${web.url}/sign-in`, { timeout: UI_TIMEOUT_MS });
    await signIn(page, web.url, stack.tokens.viewer);

    await page.goto(`${web.url}/sweeps`);
    await page.getByRole("heading", { name: "Sweeps" }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator("tbody tr").first().waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.getByTestId("launch-sweep").count()).toBe(0);
    await browser.screenshot("sweeps-viewer");

    await page.goto(`${web.url}/models`);
    await page.locator("tbody tr").first().waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.getByRole("button", { name: "Promote to production" }).count()).toBe(0);

    await page.goto(`${web.url}/runs/${state.bestRunId}`);
    await page.getByTestId("confusion-matrix").waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.getByRole("button", { name: "Register model version" }).count()).toBe(0);
  });
});
