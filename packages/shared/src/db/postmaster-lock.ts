import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../logger";
import { isProcessAlive, waitForExit } from "../process";

/**
 * Clears a `postmaster.pid` left behind when the process that owned the embedded database was
 * killed. Called only after the data folder's owner lock was taken, so a live postgres found
 * here is an orphan of a killed start, never a server in use. It gets a fast
 * shutdown (SIGINT) so that its data is flushed before the new server starts.
 */
export async function clearStalePostmasterLock(pgDir: string, log: Logger): Promise<void> {
  const lockPath = path.join(pgDir, "postmaster.pid");
  const content = await readFile(lockPath, "utf8").catch(() => undefined);
  if (content === undefined) return;

  const pid = Number.parseInt(content.split("\n")[0] ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) {
    log.warn({ lockPath }, "Removing stale PostgreSQL lock left by a stopped server");
    await rm(lockPath, { force: true });
    return;
  }

  const commandLine = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (!commandLine.includes("postgres")) {
    log.warn(
      { lockPath, pid },
      "Removing PostgreSQL lock whose process id now belongs to another program",
    );
    await rm(lockPath, { force: true });
    return;
  }

  log.warn({ orphanPid: pid }, "Stopping a PostgreSQL server left running by a killed start");
  process.kill(pid, "SIGINT");
  if (!(await waitForExit(pid, 20_000))) {
    process.kill(pid, "SIGQUIT");
    await waitForExit(pid, 5_000);
  }
  await rm(lockPath, { force: true });
}
