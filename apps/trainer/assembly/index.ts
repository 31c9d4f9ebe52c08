// Entry point of the SIMD kernel module: every export here becomes a wasm export.
export { adamUpdate } from "./adam";
export {
  batchNormForward,
  batchNormGrad,
  columnSums,
  SCRATCH_BYTES_PER_CHANNEL,
} from "./batch-norm";
export { convOneChannel } from "./conv-one-channel";
export { filterGradOneChannel3 } from "./filter-grad";
export { matMul } from "./mat-mul";
export { maxPoolGrad2x2 } from "./max-pool-grad";
export { reluGrad } from "./relu-grad";
export { stackPlanes } from "./stack-planes";
export { transpose2d } from "./transpose";
export {
  WINOGRAD_SCRATCH_BYTES,
  winogradFilter,
  winogradInput,
  winogradOutput,
  winogradProducts,
} from "./winograd";
export { winogradFilterGrad, winogradGradientTiles, winogradWeightProducts } from "./winograd-grad";
