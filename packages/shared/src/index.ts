export * from "./base-model-reference";
export * from "./config";
export * from "./errors";
export * from "./logger";
export * from "./ports";
export * from "./process";
export * from "./random";
export * from "./run-config";
