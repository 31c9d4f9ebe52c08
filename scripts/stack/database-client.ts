import { fork } from "node:child_process";
import path from "node:path";
import { SetupError } from "@convnet/shared";
import type { DatabaseMessage } from "./database-process";

const ENTRY = path.resolve(import.meta.dirname, "database-process.ts");

export interface StackDatabase {
  url: string;
  embedded: boolean;
  stop: () => Promise<void>;
}

/** Starts database-process.ts in its own process group and returns once the database is ready. */
export async function startStackDatabase(): Promise<StackDatabase> {
  const child = fork(ENTRY, [], {
    execArgv: ["--import", "tsx"],
    detached: true,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const ready = await new Promise<Extract<DatabaseMessage, { type: "ready" }>>(
    (resolve, reject) => {
      child.once("message", (message: DatabaseMessage) => {
        if (message.type === "ready") resolve(message);
        else reject(new SetupError(message.message, message.fix ?? "Read the message above."));
      });
      child.once("exit", (code) =>
        reject(new Error(`The database process exited with code ${code} before it was ready.`)),
      );
    },
  );

  return {
    url: ready.url,
    embedded: ready.embedded,
    stop: async () => {
      if (child.exitCode === null && child.connected) child.send("stop");
      await exited;
    },
  };
}
