export { DirectoryCheckpointStore } from "./directory-store";
export { filesLoadHandler, MODEL_JSON, saveModelToFiles, WEIGHTS_BIN } from "./model-files";
export type { TrainerState } from "./state";
export type { Checkpoint, CheckpointStore } from "./types";
