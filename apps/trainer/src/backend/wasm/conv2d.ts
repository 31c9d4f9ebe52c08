import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DAttrs,
  type FusedConv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { convOneChannel, convOneChannelApplies } from "./conv-one-channel";
import { runStock, type SpatialPadding } from "./kernel-calls";
import { winogradApplies, winogradConv2d } from "./winograd";

type Shape4D = [number, number, number, number];

function convInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filter.shape as Shape4D,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/**
 * Conv2D: the Winograd convolution or the one-channel SIMD kernel where one applies, else the
 * stock XNNPACK kernel.
 */
export function conv2D({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  const info = convInfo(x, filter, attrs as unknown as Conv2DAttrs);
  if (winogradApplies(wasm, info)) return winogradConv2d(wasm, x, filter, info);
  if (convOneChannelApplies(wasm, info)) return convOneChannel(wasm, x, filter, info);
  return runStock("Conv2D", wasm, inputs, attrs);
}

/** Convolves at stride 1 with explicit padding, as conv2D does. */
export function convolve(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  [top, bottom, left, right]: SpatialPadding,
): TensorInfo {
  const attrs = {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: "NHWC",
  };
  return conv2D({ inputs: { x, filter }, attrs: attrs as unknown as NamedAttrMap, backend });
}

/**
 * FusedConv2D: as conv2D where the epilogue is a per-channel bias and a linear or ReLU activation,
 * else the stock XNNPACK kernel.
 */
export function fusedConv2D({ inputs, attrs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, filter, bias, preluActivationWeights } = inputs as {
    x: TensorInfo;
    filter: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  const fused = attrs as unknown as FusedConv2DAttrs;
  const info = convInfo(x, filter, fused);
  const activation = fused.activation ?? "linear";
  const plainBias =
    !bias || (bias.dtype === "float32" && util.sizeFromShape(bias.shape) === info.outChannels);
  if ((activation === "linear" || activation === "relu") && !preluActivationWeights && plainBias) {
    const epilogue = { bias, relu: activation === "relu" };
    if (winogradApplies(wasm, info)) return winogradConv2d(wasm, x, filter, info, epilogue);
    if (convOneChannelApplies(wasm, info)) return convOneChannel(wasm, x, filter, info, epilogue);
  }
  return runStock("FusedConv2D", wasm, inputs, attrs);
}

export const conv2DConfig: KernelConfig = {
  kernelName: "Conv2D",
  backendName: "wasm",
  kernelFunc: conv2D,
};

export const fusedConv2DConfig: KernelConfig = {
  kernelName: "FusedConv2D",
  backendName: "wasm",
  kernelFunc: fusedConv2D,
};
