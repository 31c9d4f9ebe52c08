import { pino } from "pino";

/** Logger used when a caller passes none; writes to stderr so stdout stays free for results. */
export const trainLogger = pino(
  { name: "trainer", level: process.env.LOG_LEVEL ?? "info" },
  pino.destination(2),
).child({ scope: "train" });
