import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ARCHITECTURES, MAX_EPOCHS, PRESETS } from "@convnet/shared";
import { pino } from "pino";
import { BACKEND_NAMES, type BackendPreference, resolveBackendPreference } from "../backend";
import { DirectoryCheckpointStore } from "../checkpoint";
import { DatasetFileError } from "../data";
import { checkRunConfig, InvalidRunConfigError, trainRun } from "../train";
import { ProgressBar } from "./progress";

const HELP = `Usage: npm run train -- --config <file.json | preset> [options]

Trains a CNN on MNIST or Fashion-MNIST and prints the test accuracy.

Options:
  --config <file|preset>    run configuration: a JSON file, or a preset (${Object.keys(PRESETS).join(", ")})
  --set <key=value>         override one configuration field; repeatable (e.g. --set epochs=3)
  --backend <name>          compute backend: auto, ${BACKEND_NAMES.join(", ")} (default: auto, or TRAINER_BACKEND)
  --data-dir <dir>          folder with the four IDX files (default: MNIST_DIR or FASHION_MNIST_DIR,
                            else ~/.cache/convnet-lab/<dataset>, downloading missing files)
  --checkpoint-dir <dir>    save a checkpoint per epoch there and resume from the latest one
  --save-model <dir>        write the final model.json and weights.bin there
  -h, --help                show this help

Configuration fields (see packages/shared/src/run-config.ts): architecture (${ARCHITECTURES.join(", ")}),
dataset, seed, trainLimit, testLimit, validationSplit, batchSize, optimizer, learningRate, epochs and
finetuneEpochs (at most ${MAX_EPOCHS} each), finetuneLearningRate, finetuneOptimizer (default: optimizer), rotation (degrees, 0-180), widthShift,
heightShift, zoom, dropout, earlyStoppingPatience, baseModel (a folder with model.json whose weights
start the run, matched to layers by name) and freezeLayers (leading layers kept at the base weights).

Examples:
  npm run train -- --config quick --set epochs=3 --checkpoint-dir data/checkpoints/quick
  npm run train -- --config quick --save-model data/models/mnist
  npm run train -- --config quick --set dataset=fashion-mnist --set baseModel=data/models/mnist --set freezeLayers=3
`;

class UsageError extends Error {}

interface CliOptions {
  config: unknown;
  backend: BackendPreference | undefined;
  dataDir: string | undefined;
  checkpointDir: string | undefined;
  saveModel: string | undefined;
}

function parseCommandLine(argv: string[]): CliOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      set: { type: "string", multiple: true },
      backend: { type: "string" },
      "data-dir": { type: "string" },
      "checkpoint-dir": { type: "string" },
      "save-model": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return null;
  if (values.config === undefined) {
    throw new UsageError(
      `--config is missing: pass a JSON file or one of the presets ${Object.keys(PRESETS).join(", ")}.`,
    );
  }

  const config: Record<string, unknown> = { ...readConfig(values.config) };
  for (const assignment of values.set ?? []) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(assignment);
    if (match === null)
      throw new UsageError(
        `--set "${assignment}" is invalid; write it as key=value, e.g. --set epochs=3.`,
      );
    const [, key = "", raw = ""] = match;
    config[key] = raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }

  return {
    config,
    backend: parseBackend(values.backend),
    dataDir: values["data-dir"],
    checkpointDir: values["checkpoint-dir"],
    saveModel: values["save-model"],
  };
}

function parseBackend(value: string | undefined): BackendPreference {
  try {
    return resolveBackendPreference(value as BackendPreference | undefined);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function readConfig(nameOrPath: string): object {
  const preset = PRESETS[nameOrPath];
  if (preset !== undefined) return preset;
  if (!existsSync(nameOrPath)) {
    throw new UsageError(
      `--config "${nameOrPath}" is neither a preset (${Object.keys(PRESETS).join(", ")}) nor an existing file.`,
    );
  }
  try {
    return JSON.parse(readFileSync(nameOrPath, "utf8")) as object;
  } catch (error) {
    throw new UsageError(
      `--config file ${nameOrPath} is not valid JSON: ${(error as Error).message}`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseCommandLine(argv);
  if (options === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = checkRunConfig(options.config);

  const progress = new ProgressBar(process.stderr);
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort(new Error("Interrupted by SIGINT.")));
  const store =
    options.checkpointDir === undefined
      ? undefined
      : new DirectoryCheckpointStore(options.checkpointDir);
  const logger = pino(
    { name: "trainer", level: process.env.LOG_LEVEL ?? "warn" },
    pino.destination(2),
  );

  const result = await trainRun(config, {
    backend: options.backend,
    dataDir: options.dataDir,
    store,
    signal: controller.signal,
    logger,
    onPhaseStart: (phase, epochs) => progress.phaseStart(phase, epochs),
    onBatch: (batch) => progress.batch(batch),
    onEpoch: (report) => progress.epoch(report),
    onDownloadProgress: ({ file, receivedBytes, totalBytes }) => {
      const total = totalBytes === null ? "" : ` of ${(totalBytes / 1e6).toFixed(1)} MB`;
      process.stderr.write(
        `\rDownloading ${file}: ${(receivedBytes / 1e6).toFixed(1)} MB${total}\u001b[K`,
      );
    },
  });

  if (options.saveModel !== undefined) {
    await mkdir(options.saveModel, { recursive: true });
    for (const [name, bytes] of Object.entries(result.model))
      await writeFile(join(options.saveModel, name), bytes);
  }
  process.stdout.write(
    `Test accuracy: ${(result.testAccuracy * 100).toFixed(2)}% (loss ${result.testLoss.toFixed(4)}, ${result.misclassified.length} misclassified) on the ${result.backend.name} backend in ${result.durationSeconds.toFixed(0)}s${result.stoppedEarly ? ", stopped early" : ""}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof InvalidRunConfigError) {
      process.stderr.write(
        `Invalid run configuration, nothing was trained:\n${error.issues.map((issue) => `  ${issue.field}: ${issue.message}`).join("\n")}\n`,
      );
      process.exitCode = 2;
    } else if (
      error instanceof UsageError ||
      (error instanceof TypeError &&
        "code" in error &&
        String(error.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      process.stderr.write(`${error.message}\nRun with --help for the options.\n`);
      process.exitCode = 2;
    } else if (error instanceof DatasetFileError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(
        `Training failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
