import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { db } from "@convnet/shared/prisma";
import { resolveArtifactPath } from "../artifacts/names";
import type { PostgresPubSub } from "../pubsub";

type Trainer = typeof import("@convnet/trainer");
type LayersModel = Awaited<ReturnType<Trainer["loadModelFromFiles"]>>;

/** Loaded models kept per process; an alias seldom points at more than a couple of versions. */
const MAX_CACHED_MODELS = 4;

/**
 * Loads each model version's files once and keeps the model in memory, keyed by version id.
 * The alias is looked up on every request, so a move is seen at once; when any process moves an
 * alias, every process drops the versions that alias no longer uses.
 */
export class ModelCache {
  private readonly models = new Map<string, Promise<LayersModel>>();
  private trainer: Promise<Trainer> | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly artifactDir: string,
    private readonly log: Logger,
    pubsub: PostgresPubSub,
  ) {
    this.unsubscribe = pubsub.on("MODEL_ALIAS_MOVED", (event) => {
      for (const versionId of [...this.models.keys()]) {
        if (versionId !== event.versionId) this.evict(versionId);
      }
    });
  }

  /** tfjs loads only on the first prediction, so an API that never predicts never pays for it. */
  private loadTrainer(): Promise<Trainer> {
    this.trainer ??= (async () => {
      const trainer = await import("@convnet/trainer");
      const backend = await trainer.selectBackend(undefined, { logger: this.log });
      this.log.info({ backend: backend.name }, "Inference backend ready");
      return trainer;
    })();
    return this.trainer;
  }

  async predict(version: db.ModelVersion, pixels: Float32Array): Promise<number[]> {
    const trainer = await this.loadTrainer();
    const model = await this.load(version, trainer);
    return trainer.predictDigit(model, pixels);
  }

  close(): void {
    this.unsubscribe();
    for (const versionId of [...this.models.keys()]) this.evict(versionId);
  }

  private load(version: db.ModelVersion, trainer: Trainer): Promise<LayersModel> {
    const cached = this.models.get(version.id);
    if (cached) {
      // Refresh the entry's place so the least recently used version goes first.
      this.models.delete(version.id);
      this.models.set(version.id, cached);
      return cached;
    }

    const loading = this.readFiles(version).then((files) => trainer.loadModelFromFiles(files));
    loading.catch(() => this.models.delete(version.id));
    this.models.set(version.id, loading);
    while (this.models.size > MAX_CACHED_MODELS) {
      const oldest = this.models.keys().next().value;
      if (oldest === undefined) break;
      this.evict(oldest);
    }
    this.log.info(
      { modelVersionId: version.id, name: version.name, version: version.version },
      "Loading model version",
    );
    return loading;
  }

  /** model.json plus every "model" artifact beside it, keyed by file name as model.json refers to them. */
  private async readFiles(version: db.ModelVersion): Promise<Record<string, Uint8Array>> {
    const folder = path.posix.dirname(version.artifactPath);
    const artifacts = await this.prisma.artifact.findMany({
      where: { runId: version.runId, kind: "model" },
    });
    const files: Record<string, Uint8Array> = {};
    for (const artifact of artifacts) {
      if (path.posix.dirname(artifact.path) !== folder) continue;
      const file = resolveArtifactPath(this.artifactDir, version.runId, artifact.path);
      files[path.posix.basename(artifact.path)] = new Uint8Array(await readFile(file));
    }
    return files;
  }

  private evict(versionId: string): void {
    const entry = this.models.get(versionId);
    this.models.delete(versionId);
    entry?.then(
      (model) => model.dispose(),
      () => undefined,
    );
  }
}
