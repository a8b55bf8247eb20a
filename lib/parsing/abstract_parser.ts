/**
 * The abstract model parser: every input library implements the per-layer
 * accessors, and the shared {@linkcode AbstractModelParser.parse} turns the
 * input model into the *parsed model*, a channels-last list of layers ready
 * for spiking conversion. All simplifications live here, in one place:
 *
 * - BatchNormalization folded into the Dense/Conv layer before it (through
 *   Dropout and linear activations), else folded forward into the next
 *   Dense/valid Conv where exact, else kept as a per-channel affine layer;
 * - inference no-ops (Dropout family, noise, ActivityRegularization,
 *   InputLayer) removed, Activation/ReLU/Softmax layers absorbed into the
 *   layer that owns them (kept as an Activation layer when nothing owns
 *   them);
 * - Flatten inserted where a spatial tensor feeds a flat layer;
 *   Global{Average,Max}Pooling → {Average,Max}Pooling + Flatten; Add →
 *   Concatenate + 1×1 convolution with identity-sum weights;
 *   SeparableConv2D → DepthwiseConv2D + 1×1 Conv2D;
 * - `max2avg_pool`, `softmax_to_relu`, `append_softmax`, weight
 *   binarization/quantization, custom activation strings;
 * - channels_first → channels_last: convolution layouts, BatchNorm and
 *   Concatenate axes, the row order of a Dense after a Flatten that flattened
 *   NCHW as laid out (Permute layers only where nothing else is exact).
 *
 * @module
 */
import { asToolboxError } from "../io/unexpected_errors.ts";
import { type Layer, type LayersModel, tf } from "../../deps.ts";
import { ConfigError, ModelFormatError, UnsupportedLayerError } from "../errors.ts";
import { type Float32NDArray, sizeOf } from "../io/ndarray.ts";
import type { ToolboxConfig } from "../config/types.ts";
import type { DataFormat, InputModel } from "../importers/input_model.ts";
import { absorbBnParameters, type KernelKind } from "./utils.ts";
import {
  binarize,
  clampedReluName,
  reducePrecision,
  registerCustomActivation,
} from "../layers/activations.ts";
import { isToolboxConfig, parseQmf, type ParserOptions, parserOptionsFromConfig } from "./options.ts";
import { evaluateModel, type EvaluateOptions, type EvaluationScore } from "./evaluate.ts";
import type { NDArray } from "../io/ndarray.ts";
import { saveParameters } from "../io/parameters.ts";

/** Parameters of a batch-normalization layer (the Python toolbox's tuple). */
export interface BatchNormParameters {
  /** Moving mean μ. */
  mean: Float32Array;
  /** 1/√(σ² + ε). */
  varEpsSqrtInv: Float32Array;
  /** Scale γ (ones when the layer does not scale). */
  gamma: Float32Array;
  /** Offset β (zeros when the layer does not center). */
  beta: Float32Array;
  /** Normalized axis in the layer's output (batch = 0; may be negative). */
  axis: number;
}

/** One layer of the parsed model (the Python toolbox's `_layer_list` entry). */
export interface LayerAttributes {
  /** Keras/TF.js class name of the parsed layer (`Conv2D`, `Dense`, ...). */
  layerType: string;
  /** Layer name, `<idx><Type>_<shape>` once parsing has finished. */
  name: string;
  /** Names of the layers feeding this one (`"input"` for the model input). */
  inbound: string[];
  /** Constructor arguments (TF.js camelCase), channels-last. */
  config: Record<string, unknown>;
  /** Weights in TF.js order (`[kernel, bias]`, ...). */
  parameters?: Float32NDArray[];
  /** Activation string (custom toolbox strings allowed); only for layers that have one. */
  activation?: string;
  /** What was folded into this layer or rewritten to make it (human-readable notes). */
  absorbed: string[];
  /** Output shape without batch, channels-last. */
  outputShape: number[];
  /** Name of the input-model layer this one comes from. */
  sourceName?: string;
  /** Fixed point format of the weights, when the source layer states one (`[m, f]`). */
  qmf?: [number, number];
}

/**
 * A tensor of the input model as it exists in the parsed model.
 *
 * @internal
 */
interface TensorRef {
  /** Internal id of the parsed layer producing it, or `"input"`. */
  id: string;
  /** Shape in the input model (without batch). */
  srcShape: number[];
  /** Parsed tensor = transpose(source tensor, perm); `undefined` = identical. */
  perm?: number[];
  /** Flat tensor whose element `j` holds source flat element `rowMap[j]`. */
  rowMap?: Int32Array;
  /** The parsed layer producing it, when it is one (not the input). */
  producer?: LayerAttributes;
  /** Nothing else in the input model reads this tensor (so the producer may be changed). */
  exclusive: boolean;
}

/** Input weights of the linear merge layers rewritten as Concatenate + identity-sum: Add, Average. */
const MERGE_WEIGHTS: Record<string, (i: number, n: number) => number> = {
  Add: () => 1,
  Average: (_i, n) => 1 / n,
};

/** Layers that do nothing at inference time. */
export const NOOP_LAYERS: ReadonlySet<string> = new Set([
  "Dropout",
  "SpatialDropout1D",
  "SpatialDropout2D",
  "SpatialDropout3D",
  "GaussianDropout",
  "GaussianNoise",
  "AlphaDropout",
  "ActivityRegularization",
  "Masking",
]);

/** Layers whose only job is an activation function (absorbed into the layer they follow). */
export const ACTIVATION_LAYERS: ReadonlySet<string> = new Set(["Activation", "ReLU", "Softmax"]);

/** Layers the parser turns into something a spiking network can implement. */
export const SUPPORTED_LAYERS: ReadonlySet<string> = new Set([
  "InputLayer",
  "Dense",
  "Conv1D",
  "Conv2D",
  "Conv2DTranspose",
  "DepthwiseConv2D",
  "SeparableConv2D",
  "MaxPooling1D",
  "MaxPooling2D",
  "AveragePooling1D",
  "AveragePooling2D",
  "GlobalAveragePooling1D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling1D",
  "GlobalMaxPooling2D",
  "ZeroPadding2D",
  "Cropping2D",
  "UpSampling2D",
  "Flatten",
  "Reshape",
  "Permute",
  "Concatenate",
  "Add",
  "Average",
  "BatchNormalization",
  ...ACTIVATION_LAYERS,
  ...NOOP_LAYERS,
]);

const PARAMETRIC: Record<string, KernelKind> = {
  Dense: "dense",
  Conv1D: "conv",
  Conv2D: "conv",
  DepthwiseConv2D: "depthwise",
  Conv2DTranspose: "transpose",
};

const CONFIG_KEYS: Record<string, string[]> = {
  Dense: ["units"],
  Conv1D: ["filters", "kernelSize", "strides", "padding", "dilationRate"],
  Conv2D: ["filters", "kernelSize", "strides", "padding", "dilationRate"],
  Conv2DTranspose: ["filters", "kernelSize", "strides", "padding"],
  DepthwiseConv2D: ["kernelSize", "depthMultiplier", "strides", "padding", "dilationRate"],
  MaxPooling1D: ["poolSize", "strides", "padding"],
  MaxPooling2D: ["poolSize", "strides", "padding"],
  AveragePooling1D: ["poolSize", "strides", "padding"],
  AveragePooling2D: ["poolSize", "strides", "padding"],
  ZeroPadding2D: ["padding"],
  Cropping2D: ["cropping"],
  UpSampling2D: ["size", "interpolation"],
  Reshape: ["targetShape"],
  Permute: ["dims"],
  Concatenate: ["axis"],
  Flatten: [],
  BatchNormalization: ["axis", "epsilon"],
  Activation: ["activation"],
};

/** Keep only the constructor arguments the parsed layer of `type` needs. */
function pickConfig(type: string, config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS[type] ?? []) {
    if (config[k] !== undefined && config[k] !== null) out[k] = config[k];
  }
  return out;
}

function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function samePerm(a: number[] | undefined, b: number[] | undefined): boolean {
  const n = Math.max(a?.length ?? 0, b?.length ?? 0);
  const x = a ?? identity(n);
  const y = b ?? identity(n);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function isIdentity(p: number[] | undefined): boolean {
  return !p || p.every((v, i) => v === i);
}

/** Channels-first → channels-last permutation for a tensor of `rank` (without batch). */
function channelsLastPerm(rank: number): number[] | undefined {
  return rank >= 2 ? [...identity(rank).slice(1), 0] : undefined;
}

function permuteShape(shape: number[], perm: number[] | undefined): number[] {
  return perm ? perm.map((i) => shape[i]) : [...shape];
}

/**
 * For each element of flatten(transpose(S, p)) (in order), its index in
 * flatten(transpose(S, q)); `S` has `shape`.
 */
export function flatIndexMap(shape: number[], p: number[], q: number[]): Int32Array {
  const n = shape.length;
  const pShape = p.map((i) => shape[i]);
  const qShape = q.map((i) => shape[i]);
  const qStride = new Array(n).fill(1);
  for (let k = n - 2; k >= 0; k--) qStride[k] = qStride[k + 1] * qShape[k + 1];
  // Position of source axis a within q.
  const posInQ = new Array(n);
  q.forEach((a, k) => (posInQ[a] = k));
  const total = sizeOf(shape);
  const out = new Int32Array(total);
  const idx = new Array(n).fill(0); // multi-index in transpose(S, p)
  for (let j = 0; j < total; j++) {
    let qi = 0;
    for (let k = 0; k < n; k++) qi += idx[k] * qStride[posInQ[p[k]]];
    out[j] = qi;
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < pShape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Result of {@linkcode AbstractModelParser.evaluate}. */
export type { EvaluationScore };

/**
 * The abstract parser: the transforms of the Python toolbox's
 * `AbstractModelParser`, over the layers of a TF.js layers model (the input
 * model of every library). {@linkcode ModelParser} (`./model_parser.ts`)
 * implements how those layers are read.
 */
export abstract class AbstractModelParser {
  /** The loaded input model. */
  readonly inputModel: InputModel;
  /** The settings in effect. */
  readonly options: ParserOptions;
  /** The parsed layers, in order (filled by {@linkcode parse}). */
  layerList: LayerAttributes[] = [];
  /** The parsed model (filled by {@linkcode buildParsedModel}). */
  parsedModel?: LayersModel;
  /** Layers of the input model that were skipped as unsupported (with `skipUnsupported`). */
  skippedLayers: string[] = [];
  /** Permutation from the input model's input layout to the parsed model's (channels-last); `undefined` = same. */
  inputPerm?: number[];
  /** For each model output, the permutation from the source layout to the parsed layout; `undefined` = same. */
  outputPerms: (number[] | undefined)[] = [];

  private nextId = 0;
  private byId = new Map<string, LayerAttributes>();
  private outputIds: string[] = [];

  /** Create a parser for `inputModel`, reading settings from a `ToolboxConfig` or a plain options object. */
  constructor(inputModel: InputModel, config: ToolboxConfig | ParserOptions = {}) {
    this.inputModel = inputModel;
    this.options = isToolboxConfig(config) ? parserOptionsFromConfig(config) : { ...config };
  }

  // ---- per-library accessors ----------------------------------------------

  /** The layers of the input model in topological order. */
  abstract getLayerIterable(): Layer[];
  /** Layer class name in Keras terms (`Conv2D`, `BatchNormalization`, ...). */
  abstract getType(layer: Layer): string;
  /** A human-readable name of the layer in the input model (for messages). */
  abstract getLayerName(layer: Layer): string;
  /** Parameters of a BatchNormalization layer. */
  abstract getBatchnormParameters(layer: Layer): BatchNormParameters;
  /** Inbound layers of `layer`. */
  abstract getInboundLayers(layer: Layer): Layer[];
  /** Outbound layers of `layer` (within the model). */
  abstract getOutboundLayers(layer: Layer): Layer[];
  /** The layers whose outputs are the model's outputs. */
  abstract getOutputLayers(): Layer[];
  /** Whether `layer` has weights. */
  abstract hasWeights(layer: Layer): boolean;
  /** Input shape of the network without batch, in the input model's layout. */
  abstract getInputShape(): number[];
  /** Output shape of `layer` without batch, in the input model's layout. */
  abstract getOutputShape(layer: Layer): number[];
  /** Data format of a layer that has one (convolution, pooling, padding, Flatten); `undefined` otherwise. */
  abstract getDataFormat(layer: Layer): DataFormat | undefined;
  /** The activation string of `layer` (`"linear"` when it has none). */
  abstract getActivation(layer: Layer): string;
  /** Fill `attributes.parameters` (`[kernel [in, out], bias]`) of a Dense layer. */
  abstract parseDense(layer: Layer, attributes: LayerAttributes): void;
  /** Fill `attributes.parameters` (`[kernel, bias]`) of a Conv1D/Conv2D/Conv2DTranspose layer. */
  abstract parseConvolution(layer: Layer, attributes: LayerAttributes): void;
  /** Fill `attributes.parameters` (`[depthwiseKernel, bias]`) of a DepthwiseConv2D layer. */
  abstract parseDepthwiseConvolution(layer: Layer, attributes: LayerAttributes): void;
  /** Return `[depthwiseKernel, pointwiseKernel, bias]` of a SeparableConv2D layer. */
  abstract getSeparableParameters(layer: Layer): [Float32NDArray, Float32NDArray, Float32NDArray];
  /** Complete the attributes of a pooling layer (`poolSize`, `strides`, `padding`). */
  abstract parsePooling(layer: Layer, attributes: LayerAttributes): void;
  /** Complete the attributes of a Concatenate layer (`axis` in the source layout). */
  abstract parseConcatenate(layer: Layer, attributes: LayerAttributes): void;

  /** The layer's constructor arguments (TF.js camelCase), used as the start of its parsed attributes. */
  initializeAttributes(_layer?: Layer): Record<string, unknown> {
    return {};
  }

  /** Layer types that are removed (their input passes through). */
  get layersToSkip(): ReadonlySet<string> {
    return NOOP_LAYERS;
  }

  // ---- names ----------------------------------------------------------------

  /** Zero-pad a layer index to the width of the largest index (at least 2 digits). */
  formatLayerIdx(idx: number): string {
    const width = Math.max(2, String(Math.max(this.layerList.length - 1, 0)).length);
    return String(idx).padStart(width, "0");
  }

  /** `<idx><layerType>_<shape>`, e.g. `00Conv2D_28x28x32`, `06Dense_100` (channels-last shape). */
  getName(layerType: string, outputShape: readonly number[], idx: number): string {
    const shape = outputShape.length ? `_${outputShape.join("x")}` : "";
    return `${this.formatLayerIdx(idx)}${layerType}${shape}`;
  }

  // ---- parse ----------------------------------------------------------------

  /**
   * Extract the network into {@linkcode layerList}, applying every
   * simplification (see the module documentation). Throws
   * `UnsupportedLayerError` naming every layer an SNN cannot implement
   * (unless `skipUnsupported`).
   */
  parse(): LayerAttributes[] {
    try {
      return this.parseLayers();
    } catch (err) {
      throw asToolboxError(err, this.inputModel.path, "parse the model");
    }
  }

  /** The work of {@linkcode parse}, whose errors `parse` makes name the model file. */
  private parseLayers(): LayerAttributes[] {
    this.layerList = [];
    this.byId.clear();
    this.skippedLayers = [];
    this.nextId = 0;
    const layers = this.getLayerIterable();
    this.checkSupported(layers);

    const inputShape = this.getInputShape();
    this.inputPerm = this.channelsFirstInput(layers, inputShape)
      ? channelsLastPerm(inputShape.length)
      : undefined;
    const inputRef: TensorRef = { id: "input", srcShape: inputShape, perm: this.inputPerm, exclusive: false };

    const refs = new Map<Layer, TensorRef>();
    const refOf = (l: Layer): TensorRef => {
      const r = refs.get(l);
      if (r) return r;
      if (this.getType(l) === "InputLayer") return inputRef;
      throw new ModelFormatError(
        `${this.inputModel.path}: layer '${
          this.getLayerName(l)
        }' is used before it is defined (layers not in topological order)`,
      );
    };
    for (const layer of layers) {
      const type = this.getType(layer);
      if (type === "InputLayer") {
        refs.set(layer, inputRef);
        continue;
      }
      const ins = this.getInboundLayers(layer).map(refOf);
      if (ins.length === 0) {
        throw new ModelFormatError(
          `${this.inputModel.path}: layer '${this.getLayerName(layer)}' has no input`,
        );
      }
      refs.set(layer, this.parseLayer(layer, type, ins));
    }
    const outputs = this.getOutputLayers().map((l) => this.materializeFlat(refOf(l)));
    this.applyAppendSoftmax(outputs);
    this.outputIds = outputs.map((r) => r.id);
    this.outputPerms = outputs.map((r) => (isIdentity(r.perm) ? undefined : r.perm));
    this.finalizeNames();
    return this.layerList;
  }

  /**
   * Whether the parsed model takes the input channels-last: channels_first
   * images (C,H,W) always; other ranks ≥ 2 (NCW sequences) when a layer
   * reading the input (through no-ops) computes channels_first, so a plain
   * (T,F) input of Dense layers is not transposed.
   */
  private channelsFirstInput(layers: Layer[], inputShape: number[]): boolean {
    if (this.inputModel.dataFormat !== "channels_first" || inputShape.length < 2) return false;
    if (inputShape.length === 3) return true;
    const outputs = new Set(this.getOutputLayers());
    const input = layers.find((l) => this.getType(l) === "InputLayer") ??
      layers.flatMap((l) => this.getInboundLayers(l)).find((l) => this.getType(l) === "InputLayer");
    if (!input) return false;
    return this.consumersThrough(input, outputs).consumers.some((l) =>
      this.getDataFormat(l) === "channels_first"
    );
  }

  /** Throw one UnsupportedLayerError naming every unsupported layer (or record them when skipping). */
  private checkSupported(layers: Layer[]): void {
    const bad = layers.filter((l) => !SUPPORTED_LAYERS.has(this.getType(l)));
    if (bad.length === 0) return;
    const list = bad.map((l) => `'${this.getLayerName(l)}' (${this.getType(l)})`).join(", ");
    if (this.options.skipUnsupported) {
      this.skippedLayers = bad.map((l) => this.getLayerName(l));
      this.log(`skipping layers an SNN cannot implement: ${list}`);
      return;
    }
    throw new UnsupportedLayerError(
      `${this.inputModel.path}: ${bad.length} layer(s) cannot be converted to a spiking network: ${list}. ` +
        `Supported layer types: ${[...SUPPORTED_LAYERS].sort().join(", ")}. ` +
        `Set [restrictions] skip_unsupported_layers = True to pass them through unchanged.`,
      { file: this.inputModel.path },
    );
  }

  /** Pass a progress note to `options.log`. */
  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Dispatch one input-model layer to its parse rule; returns the tensor it produces. */
  private parseLayer(layer: Layer, type: string, ins: TensorRef[]): TensorRef {
    const exclusive = this.getOutboundLayers(layer).length === 1;
    if (this.layersToSkip.has(type) || !SUPPORTED_LAYERS.has(type)) {
      return { ...ins[0], exclusive: ins[0].exclusive && exclusive };
    }
    if (ACTIVATION_LAYERS.has(type)) return this.parseActivationLayer(layer, type, ins[0], exclusive);
    if (type === "BatchNormalization") return this.parseBatchNorm(layer, ins[0], exclusive);
    if (type in PARAMETRIC) return this.parseParametric(layer, type, ins[0], exclusive);
    if (type === "SeparableConv2D") return this.parseSeparable(layer, ins[0], exclusive);
    if (type.startsWith("Global")) return this.parseGlobalPooling(layer, type, ins[0], exclusive);
    if (type.includes("Pooling") || ["ZeroPadding2D", "Cropping2D", "UpSampling2D"].includes(type)) {
      return this.parseSpatial(layer, type, ins[0], exclusive);
    }
    if (type === "Flatten") return this.parseFlatten(layer, ins[0], exclusive);
    if (type === "Reshape" || type === "Permute") return this.parseReshape(layer, type, ins[0], exclusive);
    if (type === "Concatenate") return this.parseConcatenateLayer(layer, ins, exclusive);
    if (type in MERGE_WEIGHTS) return this.parseAdd(layer, type, ins, exclusive);
    throw new UnsupportedLayerError(`${this.inputModel.path}: no parse rule for layer type ${type}`);
  }

  // ---- emitting parsed layers -------------------------------------------------

  /** Append a parsed layer made by the parser itself (not read from a source layer). */
  private emit(
    layerType: string,
    config: Record<string, unknown>,
    inbound: TensorRef[],
    outputShape: number[],
    extra: Partial<LayerAttributes> = {},
  ): LayerAttributes {
    const id = `#${this.nextId++}`;
    const attrs: LayerAttributes = {
      layerType,
      name: id,
      inbound: inbound.map((r) => r.id),
      config,
      absorbed: [],
      outputShape,
      ...extra,
    };
    this.layerList.push(attrs);
    this.byId.set(id, attrs);
    return attrs;
  }

  /** The tensor reference for the output of a parsed layer. */
  private refFor(
    attrs: LayerAttributes,
    srcShape: number[],
    perm: number[] | undefined,
    exclusive: boolean,
  ): TensorRef {
    return {
      id: attrs.name,
      srcShape,
      perm: isIdentity(perm) ? undefined : perm,
      producer: attrs,
      exclusive,
    };
  }

  /** Shape of a tensor in the parsed (channels-last) model. */
  private parsedShape(ref: TensorRef): number[] {
    return permuteShape(ref.srcShape, ref.perm);
  }

  /** Bring `ref` to layout `want` (transpose of the source tensor), inserting one Permute if needed. */
  private ensurePerm(ref: TensorRef, want: number[] | undefined): TensorRef {
    ref = this.materializeFlat(ref);
    if (samePerm(ref.perm, want)) return ref;
    const n = ref.srcShape.length;
    const p = ref.perm ?? identity(n);
    const w = want ?? identity(n);
    const inv = new Array(n);
    p.forEach((a, k) => (inv[a] = k));
    const dims = w.map((a) => inv[a] + 1);
    const attrs = this.emit("Permute", { dims }, [ref], permuteShape(ref.srcShape, w), {
      absorbed: ["layout change (no exact rewrite available)"],
    });
    return this.refFor(attrs, ref.srcShape, w, ref.exclusive);
  }

  /** A flat tensor still in a pending row order becomes an ordinary tensor (Reshape + Permute + Flatten). */
  private materializeFlat(ref: TensorRef): TensorRef {
    if (!ref.rowMap) return ref;
    const n = ref.rowMap.length;
    // A Dense with a permutation matrix reorders exactly.
    const kernel = new Float32Array(n * n);
    for (let j = 0; j < n; j++) kernel[j * n + ref.rowMap[j]] = 1;
    const attrs = this.emit("Dense", { units: n }, [ref], [n], {
      parameters: [
        { data: kernel, shape: [n, n], dtype: "float32" },
        { data: new Float32Array(n), shape: [n], dtype: "float32" },
      ],
      activation: "linear",
      absorbed: ["reorder of a channels_first flatten"],
    });
    return this.refFor(attrs, ref.srcShape, undefined, ref.exclusive);
  }

  // ---- activations ----------------------------------------------------------------

  /** Apply `softmax_to_relu` and register custom activation strings. */
  private resolveActivation(activation: string): string {
    if (activation === "softmax" && this.options.softmaxToRelu) {
      this.log("replacing softmax by relu");
      return "relu";
    }
    registerCustomActivation(activation);
    return activation;
  }

  /** The activation string an Activation/ReLU/Softmax layer applies. */
  private activationOfLayer(layer: Layer, type: string): string {
    if (type === "Softmax") return "softmax";
    if (type === "ReLU") {
      const cfg = this.initializeAttributes(layer);
      const max = cfg.maxValue;
      if (typeof max === "number") return clampedReluName(0, max);
      return "relu";
    }
    return this.getActivation(layer);
  }

  /** Absorb an activation layer into the layer that owns its input, else keep it as an Activation layer. */
  private parseActivationLayer(layer: Layer, type: string, ref: TensorRef, exclusive: boolean): TensorRef {
    const activation = this.resolveActivation(this.activationOfLayer(layer, type));
    const name = this.getLayerName(layer);
    if (activation === "linear") return { ...ref, exclusive: ref.exclusive && exclusive };
    // Softmax normalizes the last axis as the source lays it out.
    if (activation === "softmax" && !isIdentity(ref.perm)) ref = this.ensurePerm(ref, undefined);
    const prod = ref.producer;
    if (
      prod && ref.exclusive && prod.activation === "linear" && prod.layerType in PARAMETRIC && !ref.rowMap
    ) {
      prod.activation = activation;
      prod.absorbed.push(`${type}(${name}): ${activation}`);
      return { ...ref, exclusive: exclusive };
    }
    const attrs = this.emit("Activation", { activation }, [ref], this.parsedShape(ref), {
      activation,
      sourceName: name,
    });
    return { ...this.refFor(attrs, ref.srcShape, ref.perm, exclusive), rowMap: ref.rowMap };
  }

  /** `append_softmax`: give linear Dense output layers a softmax. */
  private applyAppendSoftmax(outputs: TensorRef[]): void {
    if (!this.options.appendSoftmax) return;
    for (const r of outputs) {
      const p = r.producer;
      if (p && p.layerType === "Dense" && p.activation === "linear") {
        p.activation = "softmax";
        p.absorbed.push("append_softmax");
      }
    }
  }

  // ---- batch normalization ------------------------------------------------------------

  /** The channel axis (batch = 0) of a tensor in the source layout. */
  private channelAxis(ref: TensorRef, format: DataFormat | undefined): number {
    const rank = ref.srcShape.length + 1;
    return format === "channels_first" && rank > 2 ? 1 : rank - 1;
  }

  /** Source data format of the tensor a layer produced. */
  private producerFormat(ref: TensorRef): DataFormat {
    return ref.perm && ref.srcShape.length >= 2 ? "channels_first" : "channels_last";
  }

  /** Fold a BatchNormalization into the layer before it, else keep it as a per-channel affine layer. */
  private parseBatchNorm(layer: Layer, ref: TensorRef, exclusive: boolean): TensorRef {
    const bn = this.getBatchnormParameters(layer);
    const name = this.getLayerName(layer);
    const rank = ref.srcShape.length + 1;
    const axis = bn.axis < 0 ? rank + bn.axis : bn.axis;
    const prod = ref.producer;
    const format = this.producerFormat(ref);
    if (
      prod && ref.exclusive && !ref.rowMap && prod.layerType in PARAMETRIC && prod.activation === "linear" &&
      prod.parameters && axis === this.channelAxis(ref, format)
    ) {
      const kind = PARAMETRIC[prod.layerType];
      const [w, b] = absorbBnParameters(
        prod.parameters[0],
        prod.parameters[1],
        bn.mean,
        bn.varEpsSqrtInv,
        bn.gamma,
        bn.beta,
        { axis, imageDataFormat: format, kind },
      );
      prod.parameters = [w, b];
      prod.absorbed.push(`BatchNormalization(${name})`);
      this.log(`absorbing batch-normalization ${name} into ${prod.layerType}`);
      return { ...ref, exclusive };
    }
    // Kept as a per-channel affine layer: y = x·a + c (may still be folded forward).
    ref = this.materializeFlat(ref);
    const n = bn.mean.length;
    const a = new Float32Array(n);
    const c = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = bn.gamma[i] * bn.varEpsSqrtInv[i];
      c[i] = bn.beta[i] - bn.mean[i] * a[i];
    }
    const parsedAxis = this.mapAxis(ref, axis);
    const vec = (d: Float32Array): Float32NDArray => ({ data: d, shape: [n], dtype: "float32" });
    const attrs = this.emit(
      "BatchNormalization",
      { axis: parsedAxis, epsilon: 0 },
      [ref],
      this.parsedShape(ref),
      {
        parameters: [vec(a), vec(c), vec(new Float32Array(n)), vec(new Float32Array(n).fill(1))],
        absorbed: [`BatchNormalization(${name}) kept as per-channel affine`],
        sourceName: name,
      },
    );
    return this.refFor(attrs, ref.srcShape, ref.perm, exclusive);
  }

  /** Map a source axis (with batch = 0) to the parsed layout's axis. */
  private mapAxis(ref: TensorRef, axis: number): number {
    if (!ref.perm) return axis;
    return ref.perm.indexOf(axis - 1) + 1;
  }

  /**
   * If `ref` comes straight from a kept affine BatchNormalization that only
   * this layer reads, fold it into `attrs` (exact for Dense and for
   * convolutions without zero padding) and return the BN's input instead.
   */
  private foldForward(ref: TensorRef, attrs: LayerAttributes, kind: KernelKind): TensorRef {
    const bn = ref.producer;
    if (!bn || bn.layerType !== "BatchNormalization" || !ref.exclusive || !attrs.parameters) return ref;
    const rank = bn.outputShape.length + 1;
    if (bn.config.axis !== rank - 1) return ref;
    const padded = attrs.config.padding !== undefined && attrs.config.padding !== "valid";
    const [a, c] = bn.parameters!.map((p) => p.data);
    if (padded && c.some((v) => v !== 0)) return ref;
    if (kind === "transpose") return ref;
    const [w, b] = attrs.parameters;
    const shape = w.shape;
    const nd = shape.length;
    const inAxis = kind === "dense" ? 0 : nd - 2;
    const inner = sizeOf(shape.slice(inAxis + 1));
    const nIn = shape[inAxis];
    if (nIn !== a.length) return ref;
    const nw = new Float32Array(w.data.length);
    const nb = Float32Array.from(b.data);
    const mult = kind === "depthwise" ? shape[nd - 1] : 1;
    for (let i = 0; i < w.data.length; i++) {
      const ch = Math.floor(i / inner) % nIn;
      nw[i] = w.data[i] * a[ch];
      const o = kind === "depthwise" ? ch * mult + (i % mult) : i % inner;
      nb[o] += w.data[i] * c[ch];
    }
    attrs.parameters = [{ ...w, data: nw }, { ...b, data: nb }];
    attrs.absorbed.push(
      ...bn.absorbed.map((s) => s.replace(" kept as per-channel affine", " folded forward")),
    );
    this.layerList.splice(this.layerList.indexOf(bn), 1);
    this.byId.delete(bn.name);
    const inId = bn.inbound[0];
    const inProducer = this.byId.get(inId);
    return { id: inId, srcShape: ref.srcShape, perm: ref.perm, producer: inProducer, exclusive: false };
  }

  // ---- parametric layers ------------------------------------------------------------------

  /** The parsed layout a layer with a data format needs its input in. */
  private wantedPerm(layer: Layer, ref: TensorRef): number[] | undefined {
    return this.getDataFormat(layer) === "channels_first" ? channelsLastPerm(ref.srcShape.length) : undefined;
  }

  /** Fresh parsed attributes for a source layer. */
  private newAttributes(layer: Layer, type: string, ref: TensorRef, outShape: number[]): LayerAttributes {
    const cfg = this.initializeAttributes(layer);
    return {
      layerType: type,
      name: "",
      inbound: [ref.id],
      config: pickConfig(type, cfg),
      absorbed: [],
      outputShape: outShape,
      sourceName: this.getLayerName(layer),
      qmf: Array.isArray(cfg["Qm.f"]) ? (cfg["Qm.f"] as [number, number]) : undefined,
    };
  }

  /** Hook: insert a Flatten when `layer` (flat) reads a spatial tensor without one (Caffe/Lasagne style). */
  tryInsertFlatten(layer: Layer, type: string, ref: TensorRef): TensorRef {
    const out = this.getOutputShape(layer);
    if (type !== "Dense" || ref.srcShape.length <= 1 || out.length >= ref.srcShape.length + 0) return ref;
    this.log(`inserting Flatten before ${this.getLayerName(layer)}`);
    return this.flattenRef(ref, undefined, [layer], this.getLayerName(layer));
  }

  /** Parse a Dense/Conv1D/Conv2D/Conv2DTranspose/DepthwiseConv2D layer. */
  private parseParametric(layer: Layer, type: string, ref: TensorRef, exclusive: boolean): TensorRef {
    const kind = PARAMETRIC[type];
    let want: number[] | undefined;
    if (type === "Dense") {
      ref = this.tryInsertFlatten(layer, type, ref);
      // Dense reads the last axis of the tensor as the source lays it out.
      if (!ref.rowMap) ref = this.ensurePerm(ref, undefined);
    } else {
      want = this.wantedPerm(layer, ref);
      ref = this.ensurePerm(ref, want);
    }
    const srcOut = this.getOutputShape(layer);
    const outPerm = type === "Dense" ? undefined : want;
    const attrs = this.newAttributes(layer, type, ref, permuteShape(srcOut, outPerm));
    if (type === "Dense") this.parseDense(layer, attrs);
    else if (kind === "depthwise") this.parseDepthwiseConvolution(layer, attrs);
    else this.parseConvolution(layer, attrs);
    if (!attrs.parameters || attrs.parameters.length < 2) {
      throw new ModelFormatError(
        `${this.inputModel.path}: layer '${attrs.sourceName}' (${type}) has no weights`,
      );
    }
    if (ref.rowMap) {
      attrs.parameters[0] = permuteRows(attrs.parameters[0], ref.rowMap);
      attrs.absorbed.push("rows permuted: channels_first flatten → channels_last");
      ref = { ...ref, rowMap: undefined };
    }
    ref = this.foldForward(ref, attrs, kind);
    attrs.inbound = [ref.id];
    this.modifyParameterPrecision(attrs);
    attrs.activation = this.resolveActivation(this.getActivation(layer));
    if (attrs.activation === "softmax" && !isIdentity(outPerm)) {
      // Softmax normalizes the last axis as the source lays it out: apply it after a layout change.
      attrs.activation = "linear";
      const out = this.ensurePerm(this.push(attrs, srcOut, outPerm, true), undefined);
      const act = this.emit("Activation", { activation: "softmax" }, [out], srcOut, {
        activation: "softmax",
        sourceName: attrs.sourceName,
      });
      return this.refFor(act, srcOut, undefined, exclusive);
    }
    return this.push(attrs, srcOut, outPerm, exclusive);
  }

  /** Append parsed attributes built from a source layer. */
  private push(
    attrs: LayerAttributes,
    srcShape: number[],
    perm: number[] | undefined,
    exclusive: boolean,
  ): TensorRef {
    attrs.name = `#${this.nextId++}`;
    this.layerList.push(attrs);
    this.byId.set(attrs.name, attrs);
    return this.refFor(attrs, srcShape, perm, exclusive);
  }

  /** `[cell] binarize_weights` / `quantize_weights` on a parsed Dense/Conv layer. */
  private modifyParameterPrecision(attrs: LayerAttributes): void {
    if (!attrs.parameters) return;
    const [w, b] = attrs.parameters;
    if (this.options.binarizeWeights) {
      attrs.parameters = [{ ...w, data: binarize(w.data) }, b];
      attrs.absorbed.push("weights binarized");
    } else if (this.options.quantizeWeights) {
      const qmf = attrs.qmf ??
        (this.options.weightPrecision ? parseQmf(this.options.weightPrecision) : undefined);
      if (!qmf) {
        throw new ConfigError(
          `[cell] quantize_weights = True, but layer '${attrs.sourceName}' states no fixed point format Qm.f ` +
            `and [cell] weight_precision is not set (e.g. weight_precision = Q1.15)`,
        );
      }
      const [m, f] = qmf;
      attrs.parameters = [
        { ...w, data: reducePrecision(w.data, m, f) },
        this.options.quantizeBias ? { ...b, data: reducePrecision(b.data, m, f) } : b,
      ];
      attrs.absorbed.push(`weights quantized to Q${m}.${f}`);
    }
    delete attrs.qmf;
  }

  /** Split a SeparableConv2D into DepthwiseConv2D + 1×1 Conv2D. */
  private parseSeparable(layer: Layer, ref: TensorRef, exclusive: boolean): TensorRef {
    const want = this.wantedPerm(layer, ref);
    ref = this.ensurePerm(ref, want);
    const [dw, pw, bias] = this.getSeparableParameters(layer);
    const cfg = this.initializeAttributes(layer);
    const name = this.getLayerName(layer);
    const srcOut = this.getOutputShape(layer);
    const outShape = permuteShape(srcOut, want);
    const inC = dw.shape[2];
    const mult = dw.shape[3];
    const dwShape = [...outShape.slice(0, -1), inC * mult];
    const dwAttrs = this.emit(
      "DepthwiseConv2D",
      {
        ...pickConfig("DepthwiseConv2D", cfg),
        depthMultiplier: mult,
      },
      [ref],
      dwShape,
      {
        parameters: [dw, { data: new Float32Array(inC * mult), shape: [inC * mult], dtype: "float32" }],
        activation: "linear",
        absorbed: [`SeparableConv2D(${name}): depthwise part`],
        sourceName: name,
      },
    );
    this.modifyParameterPrecision(dwAttrs);
    const dwRef = this.refFor(dwAttrs, srcOut, want, true);
    const pwAttrs = this.emit(
      "Conv2D",
      {
        filters: pw.shape[3],
        kernelSize: [1, 1],
        strides: [1, 1],
        padding: "valid",
      },
      [dwRef],
      outShape,
      {
        parameters: [pw, bias],
        absorbed: [`SeparableConv2D(${name}): pointwise part`],
        sourceName: name,
      },
    );
    this.modifyParameterPrecision(pwAttrs);
    pwAttrs.activation = this.resolveActivation(this.getActivation(layer));
    return this.refFor(pwAttrs, srcOut, want, exclusive);
  }

  // ---- layers without parameters -------------------------------------------------------------

  /** The parsed layer type of a (pooling) layer type: `max2avg_pool` turns MaxPooling2D into AveragePooling2D. */
  private poolingType(type: string): string {
    return type === "MaxPooling2D" && this.options.max2avgPool ? "AveragePooling2D" : type;
  }

  /** Parse pooling, padding, cropping and upsampling layers. */
  private parseSpatial(layer: Layer, type: string, ref: TensorRef, exclusive: boolean): TensorRef {
    const want = this.wantedPerm(layer, ref);
    ref = this.ensurePerm(ref, want);
    const parsedType = this.poolingType(type);
    const srcOut = this.getOutputShape(layer);
    // Max and average pooling take the same constructor arguments.
    const attrs = this.newAttributes(layer, parsedType, ref, permuteShape(srcOut, want));
    if (parsedType !== type) attrs.absorbed.push("max2avg_pool: MaxPooling2D → AveragePooling2D");
    if (type.includes("Pooling")) this.parsePooling(layer, attrs);
    return this.push(attrs, srcOut, want, exclusive);
  }

  /** Global pooling → pooling over the whole map + Flatten. */
  private parseGlobalPooling(layer: Layer, type: string, ref: TensorRef, exclusive: boolean): TensorRef {
    const want = this.wantedPerm(layer, ref);
    ref = this.ensurePerm(ref, want);
    const parsedIn = this.parsedShape(ref);
    const spatial = parsedIn.slice(0, -1);
    const channels = parsedIn[parsedIn.length - 1];
    const is2d = type.endsWith("2D");
    const poolType = this.poolingType(
      (type.includes("Average") ? "AveragePooling" : "MaxPooling") + (is2d ? "2D" : "1D"),
    );
    const name = this.getLayerName(layer);
    const pool = this.emit(
      poolType,
      {
        poolSize: spatial,
        strides: spatial.map(() => 1),
        padding: "valid",
      },
      [ref],
      [...spatial.map(() => 1), channels],
      {
        absorbed: [`${type}(${name}) → ${poolType} + Flatten`],
        sourceName: name,
      },
    );
    const flat = this.emit("Flatten", {}, [this.refFor(pool, [], undefined, true)], [channels], {
      sourceName: name,
    });
    return this.refFor(flat, this.getOutputShape(layer), undefined, exclusive);
  }

  /** Which layers read `layer`'s output, looking through no-ops and activation layers. */
  private consumersThrough(layer: Layer, outputs: Set<Layer>): { consumers: Layer[]; isOutput: boolean } {
    const consumers: Layer[] = [];
    let isOutput = outputs.has(layer);
    for (const o of this.getOutboundLayers(layer)) {
      const t = this.getType(o);
      if (this.layersToSkip.has(t) || ACTIVATION_LAYERS.has(t)) {
        const sub = this.consumersThrough(o, outputs);
        consumers.push(...sub.consumers);
        isOutput ||= sub.isOutput;
      } else consumers.push(o);
    }
    return { consumers, isOutput };
  }

  /** Parse a Flatten layer (Keras ≥ 2.2 channels_first semantics or as laid out). */
  private parseFlatten(layer: Layer, ref: TensorRef, exclusive: boolean): TensorRef {
    const cfFlatten = this.getDataFormat(layer) === "channels_first";
    const order = cfFlatten ? channelsLastPerm(ref.srcShape.length) : undefined;
    const out = this.flattenRef(ref, order, this.getOutboundLayers(layer), this.getLayerName(layer), layer);
    return { ...out, exclusive };
  }

  /**
   * Flatten `ref` so that the result equals the source's flatten of
   * transpose(S, order); uses a plain Flatten when the layouts agree, a
   * Dense row permutation when every consumer is a Dense, else a Permute.
   */
  private flattenRef(
    ref: TensorRef,
    order: number[] | undefined,
    consumers: Layer[],
    sourceName: string,
    flattenLayer?: Layer,
  ): TensorRef {
    ref = this.materializeFlat(ref);
    const n = sizeOf(ref.srcShape);
    if (ref.srcShape.length <= 1) return ref;
    if (!samePerm(ref.perm, order)) {
      let allDense = true;
      const outputs = new Set(this.getOutputLayers());
      if (flattenLayer) {
        const through = this.consumersThrough(flattenLayer, outputs);
        allDense = !through.isOutput && through.consumers.length > 0 &&
          through.consumers.every((c) => this.getType(c) === "Dense");
      } else allDense = consumers.every((c) => this.getType(c) === "Dense");
      if (allDense) {
        const dims = ref.srcShape.length;
        const rowMap = flatIndexMap(ref.srcShape, ref.perm ?? identity(dims), order ?? identity(dims));
        const attrs = this.emit("Flatten", {}, [ref], [n], { sourceName });
        return { ...this.refFor(attrs, [n], undefined, ref.exclusive), rowMap };
      }
      ref = this.ensurePerm(ref, order);
    }
    const attrs = this.emit("Flatten", {}, [ref], [n], { sourceName });
    return this.refFor(attrs, [n], undefined, ref.exclusive);
  }

  /** Parse Reshape/Permute in the source layout. */
  private parseReshape(layer: Layer, type: string, ref: TensorRef, exclusive: boolean): TensorRef {
    ref = this.ensurePerm(ref, undefined);
    const srcOut = this.getOutputShape(layer);
    const attrs = this.newAttributes(layer, type, ref, srcOut);
    if (type === "Reshape") attrs.config = { targetShape: srcOut };
    return this.push(attrs, srcOut, undefined, exclusive);
  }

  /** Bring several tensors to one layout (for Concatenate/Add). */
  private commonLayout(ins: TensorRef[]): TensorRef[] {
    const flat = ins.map((r) => this.materializeFlat(r));
    if (flat.every((r) => samePerm(r.perm, flat[0].perm))) return flat;
    return flat.map((r) => this.ensurePerm(r, undefined));
  }

  /** Parse a Concatenate layer, mapping its axis to channels-last. */
  private parseConcatenateLayer(layer: Layer, ins: TensorRef[], exclusive: boolean): TensorRef {
    ins = this.commonLayout(ins);
    const srcOut = this.getOutputShape(layer);
    const perm = ins[0].perm;
    const attrs = this.newAttributes(layer, "Concatenate", ins[0], permuteShape(srcOut, perm));
    attrs.inbound = ins.map((r) => r.id);
    attrs.config = {};
    this.parseConcatenate(layer, attrs);
    const rank = srcOut.length + 1;
    const axisRaw = Number(attrs.config.axis ?? -1);
    const axis = axisRaw < 0 ? rank + axisRaw : axisRaw;
    attrs.config = { axis: this.mapAxis({ ...ins[0], srcShape: srcOut }, axis) };
    return this.push(attrs, srcOut, perm, exclusive);
  }

  /**
   * Add/Average → Concatenate + a 1×1 convolution (Dense for flat tensors)
   * whose kernel sums the inputs channel by channel with weights 1 / 1/n.
   */
  private parseAdd(layer: Layer, mergeType: string, ins: TensorRef[], exclusive: boolean): TensorRef {
    ins = this.commonLayout(ins);
    const name = this.getLayerName(layer);
    const srcOut = this.getOutputShape(layer);
    const perm = ins[0].perm;
    const shape = permuteShape(srcOut, perm);
    const c = shape[shape.length - 1];
    const k = ins.length;
    const concat = this.emit("Concatenate", { axis: -1 }, ins, [...shape.slice(0, -1), k * c], {
      absorbed: [`${mergeType}(${name}) → Concatenate + identity-sum`],
      sourceName: name,
    });
    const weight = MERGE_WEIGHTS[mergeType];
    const kernel = new Float32Array(k * c * c);
    for (let i = 0; i < k; i++) for (let ch = 0; ch < c; ch++) kernel[(i * c + ch) * c + ch] = weight(i, k);
    const spatial = shape.length - 1;
    const type = spatial === 0 ? "Dense" : spatial === 1 ? "Conv1D" : "Conv2D";
    const kshape = [...new Array(spatial).fill(1), k * c, c];
    const config: Record<string, unknown> = type === "Dense" ? { units: c } : {
      filters: c,
      kernelSize: new Array(spatial).fill(1),
      strides: new Array(spatial).fill(1),
      padding: "valid",
    };
    const sum = this.emit(type, config, [this.refFor(concat, [], undefined, true)], shape, {
      parameters: [
        { data: kernel, shape: kshape, dtype: "float32" },
        { data: new Float32Array(c), shape: [c], dtype: "float32" },
      ],
      activation: "linear",
      absorbed: [`${mergeType}(${name}): identity-sum of ${k} inputs`],
      sourceName: name,
    });
    return this.refFor(sum, srcOut, perm, exclusive);
  }

  /** Give every parsed layer its `<idx><Type>_<shape>` name and rewrite references. */
  private finalizeNames(): void {
    const rename = new Map<string, string>([["input", "input"]]);
    this.layerList.forEach((a, i) => {
      const name = this.getName(a.layerType, a.outputShape, i);
      rename.set(a.name, name);
      a.name = name;
    });
    for (const a of this.layerList) a.inbound = a.inbound.map((id) => rename.get(id) ?? id);
    this.outputIds = this.outputIds.map((id) => rename.get(id) ?? id);
    this.byId = new Map(this.layerList.map((a) => [a.name, a]));
  }

  // ---- building and evaluating -------------------------------------------------------------

  /** Parsed input shape without batch (channels-last). */
  getParsedInputShape(): number[] {
    return permuteShape(this.getInputShape(), this.inputPerm);
  }

  /** Names of the parsed layers producing the model outputs (`"input"` if an output is the input). */
  get outputNames(): string[] {
    return [...this.outputIds];
  }

  /**
   * Build the parsed model (channels-last `tf.LayersModel`) from
   * {@linkcode layerList}; call {@linkcode parse} first.
   */
  buildParsedModel(): LayersModel {
    if (this.layerList.length === 0 && this.outputIds.length === 0) this.parse();
    try {
      this.parsedModel = buildModelFromAttributes(this.layerList, this.getParsedInputShape(), this.outputIds);
    } catch (err) {
      throw asToolboxError(err, this.inputModel.path, "build the parsed model");
    }
    return this.parsedModel;
  }

  /**
   * Save every parameter of the parsed layers, in layer order, to an HDF5
   * file the Python toolbox's `load_parameters` reads (`param_000`, ...).
   */
  async saveParameters(path: string): Promise<void> {
    if (this.layerList.length === 0) this.parse();
    await saveParameters(this.layerList.flatMap((l) => l.parameters ?? []), path);
  }

  /**
   * Evaluate the parsed model on `x` (in the input model's own layout, e.g.
   * NCHW for channels_first models) and labels `y` (one-hot or class
   * indices): categorical cross-entropy loss, top-1 and top-k accuracy.
   */
  evaluate(
    batchSize: number | undefined,
    numToTest: number | undefined,
    x: NDArray,
    y: NDArray,
    topK = 5,
  ): Promise<EvaluationScore> {
    const model = this.parsedModel ?? this.buildParsedModel();
    const opts: EvaluateOptions = { batchSize: batchSize ?? this.options.batchSize, numToTest, topK };
    if (this.inputPerm) opts.inputPerm = this.inputPerm;
    return evaluateModel(model, x, y, opts);
  }
}

function permuteRows(kernel: Float32NDArray, rowMap: Int32Array): Float32NDArray {
  const [rows, cols] = kernel.shape;
  if (rows !== rowMap.length) {
    throw new ModelFormatError(
      `Dense kernel has ${rows} rows, the flattened input has ${rowMap.length} elements`,
    );
  }
  const out = new Float32Array(kernel.data.length);
  for (let j = 0; j < rows; j++) {
    out.set(kernel.data.subarray(rowMap[j] * cols, rowMap[j] * cols + cols), j * cols);
  }
  return { ...kernel, data: out };
}

type LayerFactory = (args: Record<string, unknown>) => tf.layers.Layer;

// deno-lint-ignore no-explicit-any
const f = (fn: (a: any) => tf.layers.Layer): LayerFactory => fn;

const FACTORIES: Record<string, LayerFactory> = {
  Dense: f(tf.layers.dense),
  Conv1D: f(tf.layers.conv1d),
  Conv2D: f(tf.layers.conv2d),
  Conv2DTranspose: f(tf.layers.conv2dTranspose),
  DepthwiseConv2D: f(tf.layers.depthwiseConv2d),
  MaxPooling1D: f(tf.layers.maxPooling1d),
  MaxPooling2D: f(tf.layers.maxPooling2d),
  AveragePooling1D: f(tf.layers.averagePooling1d),
  AveragePooling2D: f(tf.layers.averagePooling2d),
  ZeroPadding2D: f(tf.layers.zeroPadding2d),
  Cropping2D: f(tf.layers.cropping2D),
  UpSampling2D: f(tf.layers.upSampling2d),
  Flatten: f(tf.layers.flatten),
  Reshape: f(tf.layers.reshape),
  Permute: f(tf.layers.permute),
  Concatenate: f(tf.layers.concatenate),
  BatchNormalization: f(tf.layers.batchNormalization),
  Activation: f(tf.layers.activation),
};

/** Create the TF.js layer for one parsed layer (without weights). */
export function createParsedLayer(attrs: LayerAttributes): Layer {
  const factory = FACTORIES[attrs.layerType];
  if (!factory) {
    throw new UnsupportedLayerError(
      `parsed layer '${attrs.name}' has type ${attrs.layerType}, which cannot be built`,
    );
  }
  const args: Record<string, unknown> = { ...attrs.config, name: attrs.name };
  if (attrs.activation !== undefined) {
    registerCustomActivation(attrs.activation);
    args.activation = attrs.activation;
  }
  if (attrs.layerType in PARAMETRIC) args.useBias = true;
  if (attrs.layerType === "DepthwiseConv2D") args.depthMultiplier ??= 1;
  return factory(args);
}

/**
 * Build a channels-last `tf.LayersModel` from parsed layer attributes, with
 * an input named `input` of `inputShape` (without batch).
 */
export function buildModelFromAttributes(
  layerList: LayerAttributes[],
  inputShape: number[],
  outputNames?: string[],
): LayersModel {
  const input = tf.input({ shape: inputShape, name: "input" });
  const tensors = new Map<string, tf.SymbolicTensor>([["input", input]]);
  for (const attrs of layerList) {
    const layer = createParsedLayer(attrs);
    const ins = attrs.inbound.map((n) => {
      const t = tensors.get(n);
      if (!t) throw new ModelFormatError(`parsed layer '${attrs.name}' reads '${n}', which does not exist`);
      return t;
    });
    let out: tf.SymbolicTensor;
    try {
      out = layer.apply(ins.length === 1 ? ins[0] : ins) as tf.SymbolicTensor;
    } catch (err) {
      throw new ModelFormatError(
        `could not build parsed layer '${attrs.name}' (${attrs.layerType}): ${
          err instanceof Error ? err.message : err
        }`,
        { cause: err },
      );
    }
    if (attrs.parameters) {
      const ws = attrs.parameters.map((p) => tf.tensor(p.data, p.shape, "float32"));
      try {
        layer.setWeights(ws);
      } catch (err) {
        throw new ModelFormatError(
          `parsed layer '${attrs.name}': weights [${
            attrs.parameters.map((p) => p.shape.join("x")).join(", ")
          }] ` +
            `do not fit: ${err instanceof Error ? err.message : err}`,
          { cause: err },
        );
      } finally {
        tf.dispose(ws);
      }
    }
    tensors.set(attrs.name, out);
  }
  const names = outputNames && outputNames.length
    ? outputNames
    : [layerList[layerList.length - 1]?.name ?? "input"];
  const outputs = names.map((n) => tensors.get(n)!);
  return tf.model({ inputs: input, outputs: outputs.length === 1 ? outputs[0] : outputs, name: "parsed" });
}
