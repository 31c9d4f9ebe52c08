export type { DownloadProgress } from "./download";
export { DatasetFileError, parseIdx } from "./idx";
export type { LabeledImages, LoadMnistOptions, MnistData } from "./load";
export { loadMnist, PIXELS_PER_IMAGE } from "./load";
export { DATASET_SOURCES } from "./sources";
export { sliceImages, splitValidation } from "./split";
