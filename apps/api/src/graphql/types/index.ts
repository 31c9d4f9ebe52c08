import "./enums";

export * from "./enums";
export * from "./metric";
export * from "./model";
export * from "./run";
export * from "./scalars";
export * from "./sweep";
export * from "./worker";
