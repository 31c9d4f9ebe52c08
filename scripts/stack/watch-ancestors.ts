import { readFileSync } from "node:fs";
import { isProcessAlive } from "@convnet/shared";

function parentOf(pid: number): number | undefined {
  try {
    // The command name (field 2) may contain spaces, so fields are counted after its closing ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number.parseInt(fields[1] ?? "", 10);
  } catch {
    return undefined;
  }
}

/**
 * Calls `onGone` when the parent or grandparent of this process exits. `npm start` runs this
 * process under `sh -c`, and sh outlives a SIGKILLed npm, so only the grandparent's death shows
 * that the start command is gone. Without /proc (not Linux) only the parent is watched.
 */
export function watchAncestors(onGone: () => void): void {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const watched = [parent, grandparent].filter(
    (pid): pid is number => pid !== undefined && pid > 1,
  );

  setInterval(() => {
    if (process.ppid !== parent || watched.some((pid) => !isProcessAlive(pid))) onGone();
  }, 1_000).unref();
}
