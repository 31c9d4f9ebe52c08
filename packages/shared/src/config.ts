import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { SetupError } from "./errors";
import { LOG_LEVELS } from "./logger";

export const BACKEND_PREFERENCES = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;

const port = z.coerce.number().int().min(1).max(65_535);
// Tokens fixed in a deployment's secrets (docker-compose's .env); the API stores their hashes.
const bootstrapToken = z
  .string()
  .regex(
    /^cnl_[A-Za-z0-9_-]{32,}$/,
    "a token of the form cnl_ followed by 32 or more [A-Za-z0-9_-]",
  );

/**
 * Every environment variable the product reads, with its default. The README's configuration
 * table lists the same variables; keep both in step.
 */
const environmentSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "a URL starting with postgres:// or postgresql://")
    .optional(),
  DATA_DIR: z.string().min(1).default("data"),
  EMBEDDED_PG_PORT: port.default(54329),
  ARTIFACT_DIR: z.string().min(1).optional(),
  API_HOST: z.string().min(1).default("127.0.0.1"),
  API_PORT: port.default(4000),
  API_URL: z.string().url().optional(),
  API_TOKEN: z.string().min(1).optional(),
  WEB_PORT: port.default(3000),
  /** Comma-separated origins whose cookie-authenticated WebSocket upgrades the API accepts. */
  ALLOWED_ORIGINS: z.string().min(1).optional(),
  BOOTSTRAP_EDITOR_TOKEN: bootstrapToken.optional(),
  BOOTSTRAP_WORKER_TOKEN: bootstrapToken.optional(),
  WORKERS: z.coerce.number().int().min(0).max(256).optional(),
  TRAINER_BACKEND: z.enum(BACKEND_PREFERENCES).default("auto"),
  MNIST_DIR: z.string().min(1).optional(),
  FASHION_MNIST_DIR: z.string().min(1).optional(),
  HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3_600).default(60),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
  /** WebSocket URL the dashboard's browser code opens for live updates; derived from API_URL. */
  API_WS_URL: z
    .string()
    .regex(/^wss?:\/\//, "a URL starting with ws:// or wss://")
    .optional(),
});

const SECRET_VARIABLE = /TOKEN|DATABASE_URL/;

export type Environment = z.infer<typeof environmentSchema>;

export interface Config extends Environment {
  dataDir: string;
  artifactDir: string;
  postgresDir: string;
  apiUrl: string;
  allowedOrigins: string[];
  workers: number;
}

function describeAllowed(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_value":
      return `one of ${issue.values.join(", ")}`;
    case "invalid_type":
      return issue.expected === "number" ? "a number" : `a ${issue.expected}`;
    case "too_small":
      return `a number >= ${issue.minimum}`;
    case "too_big":
      return `a number <= ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/**
 * Reads and checks the environment once at start. An invalid value stops the start with a
 * message that names the variable, the value and what is allowed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      // Secrets stay out of the message, which may end up in logs.
      const shown = SECRET_VARIABLE.test(name) ? "(value hidden)" : JSON.stringify(env[name]);
      return `${name}=${shown} is invalid: expected ${describeAllowed(issue)}`;
    });
    throw new SetupError(
      `Invalid configuration:\n  ${lines.join("\n  ")}`,
      "Correct or unset the variables above (the README lists every variable with its default).",
    );
  }

  const environment = parsed.data;
  const dataDir = path.resolve(cwd, environment.DATA_DIR);
  return {
    ...environment,
    dataDir,
    postgresDir: path.join(dataDir, "postgres"),
    artifactDir: path.resolve(cwd, environment.ARTIFACT_DIR ?? path.join(dataDir, "artifacts")),
    apiUrl: environment.API_URL ?? `http://${environment.API_HOST}:${environment.API_PORT}/graphql`,
    allowedOrigins: environment.ALLOWED_ORIGINS
      ? environment.ALLOWED_ORIGINS.split(",")
          .map((origin) => origin.trim())
          .filter(Boolean)
      : [`http://localhost:${environment.WEB_PORT}`, `http://127.0.0.1:${environment.WEB_PORT}`],
    workers: environment.WORKERS ?? os.availableParallelism(),
  };
}
