/**
 * Fan-in and fan-out: how many synapses reach a neuron of a layer, and
 * leave one. The one place connections are counted: the toolbox's
 * `get_fanin` / `get_fanout` / `get_fanout_array` on a parsed model, and the
 * exact per-neuron counts the simulator uses for the synaptic operations
 * (SOPs) of the SNN and the multiply-accumulates (MACs) of the ANN. Counted
 * on plain arrays (no gradients, so every TF.js backend works), borders and
 * strides included.
 *
 * Which layers hold neurons is `[restrictions] spiking_layers`
 * ({@linkcode SPIKING_LAYER_TYPES} by default); every other layer between
 * two spiking layers is looked through, its output's fan-out mapped back
 * onto its inputs (Concatenate splits, ZeroPadding2D crops, the others keep
 * the size).
 *
 * @module
 */
import type { Layer, tf } from "../../deps.ts";
import type { ToolboxConfig } from "../config/types.ts";
import { UnsupportedLayerError } from "../errors.ts";
import { type Float32NDArray, sizeOf } from "../io/ndarray.ts";
import { pyStr } from "../config/py_repr.ts";
import { pyIterable } from "../config/py_values.ts";
import { isToolboxConfig } from "./options.ts";

/** Layer types that hold integrate-and-fire neurons (the toolbox's default `spiking_layers` the parsed model can hold). */
export const SPIKING_LAYER_TYPES: readonly string[] = [
  "Dense",
  "Conv1D",
  "Conv2D",
  "DepthwiseConv2D",
  "Conv2DTranspose",
  "UpSampling2D",
  "AveragePooling2D",
  "MaxPooling2D",
];

/** Layer types the simulator passes through without neurons. */
export const PASS_THROUGH_LAYER_TYPES: readonly string[] = [
  "Flatten",
  "Reshape",
  "ZeroPadding2D",
  "Concatenate",
  "Dropout",
  "Activation",
];

/** Window geometry along one spatial axis. */
export interface AxisWindow {
  /** Kernel (window) size. */
  k: number;
  /** Stride. */
  s: number;
  /** Dilation (1 for pooling). */
  d: number;
  /** TensorFlow padding mode. */
  padding: "valid" | "same";
}

/** Number of output positions whose window covers each of the `nIn` input positions. */
export function coverCounts(nIn: number, nOut: number, w: AxisWindow): Float64Array {
  const span = (w.k - 1) * w.d + 1;
  const before = w.padding === "same" ? Math.floor(Math.max((nOut - 1) * w.s + span - nIn, 0) / 2) : 0;
  const counts = new Float64Array(nIn);
  for (let o = 0; o < nOut; o++) {
    for (let t = 0; t < w.k; t++) {
      const i = o * w.s - before + t * w.d;
      if (i >= 0 && i < nIn) counts[i]++;
    }
  }
  return counts;
}

/** For a transposed convolution: number of the `nOut` outputs each of the `nIn` inputs reaches. */
export function transposeCounts(nIn: number, nOut: number, w: AxisWindow): Float64Array {
  // The forward convolution maps nOut positions to nIn; its padding decides which outputs are cropped.
  const before = w.padding === "same" ? Math.floor(Math.max((nIn - 1) * w.s + w.k - nOut, 0) / 2) : 0;
  const counts = new Float64Array(nIn);
  for (let i = 0; i < nIn; i++) {
    for (let t = 0; t < w.k; t++) {
      const o = i * w.s - before + t;
      if (o >= 0 && o < nOut) counts[i]++;
    }
  }
  return counts;
}

/** Fan-out array of a `[...spatial, channels]` input from per-axis counts times `perChannel` targets. */
export function spatialFanout(
  axisCounts: Float64Array[],
  channels: number,
  perChannel: number,
): Float32Array {
  const spatial = axisCounts.reduce((n, a) => n * a.length, 1);
  const out = new Float32Array(spatial * channels);
  for (let p = 0; p < spatial; p++) {
    let rem = p;
    let v = perChannel;
    for (let a = axisCounts.length - 1; a >= 0; a--) {
      const len = axisCounts[a].length;
      v *= axisCounts[a][rem % len];
      rem = Math.floor(rem / len);
    }
    out.fill(v, p * channels, (p + 1) * channels);
  }
  return out;
}

/** Split a fan-out array of a concatenation output back onto its inputs. */
export function splitConcat(fanout: Float32Array, inputShapes: number[][], axis: number): Float32Array[] {
  const rank = inputShapes[0].length;
  const ax = axis < 0 ? rank + axis : axis - 1; // config axes count the batch dimension
  const outer = inputShapes[0].slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = inputShapes[0].slice(ax + 1).reduce((a, b) => a * b, 1);
  const total = inputShapes.reduce((n, s) => n + s[ax], 0);
  let offset = 0;
  return inputShapes.map((s) => {
    const part = new Float32Array(outer * s[ax] * inner);
    for (let o = 0; o < outer; o++) {
      const src = (o * total + offset) * inner;
      part.set(fanout.subarray(src, src + s[ax] * inner), o * s[ax] * inner);
    }
    offset += s[ax];
    return part;
  });
}

/** Crop a fan-out array of a zero-padded `[h, w, c]` output back to the `[h0, w0, c]` input. */
export function cropPadding(
  fanout: Float32Array,
  inputShape: number[],
  top: number,
  left: number,
  outW: number,
): Float32Array {
  const [h, w, c] = inputShape;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const src = ((y + top) * outW + left) * c;
    out.set(fanout.subarray(src, src + w * c), y * w * c);
  }
  return out;
}

/** Fan-out of a windowed layer's `[...spatial, c]` input: windows covering each position × targets per channel. */
export function windowFanout(
  inShape: number[],
  outShape: number[],
  windows: AxisWindow[],
  perChannel: number,
): Float32Array {
  const axes = windows.map((w, a) => coverCounts(inShape[a], outShape[a], w));
  return spatialFanout(axes, inShape[inShape.length - 1], perChannel);
}

/** A fan-out array of `inShape` with every neuron reaching `v` targets. */
export function constantFanout(inShape: number[], v: number): Float32Array {
  return new Float32Array(sizeOf(inShape)).fill(v);
}

// ---- the toolbox's fan-in / fan-out helpers on a layers graph ----------------------------

/** Settings of the fan-out helpers: which layer types hold neurons. */
export interface FanoutOptions {
  /** `[restrictions] spiking_layers` (default {@linkcode SPIKING_LAYER_TYPES}). */
  spikingLayers?: readonly string[];
}

type Config = Record<string, unknown>;

function cfg(layer: Layer): Config {
  return layer.getConfig() as Config;
}

function typeOf(layer: Layer): string {
  return layer.getClassName();
}

/** Output shape of `layer` without batch (unknown dimensions as 0). */
function outShapeOf(layer: Layer): number[] {
  return firstShape(layer.outputShape);
}

/** Input shape of `layer`'s first call without batch. */
function inShapesOf(layer: Layer): number[][] {
  const s = layer.inboundNodes[0]?.inputShapes ?? [];
  const shapes = (Array.isArray(s[0]) ? s : [s]) as (number | null)[][];
  return shapes.map((one) => one.slice(1).map((d) => d ?? 0));
}

function firstShape(s: tf.Shape | tf.Shape[]): number[] {
  const one = (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
  return one.slice(1).map((d) => d ?? 0);
}

function arrayArg(v: unknown, n: number, fallback = 1): number[] {
  if (typeof v === "number") return new Array(n).fill(v);
  return Array.isArray(v) ? v.map(Number) : new Array(n).fill(fallback);
}

/** The spiking layer types of `config` (a ToolboxConfig's `[restrictions] spiking_layers`, or options). */
function spikingTypes(config?: ToolboxConfig | FanoutOptions): readonly string[] {
  if (config && isToolboxConfig(config)) {
    if (!config.hasOption("restrictions", "spiking_layers")) return SPIKING_LAYER_TYPES;
    return (pyIterable(config.getLiteral("restrictions", "spiking_layers")) ?? []).map(pyStr);
  }
  return config?.spikingLayers ?? SPIKING_LAYER_TYPES;
}

/**
 * Whether `layer` holds spiking neurons (the toolbox's `is_spiking`): its
 * type contains one of the spiking layer types (`SparseConv2D` counts as
 * `Conv2D`).
 */
export function isSpiking(layer: Layer, config?: ToolboxConfig | FanoutOptions): boolean {
  const type = typeOf(layer);
  return spikingTypes(config).some((s) => type.includes(s));
}

/** Whether every stride of `layer` is 1 (layers without strides count as unity). */
export function hasStrideUnity(layer: Layer): boolean {
  return arrayArg(cfg(layer).strides ?? 1, 2).every((v) => v === 1);
}

/**
 * Fan-in of a neuron in `layer` (channels-last model; the toolbox's
 * `get_fanin`): kernel area × input channels for a convolution (kernel area
 * alone for a depthwise one), the input size for Dense, else 0.
 */
export function getFanin(layer: Layer): number {
  const type = typeOf(layer);
  const inShape = inShapesOf(layer)[0] ?? [];
  if (type.includes("Conv")) {
    const k = arrayArg(cfg(layer).kernelSize, inShape.length - 1);
    const perChannel = type.includes("Depthwise") ? 1 : inShape[inShape.length - 1];
    return sizeOf(k) * perChannel;
  }
  if (type.includes("Dense") || type === "Sparse") return inShape[inShape.length - 1];
  return 0;
}

/** Outbound layers of `layer` (its output's consumers). */
function outbound(layer: Layer): Layer[] {
  return layer.outboundNodes.map((n) => n.outboundLayer);
}

/**
 * The spiking layers `layer` feeds, looking through every layer that holds
 * no neurons (the toolbox's `get_spiking_outbound_layers`).
 */
export function getSpikingOutboundLayers(layer: Layer, config?: ToolboxConfig | FanoutOptions): Layer[] {
  return spikingTargets(layer, config).map((t) => t.post);
}

/** A spiking layer fed by a layer, and how its input's fan-out maps back onto the feeding layer's output. */
interface SpikingTarget {
  post: Layer;
  /** Fan-out over `post`'s input → fan-out over the feeding layer's output. */
  back: (fanout: Float32Array) => Float32Array;
}

/** The spiking layers `layer` feeds, with the back-mapping through the layers in between. */
function spikingTargets(layer: Layer, config?: ToolboxConfig | FanoutOptions): SpikingTarget[] {
  const out: SpikingTarget[] = [];
  for (const next of outbound(layer)) {
    if (isSpiking(next, config)) {
      out.push({ post: next, back: (a) => a });
      continue;
    }
    const index = next.inboundNodes[0]?.inboundLayers.indexOf(layer) ?? 0;
    for (const t of spikingTargets(next, config)) {
      out.push({ post: t.post, back: (a) => passBack(next, index, t.back(a)) });
    }
  }
  return out;
}

/**
 * The fan-out over input `index` of a layer without neurons, from the
 * fan-out over its output: Concatenate splits it, ZeroPadding2D crops it,
 * a layer that keeps the size (Flatten, Reshape, Dropout, Activation, ...)
 * passes it on.
 */
export function passBack(layer: Layer, index: number, fanout: Float32Array): Float32Array {
  const type = typeOf(layer);
  const inShapes = inShapesOf(layer);
  const conf = cfg(layer);
  if (type === "Concatenate") return splitConcat(fanout, inShapes, Number(conf.axis ?? -1))[index];
  if (type === "ZeroPadding2D") {
    const p = conf.padding;
    const pads: [number, number][] = Array.isArray(p) && Array.isArray(p[0])
      ? (p as number[][]).map((q) => [Number(q[0]), Number(q[1])] as [number, number])
      : arrayArg(p, 2).map((q) => [q, q] as [number, number]);
    return cropPadding(fanout, inShapes[0], pads[0][0], pads[1][0], outShapeOf(layer)[1]);
  }
  if (sizeOf(inShapes[index] ?? []) !== fanout.length) {
    throw new UnsupportedLayerError(
      `fan-out through layer '${layer.name}' (${type}): it changes the size of its input; ` +
        `expected a layer that keeps it, Concatenate or ZeroPadding2D`,
    );
  }
  return fanout;
}

/** Window geometry of a convolution or pooling `layer` along its spatial axes. */
function windowsOf(layer: Layer, spatial: number, kernel: number[]): AxisWindow[] {
  const conf = cfg(layer);
  const strides = arrayArg(conf.strides ?? 1, spatial);
  const dilation = arrayArg(conf.dilationRate ?? 1, spatial);
  const padding = String(conf.padding ?? "valid") === "same" ? "same" : "valid";
  return strides.map((s, a) => ({ k: kernel[a], s, d: dilation[a], padding }));
}

/**
 * Exact number of synapses from each neuron of `post`'s input into the
 * convolution `post` (input shape, flat, channels-last): windows covering
 * each position × filters (× the depth multiplier for a depthwise one).
 */
function convInputFanout(post: Layer, isDepthwise: boolean): Float32Array {
  const inShape = inShapesOf(post)[0];
  const outShape = outShapeOf(post);
  const conf = cfg(post);
  const spatial = inShape.length - 1;
  const kernel = arrayArg(conf.kernelSize, spatial);
  const windows = windowsOf(post, spatial, kernel);
  if (typeOf(post).includes("Transpose")) {
    const axes = windows.map((w, a) => transposeCounts(inShape[a], outShape[a], w));
    return spatialFanout(axes, inShape[spatial], Number(conf.filters));
  }
  const perChannel = isDepthwise ? Number(conf.depthMultiplier ?? 1) : outShape[spatial];
  return windowFanout(inShape, outShape, windows, perChannel);
}

/**
 * An array of `layerPre`'s output shape (channels-last) giving each
 * neuron's number of synapses into the convolution `layerPost` (the
 * toolbox's `get_fanout_array`): where `layerPost` has a stride > 1 this
 * varies across the feature map. Exact at the borders and through the
 * layers between the two (Concatenate, ZeroPadding2D, ...).
 */
export function getFanoutArray(layerPre: Layer, layerPost: Layer, isDepthwiseConv = false): Float32NDArray {
  const shape = outShapeOf(layerPre);
  const fan = convInputFanout(layerPost, isDepthwiseConv);
  const target = spikingTargets(layerPre, { spikingLayers: [typeOf(layerPost)] }).find((t) =>
    t.post === layerPost
  );
  const data = target ? target.back(fan) : fan;
  if (data.length !== sizeOf(shape)) {
    throw new UnsupportedLayerError(
      `getFanoutArray: layer '${layerPost.name}' does not read the output of '${layerPre.name}'`,
    );
  }
  return { data, shape, dtype: "float32" };
}

/** The toolbox's fan-out of one neuron into a spiking layer of unit stride (or any pooling). */
function nominalFanout(post: Layer): number {
  const type = typeOf(post);
  const conf = cfg(post);
  if (type.includes("Dense") || type === "Sparse") return Number(conf.units);
  if (type.includes("Pool")) return 1;
  if (type.includes("UpSampling")) return sizeOf(arrayArg(conf.size, 2, 2));
  if (type.includes("Conv")) {
    const k = sizeOf(arrayArg(conf.kernelSize, Math.max(1, inShapesOf(post)[0].length - 1)));
    return type.includes("Depthwise") ? k * Number(conf.depthMultiplier ?? 1) : k * Number(conf.filters);
  }
  return 0;
}

/**
 * Fan-out of a neuron in `layer` (the toolbox's `get_fanout`), summed over
 * the spiking layers it feeds (looking through the others, Concatenate
 * included): Dense units, 1 per pooling, kernel area × filters per
 * convolution (× depth multiplier for a depthwise one), the upsampling
 * factor per UpSampling2D. When a convolution it feeds has a stride > 1 the
 * fan-out varies between neurons: then an array of `layer`'s output shape,
 * exact for the strided convolutions (see {@linkcode getFanoutArray}).
 */
export function getFanout(layer: Layer, config?: ToolboxConfig | FanoutOptions): number | Float32NDArray {
  const targets = spikingTargets(layer, config);
  const strided = (t: SpikingTarget) => typeOf(t.post).includes("Conv") && !hasStrideUnity(t.post);
  let scalar = 0;
  for (const t of targets) if (!strided(t)) scalar += nominalFanout(t.post);
  if (!targets.some(strided)) return scalar;
  const shape = outShapeOf(layer);
  const data = new Float32Array(sizeOf(shape)).fill(scalar);
  for (const t of targets.filter(strided)) {
    const a = t.back(convInputFanout(t.post, typeOf(t.post).includes("Depthwise")));
    for (let i = 0; i < data.length; i++) data[i] += a[i];
  }
  return { data, shape, dtype: "float32" };
}
