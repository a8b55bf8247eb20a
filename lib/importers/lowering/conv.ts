/**
 * One convolution lowering for every channels-first library (ONNX/PyTorch,
 * Caffe, Lasagne): a convolution as the source states it — kernel
 * `[out, in / groups, ...k]`, strides, dilations, groups, explicit zero pads
 * per spatial dim — becomes the TF.js layers that compute it exactly, in the
 * source's NCHW (NCW) layout:
 *
 * - `groups = 1`: one `Conv2D` (`Conv1D`);
 * - `groups = in channels` (depthwise, any multiplier), 2-D: one
 *   `DepthwiseConv2D`;
 * - any other group count: one `Conv2D`/`Conv1D` whose kernel is
 *   block-diagonal (zero across groups) — the same connectivity as the
 *   grouped convolution, so one spiking layer too;
 * - dilation: TF.js's `dilationRate` where it computes it (Conv with stride 1),
 *   otherwise the kernel spread out with zeros (exact);
 * - padding: `valid`, TF.js `same` where its placement equals the pads, else
 *   a `ZeroPadding2D` in front (1-D convolutions: `valid`/`same` only).
 *
 * {@linkcode planConv} decides (and refuses what cannot be expressed, through
 * the caller's `refuse`), {@linkcode applyConv} builds the layers,
 * {@linkcode convWeights} converts the source's kernel and bias to the
 * planned layer's weights.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { float32Array, type Float32NDArray } from "../../io/ndarray.ts";
import { convKernelToTf, depthwiseKernelToTf, flipKernelOIHW } from "../../io/layout.ts";

/** A convolution in the source's channels-first terms. */
export interface ConvSpec {
  /** Input channels. */
  inChannels: number;
  /** Output channels (filters). */
  outChannels: number;
  /** Kernel size per spatial dim (1 or 2 dims). */
  kernel: readonly number[];
  /** Strides per spatial dim. */
  strides: readonly number[];
  /** Dilations per spatial dim. */
  dilations: readonly number[];
  /** Group count (1: ordinary convolution). */
  groups: number;
  /** Zero padding per spatial dim, `[before, after]`. */
  pads: readonly (readonly [number, number])[];
  /** Spatial size of the input (`null`: unknown, then only `valid`/explicit pads are planned). */
  inputSize: readonly (number | null)[];
}

/** How a convolution is built in TF.js. */
export interface ConvPlan {
  /** The convolution as the source states it. */
  spec: ConvSpec;
  /** The TF.js layer class. */
  layerType: "Conv1D" | "Conv2D" | "DepthwiseConv2D";
  /** Kernel size of the TF.js layer (larger than the source's when dilation is spread into it). */
  kernel: number[];
  /** `dilationRate` of the TF.js layer. */
  dilationRate: number[];
  /** Whether the dilation is spread into the kernel with zeros. */
  spread: boolean;
  /** Padding mode of the TF.js layer. */
  padding: "valid" | "same";
  /** Zero padding applied by a `ZeroPadding2D` in front (`undefined`: none). */
  zeroPad?: [number, number][];
}

/** Effective extent of a dilated kernel tap range. */
function extent(k: number, d: number): number {
  return (k - 1) * d + 1;
}

/** TF.js `same` padding `[before, after]` of one dim of size `n`, or undefined when `n` is unknown. */
export function samePadding(n: number | null, k: number, s: number, d = 1): [number, number] | undefined {
  if (n === null) return undefined;
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + extent(k, d) - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Plan the TF.js layers of a convolution. `refuse(reason)` is called (and
 * must throw) for what has no exact TF.js form: group counts that do not
 * divide the channels, explicit pads of 1-D convolutions that are not
 * `same`.
 */
export function planConv(spec: ConvSpec, refuse: (reason: string) => never): ConvPlan {
  const { inChannels: inC, outChannels: outC, groups } = spec;
  const nsp = spec.kernel.length;
  if (nsp !== 1 && nsp !== 2) refuse(`a ${nsp}-D convolution; expected 1-D or 2-D`);
  if (!(groups >= 1) || inC % groups !== 0 || outC % groups !== 0) {
    refuse(
      `group ${groups} with ${inC} input and ${outC} output channels; ` +
        `the group count must divide both channel counts`,
    );
  }
  const depthwise = nsp === 2 && groups > 1 && groups === inC;
  const dilated = spec.dilations.some((d) => d !== 1);
  const strided = spec.strides.some((s) => s !== 1);
  // TF.js dilates Conv layers with stride 1 only, and DepthwiseConv2D not at all: spread the kernel instead.
  const spread = dilated && (depthwise || strided);
  const kernel = spec.kernel.map((k, i) => (spread ? extent(k, spec.dilations[i]) : k));
  const dilationRate = spec.kernel.map((_, i) => (spread ? 1 : spec.dilations[i]));
  const same = spec.inputSize.map((n, i) =>
    samePadding(n, spec.kernel[i], spec.strides[i], spec.dilations[i])
  );
  const pads = spec.pads.map(([a, b]) => [a, b] as [number, number]);
  let padding: "valid" | "same" = "valid";
  let zeroPad: [number, number][] | undefined;
  if (pads.some(([a, b]) => a !== 0 || b !== 0)) {
    const isSame = pads.every(([a, b], i) => same[i] !== undefined && same[i]![0] === a && same[i]![1] === b);
    if (isSame) padding = "same";
    else if (nsp === 2) zeroPad = pads;
    else refuse(`1-D convolution pads [${pads.flat()}] that are neither zero nor TF.js 'same'`);
  }
  return {
    spec,
    layerType: depthwise ? "DepthwiseConv2D" : nsp === 2 ? "Conv2D" : "Conv1D",
    kernel,
    dilationRate,
    spread,
    padding,
    zeroPad,
  };
}

/** An activation identifier of TF.js layers. */
type Activation = NonNullable<Parameters<typeof tf.layers.conv2d>[0]["activation"]>;

/** Options of {@linkcode applyConv}. */
export interface ConvLayerOptions {
  /** Name of the convolution layer. */
  name: string;
  /** Name of the `ZeroPadding2D` layer, when the plan has one. */
  padName: () => string;
  /** Whether the layer has a bias (default true). */
  useBias?: boolean;
  /** Activation of the layer (default linear). */
  activation?: string;
  /** Initialise weights with zeros (default true: the source's weights are set afterwards). */
  zeroInit?: boolean;
}

/** Build the planned layers on `input` (NCHW/NCW); returns the output and the layer that takes the weights. */
export function applyConv(
  plan: ConvPlan,
  input: tf.SymbolicTensor,
  options: ConvLayerOptions,
): { output: tf.SymbolicTensor; layer: tf.layers.Layer } {
  let x = input;
  if (plan.zeroPad) {
    x = tf.layers.zeroPadding2d({
      padding: [plan.zeroPad[0], plan.zeroPad[1]],
      dataFormat: "channelsFirst",
      name: options.padName(),
    }).apply(x) as tf.SymbolicTensor;
  }
  const zeros = options.zeroInit ?? true;
  const kernelInit = zeros ? { kernelInitializer: "zeros", biasInitializer: "zeros" } as const : {};
  const common = {
    strides: [...plan.spec.strides],
    padding: plan.padding,
    dataFormat: "channelsFirst" as const,
    useBias: options.useBias ?? true,
    activation: (options.activation ?? "linear") as Activation,
    name: options.name,
  };
  const { spec } = plan;
  let layer: tf.layers.Layer;
  if (plan.layerType === "DepthwiseConv2D") {
    layer = tf.layers.depthwiseConv2d({
      ...common,
      kernelSize: plan.kernel as [number, number],
      depthMultiplier: spec.outChannels / spec.inChannels,
      ...(zeros ? { depthwiseInitializer: "zeros", biasInitializer: "zeros" } as const : {}),
    });
  } else if (plan.layerType === "Conv2D") {
    layer = tf.layers.conv2d({
      ...common,
      filters: spec.outChannels,
      kernelSize: plan.kernel,
      dilationRate: plan.dilationRate as [number, number],
      ...kernelInit,
    });
  } else {
    // TF.js computes channelsFirst Conv1D as NWC: applyTfjsFixes corrects it once the model is built.
    layer = tf.layers.conv1d({
      ...common,
      strides: spec.strides[0],
      filters: spec.outChannels,
      kernelSize: plan.kernel[0],
      dilationRate: plan.dilationRate[0],
      ...kernelInit,
    });
  }
  return { output: layer.apply(x) as tf.SymbolicTensor, layer };
}

/**
 * A grouped kernel `[out, in / groups, ...k]` as a full `[out, in, ...k]`
 * kernel, zero across groups (`ksize` = product of the kernel dims).
 */
export function blockDiagonalKernel(
  w: Float32Array,
  out: number,
  inC: number,
  groups: number,
  ksize: number,
): Float32Array {
  if (groups === 1) return w;
  const inPer = inC / groups;
  const outPer = out / groups;
  const full = new Float32Array(out * inC * ksize);
  for (let o = 0; o < out; o++) {
    const g = Math.floor(o / outPer);
    for (let i = 0; i < inPer; i++) {
      full.set(
        w.subarray((o * inPer + i) * ksize, (o * inPer + i + 1) * ksize),
        (o * inC + g * inPer + i) * ksize,
      );
    }
  }
  return full;
}

/** An `[a, b, ...k]` kernel (1 or 2 spatial dims) with `dilation - 1` zeros between taps. */
export function dilateKernel(
  w: Float32Array,
  shape: readonly number[],
  dilations: readonly number[],
): Float32Array {
  if (dilations.every((d) => d === 1)) return w;
  const [o, i, kh, kw = 1] = shape;
  const [dh, dw = 1] = dilations;
  const eh = extent(kh, dh);
  const ew = extent(kw, dw);
  const out = new Float32Array(o * i * eh * ew);
  for (let a = 0; a < o * i; a++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) out[a * eh * ew + y * dh * ew + x * dw] = w[a * kh * kw + y * kw + x];
    }
  }
  return out;
}

/**
 * The weights of the planned layer from the source's kernel
 * `[out, in / groups, ...k]` (C order) and bias (omitted: no bias weight),
 * kernels spatially flipped first when `flip` (sources that convolve).
 */
export function convWeights(
  plan: ConvPlan,
  kernel: Float32Array,
  bias?: Float32Array,
  flip = false,
): Float32NDArray[] {
  const { spec } = plan;
  const inPer = spec.inChannels / spec.groups;
  const srcShape = [spec.outChannels, inPer, ...spec.kernel];
  let w = flip ? flipKernelOIHW(kernel, srcShape) : kernel;
  if (plan.spread) w = dilateKernel(w, srcShape, spec.dilations);
  const shape = [spec.outChannels, inPer, ...plan.kernel];
  let tfKernel: Float32NDArray;
  if (plan.layerType === "DepthwiseConv2D") {
    tfKernel = depthwiseKernelToTf(w, shape, spec.inChannels);
  } else {
    const ksize = plan.kernel.reduce((a, b) => a * b, 1);
    const full = blockDiagonalKernel(w, spec.outChannels, spec.inChannels, spec.groups, ksize);
    tfKernel = convKernelToTf(full, [spec.outChannels, spec.inChannels, ...plan.kernel]);
  }
  return bias ? [tfKernel, float32Array(bias, [bias.length])] : [tfKernel];
}
