import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { SetupError } from "../errors";
import { isProcessAlive } from "../process";

/** The embedded database folder belongs to another live process (usually a running `npm start`). */
export class DatabaseInUseError extends SetupError {
  constructor(
    dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `The embedded database in ${dataDir} is already in use by process ${ownerPid}.`,
      `Stop that process (kill ${ownerPid}), or set DATA_DIR to another folder to run a second copy.`,
    );
  }
}

/**
 * Marks one process as the owner of an embedded database folder, so that a second start on the
 * same folder stops with a message instead of fighting over the server. A lock whose owner died
 * (kill -9) is taken over.
 */
export async function acquireOwnerLock(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, "postgres.owner.pid");

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }

    const owner = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner !== process.pid && isProcessAlive(owner)) {
      throw new DatabaseInUseError(dataDir, owner);
    }
    await rm(lockPath, { force: true });
  }
  throw new SetupError(
    `Could not take the lock ${lockPath}.`,
    "Another start is racing for the same DATA_DIR; start one at a time.",
  );
}
