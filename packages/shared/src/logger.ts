import { pino } from "pino";

export type Logger = pino.Logger;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let root: Logger | undefined;

function rootLogger(): Logger {
  if (root) return root;
  const level = (process.env.LOG_LEVEL ?? "info") as LogLevel;
  const format = process.env.LOG_FORMAT;
  const pretty = format === "pretty" || (format !== "json" && process.stdout.isTTY);
  root = pino({
    level: LOG_LEVELS.includes(level) ? level : "info",
    ...(pretty
      ? {
          transport: {
            target: "pino-pretty",
            options: { colorize: true, ignore: "pid,hostname", translateTime: "HH:MM:ss" },
          },
        }
      : {}),
  });
  return root;
}

/** Returns a logger whose lines carry `component` plus any ids the caller binds (run, worker). */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}
