import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadConfig, PRESETS, SetupError } from "@convnet/shared";
import { FOLLOW_SWEEP, LAUNCH_SWEEP } from "./sweep-documents";

const USAGE = `Usage: npm run sweep -- <spec.json | preset> [--concurrency N] [--name NAME]

Launches a sweep through the API (API_URL, API_TOKEN with role editor) and follows it until it ends.
  spec.json   a SweepSpec as JSON: name, method, preset, baseConfig, searchSpace, metric,
              direction, runBudget, concurrency
  preset      one of ${Object.keys(PRESETS).join(", ")}: a grid over learningRate 0.0005, 0.001, 0.002
Options:
  --concurrency N   runs trained at once (default: the spec's, or 2 for a preset)
  --name NAME       sweep name (default: the spec's, or <preset>-<time>)
Ctrl-C stops following; the sweep goes on (cancel it in the dashboard).`;

const POLL_MS = 2_000;

interface RunRow {
  id: string;
  name: string;
  status: string;
  epoch: number;
  step: number;
  totalSteps: number;
  attempt: number;
  hyperparameters: Record<string, unknown>;
  lastMetrics: Record<string, number> | null;
  testAccuracy: number | null;
  error: string | null;
}

interface SweepView {
  id: string;
  name: string;
  status: string;
  metric: string;
  direction: string;
  runCounts: Record<string, number>;
  runs: { edges: { node: RunRow }[] };
  bestRun: {
    id: string;
    name: string;
    hyperparameters: Record<string, unknown>;
    testAccuracy: number | null;
    bestValAccuracy: number | null;
    lastMetrics: Record<string, number> | null;
  } | null;
}

async function request<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new SetupError(
      `Cannot reach the API at ${url}: ${(error as Error).message}`,
      "Start it with `npm start` (or `npm run api`), or set API_URL to where it runs.",
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = body.errors?.[0];
  if (error) throw new Error(`${error.extensions?.code ?? "ERROR"}: ${error.message}`);
  if (!body.data) throw new Error(`The API returned HTTP ${response.status} without data.`);
  return body.data;
}

async function loadSpec(argument: string, flags: { concurrency?: string; name?: string }) {
  let spec: Record<string, unknown>;
  if (argument in PRESETS) {
    spec = {
      name: `${argument}-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "")}`,
      method: "grid",
      preset: argument,
      searchSpace: { learningRate: { values: [0.0005, 0.001, 0.002] } },
      metric: "val_accuracy",
      direction: "maximize",
      runBudget: 3,
      concurrency: 2,
    };
  } else {
    const text = await readFile(argument, "utf8").catch((error: Error) => {
      throw new SetupError(
        `${argument} is neither a preset nor a readable file (${error.message}).`,
        `Pass a SweepSpec JSON file or one of the presets: ${Object.keys(PRESETS).join(", ")}.`,
      );
    });
    try {
      spec = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new SetupError(
        `${argument} is not valid JSON: ${(error as Error).message}`,
        "Fix the file's JSON syntax.",
      );
    }
  }
  if (flags.name) spec.name = flags.name;
  if (flags.concurrency) {
    const concurrency = Number(flags.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new SetupError(
        `--concurrency ${flags.concurrency} is invalid.`,
        "Use a whole number of 1 or more.",
      );
    }
    spec.concurrency = concurrency;
  }
  return spec;
}

function formatNumber(value: number | null | undefined, digits = 4): string {
  return typeof value === "number" ? value.toFixed(digits) : "-";
}

function formatHyperparameters(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(" ");
}

/** Renders the sweep as lines: a summary, then one line per run (status, step, val_accuracy). */
export function renderTable(sweep: SweepView): string[] {
  const counts = sweep.runCounts;
  const lines = [
    `Sweep ${sweep.name} (${sweep.id}): ${sweep.status} - ${counts.succeeded} succeeded, ${counts.running} running, ${counts.queued} queued, ${counts.failed} failed of ${counts.total}`,
    `${"run".padEnd(28)} ${"status".padEnd(10)} ${"step".padEnd(7)} ${"try".padEnd(4)} ${"val_accuracy".padEnd(13)} hyperparameters`,
  ];
  for (const { node: run } of sweep.runs.edges) {
    lines.push(
      [
        run.name.slice(0, 28).padEnd(28),
        run.status.padEnd(10),
        `${run.step}/${run.totalSteps}`.padEnd(7),
        String(run.attempt).padEnd(4),
        formatNumber(run.lastMetrics?.val_accuracy).padEnd(13),
        formatHyperparameters(run.hyperparameters),
      ].join(" "),
    );
  }
  return lines;
}

async function follow(
  url: string,
  token: string,
  sweepId: string,
  interrupted: AbortSignal,
): Promise<SweepView> {
  const live = process.stdout.isTTY;
  let previousLines = 0;
  let previousText = "";
  for (;;) {
    const { sweep } = await request<{ sweep: SweepView | null }>(url, token, FOLLOW_SWEEP, {
      id: sweepId,
    });
    if (!sweep) throw new Error(`Sweep ${sweepId} not found; it may have been deleted.`);
    const lines = renderTable(sweep);
    const text = lines.join("\n");
    if (live) {
      // Moves the cursor back over the previous table and clears it before drawing the new one.
      if (previousLines > 0) process.stdout.write(`\x1b[${previousLines}A\x1b[0J`);
      process.stdout.write(`${text}\n`);
      previousLines = lines.length;
    } else if (text !== previousText) {
      process.stdout.write(`${text}\n\n`);
    }
    previousText = text;
    if (sweep.status !== "running" || interrupted.aborted) return sweep;
    await sleep(POLL_MS, undefined, { signal: interrupted }).catch(() => undefined);
  }
}

function printOutcome(sweep: SweepView): void {
  for (const { node: run } of sweep.runs.edges) {
    if (run.status === "failed" && run.error)
      console.log(`Run ${run.name} failed: ${run.error.split("\n")[0]}`);
  }
  const best = sweep.bestRun;
  if (!best) {
    console.log(`No best run: no run of sweep ${sweep.name} has a ${sweep.metric} value.`);
    return;
  }
  console.log(
    `Best run by ${sweep.metric} (${sweep.direction}): ${best.name} (${best.id})\n` +
      `  ${sweep.metric}: ${formatNumber(best.lastMetrics?.[sweep.metric] ?? best.bestValAccuracy)}, test accuracy: ${formatNumber(best.testAccuracy)}\n` +
      `  hyperparameters: ${formatHyperparameters(best.hyperparameters) || "(none searched)"}`,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      concurrency: { type: "string" },
      name: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  const argument = positionals[0];
  if (values.help || !argument || positionals.length > 1) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const config = loadConfig();
  if (!config.API_TOKEN) {
    throw new SetupError(
      "API_TOKEN is not set.",
      "Create an editor token with `npm run token -- create --role editor --label me` and set API_TOKEN to it.",
    );
  }

  const spec = await loadSpec(argument, values);
  const { launchSweep } = await request<{ launchSweep: { id: string; name: string } }>(
    config.apiUrl,
    config.API_TOKEN,
    LAUNCH_SWEEP,
    { spec },
  );
  console.log(
    `Launched sweep ${launchSweep.name} (${launchSweep.id}); following it (Ctrl-C stops following).`,
  );

  const interrupt = new AbortController();
  process.once("SIGINT", () => interrupt.abort());
  const sweep = await follow(config.apiUrl, config.API_TOKEN, launchSweep.id, interrupt.signal);
  if (sweep.status === "running") {
    console.log(
      `Stopped following; sweep ${sweep.id} goes on. Cancel it in the dashboard or with the cancelSweep mutation.`,
    );
    return;
  }
  printOutcome(sweep);
  if (sweep.status !== "succeeded") process.exitCode = 1;
}

main().catch((error: unknown) => {
  if (error instanceof SetupError) {
    console.error(`${error.message}\n${error.fix}`);
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
