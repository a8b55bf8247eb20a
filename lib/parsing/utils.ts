/**
 * Functions common to input model parsers (the Python toolbox's
 * `snntoolbox.parsing.utils`): BatchNormalization folding, padding names,
 * and helpers that navigate a TF.js layers graph (fan-in, fan-out, inbound
 * layers with parameters, outbound activation).
 *
 * The graph helpers work on any `tf.LayersModel` and are meant for the
 * parsed model (always channels-last).
 *
 * @module
 */
import type { Layer, tf } from "../../deps.ts";
import type { DataFormat } from "../importers/input_model.ts";
import { type Float32NDArray, sizeOf } from "../io/ndarray.ts";
import { ModelFormatError } from "../errors.ts";

export {
  applyActivation,
  binarize,
  clampedReluName,
  type CustomActivationSpec,
  parseCustomActivation,
  reducePrecision,
  registerCustomActivation,
} from "../layers/activations.ts";

/** What kind of layer a kernel belongs to (decides where its output-channel axis is). */
export type KernelKind = "dense" | "conv" | "depthwise" | "transpose";

/** Options of {@linkcode absorbBnParameters}. */
export interface AbsorbBnOptions {
  /** BatchNormalization axis in the layer's output space (batch axis = 0; negative counts from the end). */
  axis: number;
  /** Layout of the layer's output (decides what a 4-d layer axis means). Default `channels_last`. */
  imageDataFormat?: DataFormat;
  /** Kernel kind; default from the rank (2 → dense, else conv). */
  kind?: KernelKind;
}

function kernelOutputAxis(kind: KernelKind, ndim: number): number {
  if (kind === "depthwise" || kind === "transpose") return ndim - 2;
  return ndim - 1;
}

/**
 * Fold BatchNormalization parameters into the weights and bias of the layer
 * before it: `w' = w·γ·s`, `b' = β + (b − μ)·γ·s` with `s = 1/√(σ²+ε)`,
 * broadcast along the kernel axis that holds the output channels.
 *
 * Kernels are in Keras layout whatever the data format: Dense `[in, out]`,
 * Conv1D `[k, in, out]`, Conv2D `[kh, kw, in, out]`, DepthwiseConv2D
 * `[kh, kw, in, multiplier]` (output channel `c·multiplier + j`),
 * Conv2DTranspose `[kh, kw, out, in]`. The BN `axis` must be the channel
 * axis of the layer output (`1` or `-3` for channels_first images, `-1` for
 * channels_last, `-1`/`1` for Dense); any other axis cannot be folded and
 * throws `ModelFormatError`.
 */
export function absorbBnParameters(
  weight: Float32NDArray,
  bias: Float32NDArray,
  mean: Float32Array,
  varEpsSqrtInv: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  options: AbsorbBnOptions,
): [Float32NDArray, Float32NDArray] {
  const ndim = weight.shape.length;
  const kind = options.kind ?? (ndim === 2 ? "dense" : "conv");
  const layerRank = ndim === 2 ? 2 : ndim; // Dense: [batch, units]; ConvND: batch + N + channels
  const axis = options.axis < 0 ? layerRank + options.axis : options.axis;
  const channelAxis = ndim === 2 ? 1 : options.imageDataFormat === "channels_first" ? 1 : layerRank - 1;
  if (axis !== channelAxis) {
    throw new ModelFormatError(
      `BatchNormalization axis ${options.axis} is not the channel axis (${channelAxis}) of the ` +
        `${
          options.imageDataFormat ?? "channels_last"
        } layer before it; only per-channel normalization can be folded`,
    );
  }
  const outAxis = kernelOutputAxis(kind, ndim);
  const nOut = bias.data.length;
  for (
    const [name, v] of [["mean", mean], ["variance", varEpsSqrtInv], ["gamma", gamma], [
      "beta",
      beta,
    ]] as const
  ) {
    if (v.length !== nOut) {
      throw new ModelFormatError(
        `BatchNormalization ${name} has ${v.length} values, the layer has ${nOut} channels`,
      );
    }
  }
  const scale = new Float32Array(nOut);
  const newBias = new Float32Array(nOut);
  for (let c = 0; c < nOut; c++) {
    scale[c] = gamma[c] * varEpsSqrtInv[c];
    newBias[c] = beta[c] + (bias.data[c] - mean[c]) * scale[c];
  }
  const w = weight.data;
  const out = new Float32Array(w.length);
  const shape = weight.shape;
  const inner = sizeOf(shape.slice(outAxis + 1));
  const axisLen = shape[outAxis];
  for (let i = 0; i < w.length; i++) {
    const a = Math.floor(i / inner) % axisLen;
    // Depthwise: output channel = input channel · multiplier + j (axes -2, -1).
    const c = kind === "depthwise" ? a * shape[ndim - 1] + (i % shape[ndim - 1]) : a;
    out[i] = w[i] * scale[c];
  }
  return [{ data: out, shape: [...shape], dtype: "float32" }, {
    data: newBias,
    shape: [nOut],
    dtype: "float32",
  }];
}

/**
 * The border mode of zero padding `pad` around a kernel of `poolSize`:
 * `valid` (no padding), `same` (half the kernel), `full` (kernel − 1).
 */
export function paddingString(pad: readonly [number, number] | string, poolSize: readonly number[]): string {
  if (typeof pad === "string") return pad;
  if (pad[0] === 0 && pad[1] === 0) return "valid";
  if (pad[0] === Math.floor(poolSize[0] / 2) && pad[1] === Math.floor(poolSize[1] / 2)) return "same";
  if (pad[0] === poolSize[0] - 1 && pad[1] === poolSize[1] - 1) return "full";
  throw new ModelFormatError(
    `padding [${pad.join(", ")}] with kernel [${poolSize.join(", ")}] is none of 'valid', 'same', 'full'`,
  );
}

/** Layer class name (Keras names: `Conv2D`, `Dense`, ...). */
export function getType(layer: Layer): string {
  return layer.getClassName();
}

/** Whether `layer` has weights. */
export function hasWeights(layer: Layer): boolean {
  return layer.weights.length > 0;
}

/** Inbound layers of `layer` (its first call). */
export function getInboundLayers(layer: Layer): Layer[] {
  const node = layer.inboundNodes[0];
  return node ? [...node.inboundLayers] : [];
}

/** Outbound layers of `layer`. */
export function getOutboundLayers(layer: Layer): Layer[] {
  return layer.outboundNodes.map((n) => n.outboundLayer);
}

/** Walk back from `layer` until inbound layers with parameters are found. */
export function getInboundLayersWithParams(layer: Layer): Layer[] {
  const result: Layer[] = [];
  for (const inb of getInboundLayers(layer)) {
    if (hasWeights(inb)) result.push(inb);
    else result.push(...getInboundLayersWithParams(inb));
  }
  return result;
}

/** Inbound layers of `layer` that have no parameters. */
export function getInboundLayersWithoutParams(layer: Layer): Layer[] {
  return getInboundLayers(layer).filter((l) => !hasWeights(l));
}

function activationName(layer: Layer): string {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === "string" ? a : "linear";
}

/**
 * The activation of `layer`, or of an `Activation` layer among its next two
 * outbound layers (single-successor chain), as the Python toolbox does.
 */
export function getOutboundActivation(layer: Layer): string {
  let activation = activationName(layer);
  let outbound = [layer];
  for (let i = 0; i < 2; i++) {
    outbound = getOutboundLayers(outbound[0]);
    if (outbound.length !== 1) break;
    if (getType(outbound[0]) === "Activation") activation = activationName(outbound[0]);
  }
  return activation;
}

function shapeOf(s: tf.Shape | tf.Shape[]): number[] {
  const one = (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
  return one.slice(1).map((d) => d ?? 0);
}

function arrayArg(v: unknown, n: number): number[] {
  if (typeof v === "number") return new Array(n).fill(v);
  return Array.isArray(v) ? v.map(Number) : new Array(n).fill(1);
}

function cfg(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/** Whether every stride of `layer` is 1 (layers without strides count as unity). */
export function hasStrideUnity(layer: Layer): boolean {
  const s = cfg(layer).strides;
  return arrayArg(s ?? 1, 2).every((v) => v === 1);
}

/** Fan-in of a neuron in `layer` (channels-last model): kernel area × input channels, Dense inputs, else 0. */
export function getFanin(layer: Layer): number {
  const type = getType(layer);
  const inShape = shapeOf(layer.inboundNodes[0]?.inputShapes ?? []);
  if (type.includes("Conv")) {
    const k = arrayArg(cfg(layer).kernelSize, inShape.length - 1);
    const perChannel = type.includes("Depthwise") ? 1 : inShape[inShape.length - 1];
    return sizeOf(k) * perChannel;
  }
  if (type.includes("Dense")) return inShape[inShape.length - 1];
  return 0;
}

const PASS_THROUGH = new Set([
  "Flatten",
  "Reshape",
  "Dropout",
  "Activation",
  "ZeroPadding2D",
  "Permute",
  "InputLayer",
]);

/** Outbound layers of `layer` that hold neurons, looking through Flatten, Reshape, padding and the like. */
export function getSpikingOutboundLayers(layer: Layer): Layer[] {
  const out: Layer[] = [];
  for (const next of getOutboundLayers(layer)) {
    if (PASS_THROUGH.has(getType(next))) out.push(...getSpikingOutboundLayers(next));
    else out.push(next);
  }
  return out;
}

/** How many output positions of a strided window cover each input position along one axis. */
function coverCounts(nIn: number, nOut: number, k: number, s: number, padding: string, d = 1): number[] {
  const span = (k - 1) * d + 1;
  const total = padding === "same" ? Math.max((nOut - 1) * s + span - nIn, 0) : 0;
  const before = Math.floor(total / 2);
  const counts = new Array(nIn).fill(0);
  for (let o = 0; o < nOut; o++) {
    for (let t = 0; t < k; t++) {
      const i = o * s - before + t * d;
      if (i >= 0 && i < nIn) counts[i]++;
    }
  }
  return counts;
}

/**
 * Array (channels-last, shape of `pre`'s output) of the number of outgoing
 * connections of each neuron of `pre` into the convolution `post`; varies
 * across the feature map when `post` has a stride > 1.
 */
export function getFanoutArray(
  pre: Layer,
  post: Layer,
  isDepthwise = false,
): Float32NDArray {
  const shape = shapeOf(pre.outputShape);
  const [h, w, c] = shape;
  const postShape = shapeOf(post.outputShape);
  const conf = cfg(post);
  const k = arrayArg(conf.kernelSize, 2);
  const s = arrayArg(conf.strides ?? 1, 2);
  const d = arrayArg(conf.dilationRate ?? 1, 2);
  const padding = String(conf.padding ?? "valid");
  const ys = coverCounts(h, postShape[0], k[0], s[0], padding, d[0]);
  const xs = coverCounts(w, postShape[1], k[1], s[1], padding, d[1]);
  const mult = isDepthwise ? Number(conf.depthMultiplier ?? 1) : postShape[2];
  const data = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data.fill(ys[y] * xs[x] * mult, (y * w + x) * c, (y * w + x + 1) * c);
  }
  return { data, shape, dtype: "float32" };
}

/**
 * Fan-out of a neuron in `layer`: summed over its spiking outbound layers
 * (Dense units, 1 per pooling, kernel area × filters per convolution). When
 * an outbound convolution has a stride > 1 the fan-out varies between
 * neurons and an array of `layer`'s output shape is returned.
 */
export function getFanout(layer: Layer): number | Float32NDArray {
  const next = getSpikingOutboundLayers(layer);
  const strided = next.some((n) => getType(n).includes("Conv") && !hasStrideUnity(n));
  let scalar = 0;
  const arrays: Float32NDArray[] = [];
  for (const n of next) {
    const type = getType(n);
    const conf = cfg(n);
    if (type.includes("Dense")) scalar += Number(conf.units);
    else if (type.includes("Pool")) scalar += 1;
    else if (type.includes("Conv")) {
      const depthwise = type.includes("Depthwise");
      if (hasStrideUnity(n)) {
        const k = sizeOf(arrayArg(conf.kernelSize, 2));
        scalar += depthwise ? k * Number(conf.depthMultiplier ?? 1) : k * Number(conf.filters);
      } else arrays.push(getFanoutArray(layer, n, depthwise));
    }
  }
  if (!strided) return scalar;
  const shape = shapeOf(layer.outputShape);
  const data = new Float32Array(sizeOf(shape)).fill(scalar);
  for (const a of arrays) for (let i = 0; i < data.length; i++) data[i] += a.data[i];
  return { data, shape, dtype: "float32" };
}
