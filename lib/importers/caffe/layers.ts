/**
 * Caffe layer types as TF.js layers: one function per layer type (the
 * table {@linkcode CAFFE_LAYERS}), over the state of one build
 * ({@linkcode CaffeBuild}: blob versions, names, weights to set once the
 * model exists). Convolution and Pooling go through the shared lowering
 * (`lib/importers/lowering/`) that ONNX and Lasagne use too.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { ModelFormatError, UnsupportedLayerError } from "../../errors.ts";
import { checkAllocation } from "../../io/limits.ts";
import { float32Array, type Float32NDArray } from "../../io/ndarray.ts";
import { denseKernelToTf } from "../../io/layout.ts";
import { applyConv, convWeights, planConv } from "../lowering/conv.ts";
import { applyPool, planPool } from "../lowering/pool.ts";
import { uniqueLayerName } from "../layer_names.ts";
import { bool, message, num, numbers, str } from "./message.ts";
import type { CaffeBlob, CaffeLayer, CaffeNet } from "./net.ts";
import {
  caffePoolOutputSize,
  caffeReshape,
  concatAxis,
  convGeometry,
  type PoolGeometry,
  poolGeometry,
} from "./shapes.ts";

/** Options of a Caffe build. */
export interface CaffeBuildOptions {
  /** Input shape without batch (C,H,W), for nets that do not state it. */
  inputShape?: number[];
  /** Flip convolution kernels spatially (default false: Caffe cross-correlates). */
  flipKernels?: boolean;
  /** Build with TF.js's initial weights where the net has no blobs (architecture-only nets). */
  allowMissingWeights?: boolean;
}

/** One version of a blob (in-place layers make new versions of the same name). */
export interface Version {
  /** The TF.js tensor. */
  tensor: tf.SymbolicTensor;
  /** Caffe layer type that produced it (for BN+Scale folding and sign knowledge). */
  producer: string;
  /** Number of kept layers that read this version. */
  readers: number;
  /** Pending BN weights when produced by a BatchNorm layer. */
  bn?: BnWeights;
}

/** The weights of a BatchNormalization layer being built (a following Scale folds into them). */
export interface BnWeights {
  /** Scale. */
  gamma: Float32Array;
  /** Offset. */
  beta: Float32Array;
  /** Moving mean. */
  mean: Float32Array;
  /** Moving variance. */
  variance: Float32Array;
}

/** One layer type: builds `layer` reading `ins` (the versions of its bottoms). */
export type CaffeLayerFn = (b: CaffeBuild, layer: CaffeLayer, ins: Version[]) => void;

/** Throw a {@linkcode ModelFormatError} naming the file and the layer. */
export function fail(net: CaffeNet, layer: CaffeLayer, what: string): never {
  throw new ModelFormatError(`${net.file}: Caffe layer '${layer.name}' (${layer.type}): ${what}`, {
    file: net.file,
  });
}

/** Throw an {@linkcode UnsupportedLayerError} naming the file and the layer. */
export function unsupported(net: CaffeNet, layer: CaffeLayer, what: string): never {
  throw new UnsupportedLayerError(`${net.file}: Caffe layer '${layer.name}' (${layer.type}): ${what}`, {
    file: net.file,
  });
}

/** The state of one build, shared by the layer functions. */
export class CaffeBuild {
  /** Facts worth reporting (approximations, ignored layers). */
  readonly notes: string[] = [];
  /** Weights to set once the model is built: the layer and a function making its arrays. */
  readonly pending: [tf.layers.Layer, () => Float32NDArray[]][] = [];
  /** Tensors no kept layer reads: the outputs of the net. */
  readonly outputs: tf.SymbolicTensor[] = [];
  private readonly used = new Set<string>();
  private readonly versionNo = new Map<string, number>();
  private readonly blobs = new Map<string, Version>();

  /**
   * Start a build of `net`; `readers` counts, per blob version `name#v`, the
   * kept layers that read it; `caffeShapes` are the blob shapes Caffe computes.
   */
  constructor(
    readonly net: CaffeNet,
    readonly options: CaffeBuildOptions,
    readonly caffeShapes: Map<string, number[][]>,
    private readonly readers: Map<string, number>,
  ) {}

  /** A unique layer name. */
  name(base: string): string {
    return uniqueLayerName(base, this.used);
  }

  /** Make `tensor` the next version of blob `name`. */
  setTop(name: string, tensor: tf.SymbolicTensor, producer: string, bn?: BnWeights): void {
    const v = (this.versionNo.get(name) ?? 0) + 1;
    this.versionNo.set(name, v);
    const count = this.readers.get(`${name}#${v}`) ?? 0;
    this.blobs.set(name, { tensor, producer, readers: count, bn });
    // A blob version no kept layer reads is an output of the net (as in Caffe's Net).
    if (count === 0 && producer !== "Input" && !this.outputs.includes(tensor)) this.outputs.push(tensor);
  }

  /** The current version of blob `name`, read by `layer`. */
  read(layer: CaffeLayer, name: string): Version {
    const v = this.blobs.get(name);
    if (!v) fail(this.net, layer, `reads blob '${name}', which no earlier layer produces`);
    return v;
  }

  /** Whether the layer's weights come from its blobs (else TF.js's initial weights, architecture checks). */
  blobsWanted(layer: CaffeLayer): boolean {
    return !this.options.allowMissingWeights || layer.blobs.length > 0;
  }
}

/** Blob `index` of `layer`, which must hold `size` values. */
function blobOf(net: CaffeNet, layer: CaffeLayer, index: number, size: number, what: string): Float32Array {
  const blob: CaffeBlob | undefined = layer.blobs[index];
  if (!blob) {
    fail(net, layer, `missing blob ${index} (${what}); the weights file has no such blob for this layer`);
  }
  if (blob.data.length !== size) {
    fail(
      net,
      layer,
      `blob ${index} (${what}) has ${blob.data.length} values [${blob.shape}], expected ${size}`,
    );
  }
  return blob.data;
}

/** Fail unless every value is an integer of at least `min` (layer params such as num_output, stride, pad). */
function checkInts(
  net: CaffeNet,
  layer: CaffeLayer,
  params: Record<string, readonly number[]>,
  min: number,
): void {
  for (const [key, values] of Object.entries(params)) {
    if (values.some((v) => !Number.isSafeInteger(v) || v < min)) {
      fail(
        net,
        layer,
        `${key} must be ${min > 0 ? "a positive" : "a non-negative"} integer, found ${values}`,
      );
    }
  }
}

/**
 * Validate a weight array before TF.js allocates it when the layer is built:
 * its size against the memory ceiling, and the blob holding it (when weights
 * are wanted) against the size the layer params imply.
 */
function checkWeight(
  net: CaffeNet,
  layer: CaffeLayer,
  what: string,
  tfShape: readonly number[],
  blob?: { index: number; size: number },
): void {
  checkAllocation({
    file: net.file,
    what: `the ${what} of Caffe layer '${layer.name}' (${layer.type})`,
    shape: tfShape,
    itemBytes: 4,
  });
  if (blob) blobOf(net, layer, blob.index, blob.size, what);
}

/** The output of one sample, as Caffe computes it, must fit the memory ceiling (a huge pad makes a huge activation). */
function checkOutput(b: CaffeBuild, layer: CaffeLayer): void {
  checkAllocation({
    file: b.net.file,
    what: `the output of Caffe layer '${layer.name}' (${layer.type}) for one sample`,
    shape: b.caffeShapes.get(layer.name)?.[0] ?? [],
    itemBytes: 4,
  });
}

/** Pooling params Caffe accepts: positive kernel and stride, pad below the kernel, at least one output. */
function checkPooling(net: CaffeNet, layer: CaffeLayer, g: PoolGeometry, hw: readonly number[]): void {
  checkInts(net, layer, { kernel_size: g.kernel, stride: g.stride }, 1);
  checkInts(net, layer, { pad: g.pad }, 0);
  [0, 1].forEach((i) => {
    if (g.pad[i] >= g.kernel[i]) {
      fail(net, layer, `pad ${g.pad[i]} must be smaller than kernel_size ${g.kernel[i]}`);
    }
    if (!(caffePoolOutputSize(hw[i], g.kernel[i], g.stride[i], g.pad[i]) >= 1)) {
      fail(
        net,
        layer,
        `kernel_size ${g.kernel} does not fit the input of spatial size [${hw}] (pad ${g.pad})`,
      );
    }
  });
}

/** Concat params Caffe accepts: an axis inside the blobs (not the batch) and equal shapes elsewhere. */
function checkConcat(
  net: CaffeNet,
  layer: CaffeLayer,
  axis: number,
  shapes: readonly (readonly (number | null)[])[],
): void {
  if (shapes.length === 0) fail(net, layer, "expected at least 1 bottom, found 0");
  const rank = shapes[0].length;
  if (!Number.isSafeInteger(axis) || axis < 0 || axis >= rank) {
    fail(
      net,
      layer,
      `concat axis must be in [${-rank}, ${rank - 1}] for bottoms of rank ${rank}, found ${axis}`,
    );
  }
  if (axis === 0) unsupported(net, layer, "concatenation along the batch axis (axis 0)");
  const dims = (s: readonly (number | null)[]) => s.map((d, i) => (i === axis ? "*" : String(d))).join(",");
  const first = dims(shapes[0]);
  shapes.forEach((s, i) => {
    if (s.length !== rank || dims(s) !== first) {
      fail(
        net,
        layer,
        `bottom ${i} has shape [${s.slice(1)}], expected [${shapes[0].slice(1)}] except along axis ${axis}`,
      );
    }
  });
}

/** The single bottom of a layer that takes one. */
function one(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): Version {
  if (ins.length !== 1) fail(b.net, layer, `expected 1 bottom, found ${ins.length}`);
  return ins[0];
}

/** Convolution (groups, dilation, strides, pads: the shared convolution lowering). */
function convolution(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const { net } = b;
  const x = one(b, layer, ins);
  const g = convGeometry(layer);
  const [inC, h, w] = x.tensor.shape.slice(1) as number[];
  checkInts(net, layer, { num_output: [g.numOutput], stride: g.stride, dilation: g.dilation }, 1);
  checkInts(net, layer, { group: [g.group] }, 1);
  checkInts(net, layer, { pad: g.pad }, 0);
  checkOutput(b, layer);
  const plan = planConv({
    inChannels: inC,
    outChannels: g.numOutput,
    kernel: g.kernel,
    strides: g.stride,
    dilations: g.dilation,
    groups: g.group,
    pads: g.pad.map((p) => [p, p] as [number, number]),
    inputSize: [h, w],
  }, (reason) => unsupported(net, layer, reason));
  const wanted = b.blobsWanted(layer);
  const ksize = g.kernel[0] * g.kernel[1];
  const blobSize = (g.numOutput * inC * ksize) / g.group;
  const tfShape = plan.layerType === "DepthwiseConv2D"
    ? [g.numOutput, ...plan.kernel]
    : [g.numOutput, inC, ...plan.kernel];
  checkWeight(net, layer, "weights", tfShape, wanted ? { index: 0, size: blobSize } : undefined);
  if (g.biasTerm) {
    checkWeight(net, layer, "bias", [g.numOutput], wanted ? { index: 1, size: g.numOutput } : undefined);
  }
  const { output, layer: conv } = applyConv(plan, x.tensor, {
    name: b.name(layer.name),
    padName: () => b.name(`${layer.name}_pad`),
    useBias: g.biasTerm,
    zeroInit: wanted,
  });
  b.setTop(layer.tops[0], output, layer.type);
  if (wanted) {
    b.pending.push([conv, () => {
      const weights = blobOf(net, layer, 0, blobSize, "weights");
      const bias = g.biasTerm ? blobOf(net, layer, 1, g.numOutput, "bias") : undefined;
      return convWeights(plan, weights, bias, b.options.flipKernels ?? false);
    }]);
  }
}

/** Pooling (MAX, AVE; Caffe's ceil mode: the shared pooling lowering). */
function pooling(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  const [, h, w] = x.tensor.shape.slice(1) as number[];
  const g = poolGeometry(layer, [h, w]);
  checkPooling(b.net, layer, g, [h, w]);
  checkOutput(b, layer);
  const spec = {
    method: g.method === "MAX" ? "max" as const : "avg" as const,
    inputSize: [h, w],
    kernel: g.kernel,
    strides: g.stride,
    pads: g.pad.map((p) => [p, p] as [number, number]),
    outputSize: [h, w].map((n, i) => caffePoolOutputSize(n, g.kernel[i], g.stride[i], g.pad[i])),
    // Caffe's AVE divides by the window clipped to the padded input; MAX ignores the padding.
    padsAreZeros: g.method === "AVE",
    nonNegative: x.producer === "ReLU" || x.producer === "Sigmoid",
  };
  const plan = planPool(spec);
  if (!plan.exact) {
    b.notes.push(
      `${layer.name}: ${g.method} pooling over zero padding (Caffe ceil mode/pad): shapes exact, ` +
        `values differ from Caffe where ${g.method === "MAX" ? "inputs are negative" : "windows overhang"}`,
    );
  }
  const output = applyPool(plan, spec, x.tensor, {
    name: b.name(layer.name),
    padName: () => b.name(`${layer.name}_pad`),
  });
  b.setTop(layer.tops[0], output, layer.type);
}

/** InnerProduct: a Dense layer (a spatial bottom is flattened as laid out). */
function innerProduct(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const { net } = b;
  const x = one(b, layer, ins);
  const p = message(layer.param, "inner_product_param");
  const axis = num(p, "axis", 1);
  if (axis !== 1 && !(axis === -1 && x.tensor.shape.length === 2)) {
    unsupported(net, layer, `inner_product_param.axis ${axis}; supported: 1`);
  }
  let input = x.tensor;
  if (input.shape.length > 2) {
    input = tf.layers.flatten({ name: b.name(`${layer.name}_flatten`) }).apply(input) as tf.SymbolicTensor;
  }
  const inputs = input.shape[1] as number;
  const units = num(p, "num_output", 0);
  const biasTerm = bool(p, "bias_term", true);
  const transpose = bool(p, "transpose", false);
  const wanted = b.blobsWanted(layer);
  checkInts(net, layer, { num_output: [units] }, 1);
  checkWeight(
    net,
    layer,
    "weights",
    [inputs, units],
    wanted ? { index: 0, size: units * inputs } : undefined,
  );
  if (biasTerm) checkWeight(net, layer, "bias", [units], wanted ? { index: 1, size: units } : undefined);
  const dense = tf.layers.dense({ units, useBias: biasTerm, name: b.name(layer.name) });
  b.setTop(layer.tops[0], dense.apply(input) as tf.SymbolicTensor, layer.type);
  if (wanted) {
    b.pending.push([dense, () => {
      const wt = blobOf(net, layer, 0, units * inputs, "weights");
      const out = [
        transpose ? float32Array(wt.slice(), [inputs, units]) : denseKernelToTf(wt, units, inputs),
      ];
      if (biasTerm) out.push(float32Array(blobOf(net, layer, 1, units, "bias"), [units]));
      return out;
    }]);
  }
}

const ACTIVATIONS: Record<string, "relu" | "sigmoid" | "tanh"> = {
  ReLU: "relu",
  Sigmoid: "sigmoid",
  TanH: "tanh",
};

/** ReLU (not leaky), Sigmoid, TanH. */
function activation(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  const slope = num(message(layer.param, "relu_param"), "negative_slope", 0);
  if (layer.type === "ReLU" && slope !== 0) {
    unsupported(b.net, layer, `negative_slope ${slope} (leaky ReLU); supported: 0`);
  }
  const act = tf.layers.activation({ activation: ACTIVATIONS[layer.type], name: b.name(layer.name) });
  b.setTop(layer.tops[0], act.apply(x.tensor) as tf.SymbolicTensor, layer.type);
}

/** Softmax along `softmax_param.axis`. */
function softmax(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  const axis = num(message(layer.param, "softmax_param"), "axis", 1);
  const rank = x.tensor.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const sm = a === rank - 1
    ? tf.layers.activation({ activation: "softmax", name: b.name(layer.name) })
    : tf.layers.softmax({ axis: a, name: b.name(layer.name) });
  b.setTop(layer.tops[0], sm.apply(x.tensor) as tf.SymbolicTensor, layer.type);
}

/** Dropout (kept as a layer; removed by the parser). */
function dropout(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  const rate = num(message(layer.param, "dropout_param"), "dropout_ratio", 0.5);
  const d = tf.layers.dropout({ rate, name: b.name(layer.name) });
  b.setTop(layer.tops[0], d.apply(x.tensor) as tf.SymbolicTensor, x.producer);
}

/** BatchNorm: a BatchNormalization on axis 1 (a following Scale folds into it). */
function batchNorm(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const { net } = b;
  const x = one(b, layer, ins);
  const c = x.tensor.shape[1] as number;
  const eps = num(message(layer.param, "batch_norm_param"), "eps", 1e-5);
  const bnLayer = tf.layers.batchNormalization({ axis: 1, epsilon: eps, name: b.name(layer.name) });
  const weights: BnWeights = {
    gamma: new Float32Array(c).fill(1),
    beta: new Float32Array(c),
    mean: new Float32Array(c),
    variance: new Float32Array(c).fill(1),
  };
  if (b.blobsWanted(layer)) {
    // Blobs: mean * f, variance * f, and the moving-average scale factor f (caffe.proto BatchNorm).
    b.pending.push([bnLayer, () => {
      const mean = blobOf(net, layer, 0, c, "running mean");
      const variance = blobOf(net, layer, 1, c, "running variance");
      const f = blobOf(net, layer, 2, 1, "moving_average_fraction scale factor")[0];
      const scale = f === 0 ? 0 : 1 / f;
      weights.mean = mean.map((v) => v * scale);
      weights.variance = variance.map((v) => v * scale);
      return [];
    }]);
  }
  b.pending.push([bnLayer, () => [
    float32Array(weights.gamma, [c]),
    float32Array(weights.beta, [c]),
    float32Array(weights.mean, [c]),
    float32Array(weights.variance, [c]),
  ]]);
  b.setTop(layer.tops[0], bnLayer.apply(x.tensor) as tf.SymbolicTensor, layer.type, weights);
}

/** Scale (one bottom, per channel): folded into the BatchNorm before it, else its own affine layer. */
function scale(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const { net } = b;
  if (ins.length !== 1) {
    unsupported(net, layer, "a Scale with two bottoms (multiplying blobs) is not supported");
  }
  const x = ins[0];
  const p = message(layer.param, "scale_param");
  if (num(p, "axis", 1) !== 1 || num(p, "num_axes", 1) !== 1) {
    unsupported(net, layer, "scale_param axis/num_axes other than 1/1 (per channel)");
  }
  const c = x.tensor.shape[1] as number;
  const biasTerm = bool(p, "bias_term", false);
  const wanted = b.blobsWanted(layer);
  const gamma = wanted ? blobOf(net, layer, 0, c, "scale") : new Float32Array(c).fill(1);
  const beta = biasTerm && wanted ? blobOf(net, layer, 1, c, "bias") : new Float32Array(c);
  if (x.bn && x.readers === 1) {
    // BatchNorm + Scale → one BatchNormalization: y = gamma * bn(x) + beta.
    x.bn.gamma = x.bn.gamma.map((g, i) => g * gamma[i]);
    x.bn.beta = x.bn.beta.map((v, i) => v * gamma[i] + beta[i]);
    b.setTop(layer.tops[0], x.tensor, "BatchNorm");
    return;
  }
  const eps = 1e-3;
  const bnLayer = tf.layers.batchNormalization({ axis: 1, epsilon: eps, name: b.name(layer.name) });
  b.pending.push([bnLayer, () => [
    float32Array(gamma, [c]),
    float32Array(beta, [c]),
    float32Array(new Float32Array(c), [c]),
    float32Array(new Float32Array(c).fill(1 - eps), [c]),
  ]]);
  b.setTop(layer.tops[0], bnLayer.apply(x.tensor) as tf.SymbolicTensor, layer.type);
}

/** Concat along `concat_param.axis` (not the batch). */
function concat(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = ins[0];
  const axis = concatAxis(layer, x.tensor.shape.length);
  checkConcat(b.net, layer, axis, ins.map((v) => v.tensor.shape));
  const t = ins.length === 1 ? x.tensor : tf.layers.concatenate({ axis, name: b.name(layer.name) }).apply(
    ins.map((v) => v.tensor),
  ) as tf.SymbolicTensor;
  b.setTop(layer.tops[0], t, layer.type);
}

/** Eltwise SUM with unit coefficients: an Add layer. */
function eltwise(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const p = message(layer.param, "eltwise_param");
  const op = str(p, "operation", "SUM");
  const coeff = numbers(p, "coeff");
  if ((op !== "SUM" && op !== "1") || coeff.some((c) => c !== 1)) {
    unsupported(
      b.net,
      layer,
      `operation ${op}${coeff.length ? ` with coeff [${coeff}]` : ""}; supported: SUM`,
    );
  }
  const x = ins[0];
  ins.forEach((v, i) => {
    const [s, t] = [v.tensor.shape.slice(1), x.tensor.shape.slice(1)];
    if (s.length !== t.length || s.some((d, j) => d !== t[j])) {
      fail(b.net, layer, `bottom ${i} has shape [${s}], expected [${t}] like bottom 0`);
    }
  });
  const t = tf.layers.add({ name: b.name(layer.name) }).apply(ins.map((v) => v.tensor)) as tf.SymbolicTensor;
  b.setTop(layer.tops[0], t, layer.type);
}

/** Flatten: a Flatten layer for the whole blob, else a Reshape to Caffe's shape. */
function flatten(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  const p = message(layer.param, "flatten_param");
  const rank = x.tensor.shape.length;
  const a = num(p, "axis", 1);
  const e = num(p, "end_axis", -1);
  const whole = (a === 1 || a === 1 - rank) && (e === -1 || e === rank - 1);
  const t = whole
    ? tf.layers.flatten({ name: b.name(layer.name) }).apply(x.tensor)
    : tf.layers.reshape({ targetShape: b.caffeShapes.get(layer.name)?.[0] ?? [], name: b.name(layer.name) })
      .apply(x.tensor);
  b.setTop(layer.tops[0], t as tf.SymbolicTensor, layer.type);
}

/** Reshape (not of the batch dimension). */
function reshape(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  const full = caffeReshape(layer, [1, ...(x.tensor.shape.slice(1) as number[])]);
  if (full[0] !== 1) unsupported(b.net, layer, "a reshape that changes the batch dimension");
  const t = tf.layers.reshape({ targetShape: full.slice(1), name: b.name(layer.name) }).apply(x.tensor);
  b.setTop(layer.tops[0], t as tf.SymbolicTensor, layer.type);
}

/** Split: every top is the bottom. */
function split(b: CaffeBuild, layer: CaffeLayer, ins: Version[]): void {
  const x = one(b, layer, ins);
  for (const top of layer.tops) b.setTop(top, x.tensor, x.producer, undefined);
}

/** The Caffe layer types this library builds, by type name. */
export const CAFFE_LAYERS: Readonly<Record<string, CaffeLayerFn>> = {
  Convolution: convolution,
  InnerProduct: innerProduct,
  Pooling: pooling,
  ReLU: activation,
  Sigmoid: activation,
  TanH: activation,
  Softmax: softmax,
  Dropout: dropout,
  BatchNorm: batchNorm,
  Scale: scale,
  Concat: concat,
  Eltwise: eltwise,
  Flatten: flatten,
  Reshape: reshape,
  Split: split,
};
