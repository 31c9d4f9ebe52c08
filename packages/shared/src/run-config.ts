import { z } from "zod";

/** Upper bound on epochs per phase: past it a typo (1000 for 10) would hold a trainer for days. */
export const MAX_EPOCHS = 200;
export const MAX_BATCH_SIZE = 4096;
export const MAX_FROZEN_LAYERS = 1000;

export const ARCHITECTURES = ["seed-cnn", "vgg-bn", "resnet-small"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const DATASETS = ["mnist", "fashion-mnist"] as const;
export type Dataset = (typeof DATASETS)[number];

export const OPTIMIZERS = ["adam", "sgd", "rmsprop"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const PHASES = ["train", "finetune"] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Everything a trainer needs to reproduce one run. The schema is flat on purpose: each field is
 * also a hyperparameter name that a sweep can search over and the dashboard can show as a column.
 */
export const runConfigSchema = z
  .object({
    architecture: z.enum(ARCHITECTURES),
    dataset: z.enum(DATASETS),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    trainLimit: z.number().int().min(100).max(60_000).optional(),
    testLimit: z.number().int().min(10).max(10_000).optional(),
    validationSplit: z.number().min(0).max(0.5),
    batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE),
    optimizer: z.enum(OPTIMIZERS),
    learningRate: z.number().gt(0).max(10),
    epochs: z.number().int().min(1).max(MAX_EPOCHS),
    finetuneEpochs: z.number().int().min(0).max(MAX_EPOCHS),
    finetuneLearningRate: z.number().gt(0).max(10),
    /**
     * Optimizer of the 'finetune' phase. Unset or equal to `optimizer`, fine-tuning continues the
     * training phase's optimizer state, as Keras does when fit is called again; else it starts fresh.
     */
    finetuneOptimizer: z.enum(OPTIMIZERS).optional(),
    rotation: z.number().min(0).max(180),
    widthShift: z.number().min(0).max(1),
    heightShift: z.number().min(0).max(1),
    zoom: z.number().min(0).max(1),
    dropout: z.number().min(0).max(0.9),
    earlyStoppingPatience: z.number().int().min(0).max(MAX_EPOCHS),
    /**
     * Saved model whose weights start the run, matched to the architecture's layers by name: a
     * folder with model.json for the CLI, or "run:<id>" or "model:<name>[@<alias or version>]"
     * for a worker of the API.
     */
    baseModel: z.string().min(1).max(1000).optional(),
    /** Leading layers that keep the base model's weights for the whole run. */
    freezeLayers: z.number().int().min(0).max(MAX_FROZEN_LAYERS).optional(),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema>;

/** The Keras tutorial this product grew from: 10 epochs, then 10 of augmented fine-tuning. */
export const SEED_RECIPE: RunConfig = {
  architecture: "seed-cnn",
  dataset: "mnist",
  seed: 42,
  validationSplit: 0.1,
  batchSize: 128,
  optimizer: "adam",
  learningRate: 1e-3,
  epochs: 10,
  finetuneEpochs: 10,
  finetuneLearningRate: 1e-3,
  rotation: 10,
  widthShift: 0.1,
  heightShift: 0.1,
  zoom: 0,
  dropout: 0,
  earlyStoppingPatience: 0,
};

export const PRESETS: Record<string, RunConfig> = {
  "seed-recipe": SEED_RECIPE,
  quick: {
    ...SEED_RECIPE,
    trainLimit: 5_000,
    testLimit: 1_000,
    epochs: 2,
    finetuneEpochs: 1,
  },
  // 8 + 6 epochs reached 99.67% test accuracy on MNIST in about 75 minutes on a 2-core CPU
  // (docs/benchmarks.md), where 15 + 15 would have taken about 2.6 hours.
  "deep-augmented": {
    ...SEED_RECIPE,
    architecture: "vgg-bn",
    dropout: 0.25,
    epochs: 8,
    finetuneEpochs: 6,
    finetuneLearningRate: 3e-4,
    zoom: 0.1,
  },
};

export type ConfigIssue = { field: string; message: string };

/** Lists every invalid field with its allowed range, so a caller can report them all at once. */
export function validateRunConfig(
  input: unknown,
): { ok: true; config: RunConfig } | { ok: false; issues: ConfigIssue[] } {
  const parsed = runConfigSchema.safeParse(input);
  if (parsed.success) {
    const config = parsed.data;
    if ((config.freezeLayers ?? 0) > 0 && config.baseModel === undefined) {
      return {
        ok: false,
        issues: [
          {
            field: "freezeLayers",
            message: `freezeLayers ${config.freezeLayers} needs a baseModel to take the frozen weights from; set baseModel or use 0`,
          },
        ],
      };
    }
    return { ok: true, config };
  }
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      field:
        issue.path.join(".") ||
        (issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "(root)"),
      message: issue.message,
    })),
  };
}
