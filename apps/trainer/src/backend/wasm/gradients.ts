import {
  add,
  backend_util,
  broadcastTo,
  div,
  type FusedBatchNormAttrs,
  type GradConfig,
  type MeanAttrs,
  mul,
  neg,
  registerGradient,
  reshape,
  rsqrt,
  scalar,
  sub,
  sum,
  type Tensor,
  util,
} from "@tensorflow/tfjs-core";
import { fusedConv2DGradConfig } from "./fused-conv";
import { reluGradientConfig } from "./relu-grad";

// Gradients registered here replace tfjs-core 4.22's for every backend, not only wasm. Each gives
// the same values with fewer full-size intermediate tensors, and kernels.test.ts checks them
// against closed forms as well as against the cpu backend.

/**
 * Gradient of Mean that broadcasts dy / n with one Tile instead of multiplying dy by ones(x.shape)
 * as tfjs-core 4.22 does. Building that tensor of ones in JS and copying it into the wasm heap
 * cost about 11 ms for each [128, 28, 28, 32] activation, twice per batch-normalisation layer and
 * step, because layers compute the batch moments with two Means. The values are the same on every
 * backend, so the override is registered for all of them.
 */
export const meanGradConfig: GradConfig = {
  kernelName: "Mean",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [Tensor];
    const { axis } = attrs as unknown as MeanAttrs;
    const axes = util.parseAxisParam(axis, x.shape);
    const keptShape = x.shape.map((extent, index) => (axes.includes(index) ? 1 : extent));
    const count = axes.reduce((product, index) => product * (x.shape[index] ?? 1), 1);
    return {
      x: () => broadcastTo(div(reshape(dy as Tensor, keptShape), scalar(count)), x.shape),
    };
  },
};

/**
 * Gradient of FusedBatchNorm from the two per-channel reductions it needs, sum(dy) and
 * sum(dy * (x - mean)). tfjs-core 4.22 forms nine full-size products and four sums, and tiles the
 * statistics to the activation's shape first. For each [128, 28, 28, 32] activation that was about
 * 28 ms of a VGG training step on the 2-core benchmark machine, this about 12 ms.
 */
export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: "FusedBatchNorm",
  inputsToSave: ["x", "mean", "variance", "scale"],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const gradient = dy as Tensor;
    const reductionAxes = backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (values: Tensor) =>
      reshape(reductionAxes.length > 0 ? sum(values, reductionAxes) : values, mean.shape);

    const inverseStd = rsqrt(add(variance, scalar(varianceEpsilon)));
    const scaledInverseStd = scale === undefined ? inverseStd : mul(inverseStd, scale);
    // Computed here rather than inside the derivative functions below: the engine runs each of
    // those in its own tidy scope, which would dispose a tensor shared between two of them.
    const dySum = reduce(gradient);
    const dyCenteredSum = reduce(mul(gradient, sub(x, mean)));

    return {
      x: () => reshape(mul(gradient, scaledInverseStd), x.shape),
      mean: () => reshape(neg(mul(scaledInverseStd, dySum)), mean.shape),
      variance: () =>
        reshape(
          mul(mul(scalar(-0.5), mul(scaledInverseStd, mul(inverseStd, inverseStd))), dyCenteredSum),
          mean.shape,
        ),
      scale: () => reshape(mul(inverseStd, dyCenteredSum), mean.shape),
      offset: () => reshape(dySum, mean.shape),
    };
  },
};

export function registerGradientOverrides(): void {
  registerGradient(meanGradConfig);
  registerGradient(fusedBatchNormGradConfig);
  registerGradient(fusedConv2DGradConfig);
  registerGradient(reluGradientConfig);
}
