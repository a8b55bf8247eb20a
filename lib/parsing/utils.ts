/**
 * Functions common to input model parsers (the Python toolbox's
 * `snntoolbox.parsing.utils`): BatchNormalization folding, padding names,
 * and helpers that navigate a TF.js layers graph (inbound layers with
 * parameters, outbound activation). Fan-in and fan-out are in `./fanout.ts`.
 *
 * The graph helpers work on any `tf.LayersModel` and are meant for the
 * parsed model (always channels-last).
 *
 * @module
 */
import type { Layer, Tensor } from "../../deps.ts";
import type { DataFormat } from "../importers/input_model.ts";
import { type Float32NDArray, type NDArray, sizeOf } from "../io/ndarray.ts";
import { ModelFormatError } from "../errors.ts";
import type { KernelKind } from "./attributes.ts";

export type { KernelKind };

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

/**
 * A layer shape as one shape (the toolbox's `fix_input_layer_shape`):
 * `tf.keras` wraps an input layer's shape in a one-entry list
 * (`[[null, 1, 28, 28]]`); that entry is returned, any other shape as it is.
 */
export function fixInputLayerShape(
  shape: readonly (number | null)[] | readonly (readonly (number | null)[])[],
): (number | null)[] {
  if (shape.length === 1 && Array.isArray(shape[0])) return [...shape[0]];
  return [...(shape as readonly (number | null)[])];
}

/**
 * The values of a TF.js tensor as an array with its shape and dtype (the
 * toolbox's `to_numpy` of a PyTorch tensor): float32 → `Float32Array`,
 * int32 → `Int32Array`, bool → `Uint8Array`.
 */
export function toNumpy(tensor: Tensor): NDArray {
  const shape = [...tensor.shape];
  const data = tensor.dataSync();
  if (tensor.dtype === "int32") return { data: Int32Array.from(data as Int32Array), shape, dtype: "int32" };
  if (tensor.dtype === "bool") return { data: Uint8Array.from(data as Uint8Array), shape, dtype: "bool" };
  if (tensor.dtype === "float32") {
    return { data: Float32Array.from(data as Float32Array), shape, dtype: "float32" };
  }
  throw new ModelFormatError(`toNumpy: tensors of dtype ${tensor.dtype} have no array form`);
}
