export type { ModelConfig } from "./models";
export { buildModel, describeArchitecture, IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES } from "./models";
