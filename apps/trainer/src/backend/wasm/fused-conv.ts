import {
  backend_util,
  cast,
  type DataId,
  type FusedConv2DAttrs,
  type GradConfig,
  getKernel,
  type KernelConfig,
  mul,
  type NamedAttrMap,
  type NamedTensorMap,
  registerKernel,
  reshape,
  step,
  sum,
  type Tensor,
  type Tensor4D,
  engine as tfEngine,
  unregisterKernel,
} from "@tensorflow/tfjs-core";

// NOTE: this gradient relies on how tfjs-core 4.22.0, which apps/trainer/package.json pins
// exactly, records fused conv2d on the tape; recheck it before changing that version.

/**
 * tfjs-core records `fused.conv2d` on the gradient tape through `customGrad`, as a node named after
 * the op's scope with inputs "0" (x), "1" (filter) and "2" (bias), saved tensors [filter, x, y,
 * bias] and no attributes. Its gradient function computes the input and filter gradients eagerly,
 * so a network's first layer computed an input gradient that nothing reads: about 13 ms of a VGG
 * training step on the 2-core benchmark machine. A gradient registered under the scope's name
 * replaces that function, and returns each gradient lazily, so the tape skips the unused one.
 */
const FUSED_CONV2D_SCOPE = "fusedConv2d__op";

/** Attributes of each FusedConv2D output, by data id, since the tape node keeps none. */
const fusedConvAttrs = new WeakMap<DataId, FusedConv2DAttrs>();

/**
 * Wraps the FusedConv2D kernel of each named backend so that it records its attributes for the
 * gradient below. Call it once: each call adds another wrapper.
 */
export function recordFusedConv2DAttrs(backendNames: readonly string[]): void {
  for (const backendName of backendNames) {
    const config = getKernel("FusedConv2D", backendName);
    if (!config) continue;
    const inner = config.kernelFunc;
    const wrapped: KernelConfig = {
      ...config,
      kernelFunc: (args) => {
        const output = inner(args);
        const first = Array.isArray(output) ? output[0] : output;
        if (first) fusedConvAttrs.set(first.dataId, args.attrs as unknown as FusedConv2DAttrs);
        return output;
      },
    };
    unregisterKernel("FusedConv2D", backendName);
    registerKernel(wrapped);
  }
}

function runKernel(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap): Tensor {
  return tfEngine().runKernel(kernelName, inputs, attrs) as Tensor;
}

export const fusedConv2DGradConfig: GradConfig = {
  kernelName: FUSED_CONV2D_SCOPE,
  gradFunc: (dy, saved) => {
    const [filter, x, y, bias] = saved as [Tensor4D?, Tensor4D?, Tensor4D?, Tensor?];
    const gradient = dy as Tensor;
    if (!filter || !x || !y) {
      // Engine.clone names its tape node after the active scope too, so the saved clones of this
      // op land here; their gradient is the identity, as in tfjs-core.
      return { x: () => cast(gradient, "float32") };
    }
    const attrs = fusedConvAttrs.get(y.dataId);
    if (!attrs) {
      throw new Error(
        `The gradient of fused conv2d found no attributes for its output of shape [${y.shape}] on backend ${tfEngine().backendName}; call registerWasmKernels() before building the model.`,
      );
    }
    const { strides, pad, activation } = attrs;
    if (attrs.dataFormat !== "NHWC") {
      throw new Error(
        `The gradient of fused conv2d supports dataFormat NHWC only, got ${attrs.dataFormat}.`,
      );
    }
    // Same as tfjs-core's getFusedDyActivation, computed once for the derivatives that share it.
    const dy4D = reshape(gradient, y.shape);
    let dyActivation: Tensor;
    if (activation === undefined || activation === "linear") dyActivation = dy4D;
    else if (activation === "relu") dyActivation = mul(dy4D, step(y));
    else throw new Error(`Cannot compute gradient for fused activation ${activation}.`);

    // tfjs-core passes no dimRoundingMode to the backprop ops here, and neither does this.
    const derivatives: Record<string, () => Tensor> = {
      0: () =>
        runKernel("Conv2DBackpropInput", { dy: dyActivation, filter }, {
          strides,
          pad,
          dataFormat: "NHWC",
          inputShape: x.shape,
        } as unknown as NamedAttrMap),
      1: () =>
        runKernel("Conv2DBackpropFilter", { x, dy: dyActivation }, {
          strides,
          pad,
          dataFormat: "NHWC",
          filterShape: filter.shape,
        } as unknown as NamedAttrMap),
    };
    if (bias) {
      derivatives[2] = () => {
        const axes = backend_util.getReductionAxes(bias.shape, dyActivation.shape);
        return reshape(axes.length > 0 ? sum(dyActivation, axes) : dyActivation, bias.shape);
      };
    }
    return derivatives;
  },
};
