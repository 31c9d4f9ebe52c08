import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Phase } from "@convnet/shared";
import type { Checkpoint, CheckpointStore } from "./types";

const FOLDER_PATTERN = /^step-(\d{6})-(train|finetune)-epoch-(\d{6})$/;

/**
 * Keeps checkpoints as folders named step-000003-train-epoch-000003 under one directory. Each is
 * written into a temporary folder that is renamed into place, so `latest()` never sees a partial
 * checkpoint after a crash. Only the newest `keep` checkpoints are kept.
 */
export class DirectoryCheckpointStore implements CheckpointStore {
  constructor(
    readonly dir: string,
    readonly keep = 3,
  ) {
    if (!Number.isInteger(keep) || keep < 1) {
      throw new Error(
        `DirectoryCheckpointStore keep=${keep} is invalid; keep at least 1 checkpoint.`,
      );
    }
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = folderName(checkpoint);
    const temporary = join(this.dir, `.tmp-${name}-${process.pid}-${Date.now()}`);
    await mkdir(temporary);
    for (const [file, bytes] of Object.entries(checkpoint.files)) {
      await writeFile(join(temporary, file), bytes);
    }

    // A checkpoint with the same step can exist after a resume repeated an epoch.
    const target = join(this.dir, name);
    await rm(target, { recursive: true, force: true });
    await rename(temporary, target);
    await this.prune();
  }

  async latest(): Promise<Checkpoint | null> {
    const folders = await this.list();
    const newest = folders.at(-1);
    if (newest === undefined) return null;

    const path = join(this.dir, newest.name);
    const files: Record<string, Uint8Array> = {};
    for (const file of await readdir(path)) {
      files[file] = new Uint8Array(await readFile(join(path, file)));
    }
    return { phase: newest.phase, epoch: newest.epoch, step: newest.step, files };
  }

  /** Checkpoint folders, oldest first. */
  private async list(): Promise<{ name: string; phase: Phase; epoch: number; step: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const folders = [];
    for (const name of names) {
      const match = FOLDER_PATTERN.exec(name);
      if (match === null) continue;
      folders.push({
        name,
        step: Number(match[1]),
        phase: match[2] as Phase,
        epoch: Number(match[3]),
      });
    }
    return folders.sort((a, b) => a.step - b.step);
  }

  private async prune(): Promise<void> {
    const folders = await this.list();
    for (const folder of folders.slice(0, Math.max(0, folders.length - this.keep))) {
      await rm(join(this.dir, folder.name), { recursive: true, force: true });
    }
  }
}

function folderName(checkpoint: Checkpoint): string {
  const pad = (value: number) => String(value).padStart(6, "0");
  return `step-${pad(checkpoint.step)}-${checkpoint.phase}-epoch-${pad(checkpoint.epoch)}`;
}
