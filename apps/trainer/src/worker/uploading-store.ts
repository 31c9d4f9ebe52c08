import type { Checkpoint, CheckpointStore } from "../checkpoint";

/**
 * Keeps each checkpoint in a local store first (a resume on this machine never waits on the
 * network) and then hands it to `upload`, which queues it for the API without blocking training.
 */
export class UploadingCheckpointStore implements CheckpointStore {
  constructor(
    private readonly local: CheckpointStore,
    private readonly upload: (checkpoint: Checkpoint) => void,
  ) {}

  async save(checkpoint: Checkpoint): Promise<void> {
    await this.local.save(checkpoint);
    this.upload(checkpoint);
  }

  latest(): Promise<Checkpoint | null> {
    return this.local.latest();
  }
}
