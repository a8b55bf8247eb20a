/**
 * The abstract model parser (the Python toolbox's `AbstractModelParser`):
 * every input library implements the per-layer accessors, and the shared
 * {@linkcode AbstractModelParser.parse} turns the input model into the
 * *parsed model*, a channels-last list of layers ready for spiking
 * conversion. The simplifications live in the parse rules of `./rules/`,
 * one file per kind of layer:
 *
 * - `batchnorm.ts`: BatchNormalization folded into the Dense/Conv layer
 *   before it (through Dropout and linear activations), else folded forward
 *   into the next Dense/valid Conv where exact, else kept as a per-channel
 *   affine layer;
 * - `activation.ts`: Activation/ReLU/Softmax layers absorbed into the layer
 *   that owns them (kept as an Activation layer when nothing owns them);
 *   `softmax_to_relu`, `append_softmax`, custom activation strings;
 * - `parametric.ts`: Dense and convolutions (with the toolbox's pruned
 *   Sparse layers, weight binarization/quantization), SeparableConv2D →
 *   DepthwiseConv2D + 1×1 Conv2D;
 * - `spatial.ts`: pooling (`max2avg_pool`), Global{Average,Max}Pooling →
 *   pooling + Flatten, padding, cropping, upsampling;
 * - `reshape.ts`: Flatten (inserted where a spatial tensor feeds a flat
 *   layer), Reshape, Permute;
 * - `merge.ts`: Concatenate, Add/Average → Concatenate + 1×1 convolution
 *   with identity-sum weights.
 *
 * Inference no-ops (Dropout family, noise, ActivityRegularization,
 * InputLayer) are removed; layers outside `[restrictions] snn_layers` are
 * skipped as the toolbox skips them. channels_first models become
 * channels-last (convolution layouts, BatchNorm and Concatenate axes, the
 * row order of a Dense after a Flatten that flattened NCHW as laid out;
 * Permute layers only where nothing else is exact), while layer names keep
 * the toolbox's `<idx><Type>_<shape>` with the input model's shape.
 *
 * @module
 */
import { asToolboxError } from "../io/unexpected_errors.ts";
import type { Layer, LayersModel } from "../../deps.ts";
import { DatasetError, ModelFormatError, UnsupportedLayerError } from "../errors.ts";
import type { Float32NDArray, NDArray } from "../io/ndarray.ts";
import type { ToolboxConfig } from "../config/types.ts";
import type { DataFormat, InputModel } from "../importers/input_model.ts";
import { getCustomActivation } from "../layers/custom_objects.ts";
import { saveParameters } from "../io/parameters.ts";
import type {
  BatchNormParameters,
  LayerAttributes,
  LayerAttributesOf,
  ParametricType,
  ParsedLayerOf,
} from "./attributes.ts";
import { buildModelFromAttributes } from "./build.ts";
import {
  type DataFlow,
  evaluateDataflow,
  evaluateModel,
  type EvaluateOptions,
  type EvaluationScore,
} from "./evaluate.ts";
import { ParsedGraph, type TensorRef } from "./graph.ts";
import { channelsLastPerm, isIdentity, permuteShape } from "./layout.ts";
import { ACTIVATION_LAYERS, NOOP_LAYERS, SUPPORTED_LAYERS } from "./layer_types.ts";
import {
  configFromParserOptions,
  isToolboxConfig,
  type ParserOptions,
  parserOptionsFromConfig,
  snnLayerSet,
} from "./options.ts";
import { modifyParameterPrecision as modifyPrecision } from "./precision.ts";
import { applyAppendSoftmax, parseActivationLayer } from "./rules/activation.ts";
import { parseBatchNorm } from "./rules/batchnorm.ts";
import { consumersThrough, type ParseContext, type ParseRule } from "./rules/context.ts";
import { isLinearMerge, parseAdd, parseConcatenateLayer } from "./rules/merge.ts";
import { PARAMETRIC_SOURCES, parseParametric, parseSeparable } from "./rules/parametric.ts";
import { flattenRef, parseFlatten, parseReshape } from "./rules/reshape.ts";
import { parseGlobalPooling, parseSpatial, SPATIAL_TYPES } from "./rules/spatial.ts";
import { layerDictOf } from "../importers/layer_dict.ts";

export type { BatchNormParameters, EvaluationScore, LayerAttributes };

/**
 * Layer types the parser always handles whatever `[restrictions]
 * snn_layers` lists: removed (no-ops, InputLayer), absorbed (activations,
 * BatchNormalization) or rewritten (global pooling, Add/Average,
 * SeparableConv2D), as the toolbox handles BatchNormalization, global
 * average pooling and Add before it looks at `snn_layers`.
 */
export const ALWAYS_PARSED: ReadonlySet<string> = new Set([
  "InputLayer",
  "BatchNormalization",
  "GlobalAveragePooling1D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling1D",
  "GlobalMaxPooling2D",
  "Add",
  "Average",
  "SeparableConv2D",
  ...ACTIVATION_LAYERS,
  ...NOOP_LAYERS,
]);

/**
 * Layer types this port parses that the toolbox has no rule for (so no
 * toolbox configuration lists them in `snn_layers`): parsed unless skipped
 * as unsupported.
 */
export const PORT_LAYERS: ReadonlySet<string> = new Set([
  "MaxPooling1D",
  "AveragePooling1D",
  "Cropping2D",
  "Permute",
]);

/** The parse rule of a (not skipped) source layer type, if there is one. */
function ruleFor(type: string): ParseRule | undefined {
  if (ACTIVATION_LAYERS.has(type)) return parseActivationLayer;
  if (type === "BatchNormalization") return parseBatchNorm;
  if (type in PARAMETRIC_SOURCES) return parseParametric;
  if (type === "SeparableConv2D") return parseSeparable;
  if (type.startsWith("Global")) return parseGlobalPooling;
  if (SPATIAL_TYPES.has(type)) return parseSpatial;
  if (type === "Flatten") return parseFlatten;
  if (type === "Reshape" || type === "Permute") return parseReshape;
  if (type === "Concatenate") return parseConcatenateLayer;
  if (isLinearMerge(type)) return parseAdd;
  return undefined;
}

/**
 * The abstract parser: the transforms of the Python toolbox's
 * `AbstractModelParser`, over the layers of a TF.js layers model (the input
 * model of every library). {@linkcode ModelParser} (`./model_parser.ts`)
 * implements how those layers are read.
 */
export abstract class AbstractModelParser {
  /** The loaded input model (the toolbox's `input_model`). */
  readonly inputModel: InputModel;
  /** The settings in effect, as parser options. */
  readonly options: ParserOptions;
  /**
   * The experiment configuration the parser was built with (the toolbox's
   * `config`); when it was built from plain options, the default
   * configuration with those options set.
   */
  readonly config: ToolboxConfig;
  /** The parsed layers, in order (the toolbox's `_layer_list`; filled by {@linkcode parse}). */
  layerList: LayerAttributes[] = [];
  /** The parsed model (filled by {@linkcode buildParsedModel}). */
  parsedModel?: LayersModel;
  /** Names of the input-model layers skipped: outside `snn_layers`, or unsupported with `skipUnsupported`. */
  skippedLayers: string[] = [];
  /**
   * Each input-model layer's index in {@linkcode layerList} of the parsed
   * layer that produces its output (the toolbox's `name_map`, keyed by the
   * layer itself instead of its `id()`); filled by {@linkcode parse}.
   */
  nameMap: Map<Layer, number> = new Map();
  /** Permutation from the input model's input layout to the parsed model's (channels-last); `undefined` = same. */
  inputPerm?: number[];
  /** For each model output, the permutation from the source layout to the parsed layout; `undefined` = same. */
  outputPerms: (number[] | undefined)[] = [];

  private outputIds: string[] = [];
  private context?: ParseContext;

  /** Create a parser for `inputModel`, reading settings from a `ToolboxConfig` or a plain options object. */
  constructor(inputModel: InputModel, config: ToolboxConfig | ParserOptions = {}) {
    this.inputModel = inputModel;
    if (isToolboxConfig(config)) {
      this.config = config;
      this.options = parserOptionsFromConfig(config);
    } else {
      this.options = { ...config };
      this.config = configFromParserOptions(this.options);
    }
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
  abstract parseDense(layer: Layer, attributes: LayerAttributesOf<"Dense">): void;
  /** Fill `attributes.parameters` (`[kernel, bias]`) of a Conv1D/Conv2D/Conv2DTranspose layer. */
  abstract parseConvolution(
    layer: Layer,
    attributes: LayerAttributesOf<"Conv1D" | "Conv2D" | "Conv2DTranspose">,
  ): void;
  /** Fill `attributes.parameters` (`[depthwiseKernel, bias]`) of a DepthwiseConv2D layer. */
  abstract parseDepthwiseConvolution(layer: Layer, attributes: LayerAttributesOf<"DepthwiseConv2D">): void;
  /** Return `[depthwiseKernel, pointwiseKernel, bias]` of a SeparableConv2D layer. */
  abstract getSeparableParameters(layer: Layer): [Float32NDArray, Float32NDArray, Float32NDArray];
  /** Complete the attributes of a pooling layer (`poolSize`, `strides`, `padding`). */
  abstract parsePooling(
    layer: Layer,
    attributes: LayerAttributesOf<"MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D">,
  ): void;
  /** Complete the attributes of a Concatenate layer (`axis` in the source layout). */
  abstract parseConcatenate(layer: Layer, attributes: LayerAttributesOf<"Concatenate">): void;

  /**
   * Fill `attributes.parameters` (`[kernel, bias]`) and `attributes.mask` of
   * the toolbox's pruned `Sparse` layer (a Dense with a connectivity mask);
   * the default reads it as a Dense layer whose third weight is the mask.
   */
  parseSparse(layer: Layer, attributes: LayerAttributesOf<"Dense">): void {
    this.parseDense(layer, attributes);
    this.splitMask(attributes);
  }

  /** Fill the parameters and mask of the toolbox's pruned `SparseConv2D` layer (a Conv2D with a mask). */
  parseSparseConvolution(layer: Layer, attributes: LayerAttributesOf<"Conv2D">): void {
    this.parseConvolution(layer, attributes);
    this.splitMask(attributes);
  }

  /** Fill the parameters and mask of the toolbox's pruned `SparseDepthwiseConv2D` layer. */
  parseSparseDepthwiseConvolution(layer: Layer, attributes: LayerAttributesOf<"DepthwiseConv2D">): void {
    this.parseDepthwiseConvolution(layer, attributes);
    this.splitMask(attributes);
  }

  /** Move a third parameter (the mask of a pruned layer, kernel-shaped) into `attributes.mask`. */
  private splitMask(attributes: ParsedLayerOf<ParametricType>): void {
    const params = attributes.parameters ?? [];
    const mask = params[2];
    if (!mask || mask.shape.join() !== params[0].shape.join()) {
      throw new ModelFormatError(
        `${this.inputModel.path}: pruned layer '${attributes.sourceName}' has no mask of the kernel's shape ` +
          `[${params[0]?.shape.join(", ")}] (weights: ${
            params.map((p) => `[${p.shape.join(", ")}]`).join(", ")
          })`,
      );
    }
    attributes.parameters = params.slice(0, 2);
    attributes.mask = mask;
  }

  /** The layer's constructor arguments (TF.js camelCase), used as the start of its parsed attributes. */
  initializeAttributes(_layer?: Layer): Record<string, unknown> {
    return {};
  }

  /**
   * Layer types that are skipped on the way to a layer's inputs (the
   * toolbox's `layers_to_skip`): BatchNormalization, activation layers and
   * the inference no-ops.
   */
  get layersToSkip(): ReadonlySet<string> {
    return LAYERS_TO_SKIP;
  }

  /**
   * Maps the layer type names of the input library to the Keras names the
   * parser uses (the toolbox's `_layer_dict`): Caffe's `InnerProduct` →
   * `Dense`, Lasagne's `DenseLayer` → `Dense`, ...; empty for libraries
   * that use Keras names.
   */
  get layerDict(): Readonly<Record<string, string>> {
    return layerDictOf(this.inputModel.library);
  }

  /**
   * The name of the parsed model's input layer (the toolbox's
   * `input_layer_name`): the input model's InputLayer name when its first
   * layer is one, else `input`.
   */
  get inputLayerName(): string {
    const first = this.inputModel.model.layers[0];
    return first && this.getType(first) === "InputLayer" ? first.name : "input";
  }

  // ---- graph navigation ------------------------------------------------------

  /**
   * Walk back from `layer` until inbound layers with parameters are found
   * (the toolbox's `get_inbound_layers_with_parameters`).
   */
  getInboundLayersWithParameters(layer: Layer): Layer[] {
    const result: Layer[] = [];
    for (const inb of this.getInboundLayers(layer)) {
      if (this.hasWeights(inb)) result.push(inb);
      else result.push(...this.getInboundLayersWithParameters(inb));
    }
    return result;
  }

  /**
   * Names of the parsed layers that feed `layer` (the toolbox's
   * `get_inbound_names`): its inbound layers, each followed back through
   * the {@linkcode layersToSkip}, looked up in `nameMap` (default: the one
   * {@linkcode parse} filled); the input layer's name when one of them is
   * the input.
   */
  getInboundNames(layer: Layer, nameMap: ReadonlyMap<Layer, number> = this.nameMap): string[] {
    const inbound = this.getInboundLayers(layer).map((inb) => {
      for (let i = 0; i < this.layersToSkip.size && this.layersToSkip.has(this.getType(inb)); i++) {
        const prev = this.getInboundLayers(inb)[0];
        if (!prev) break;
        inb = prev;
      }
      return inb;
    });
    if (this.layerList.length === 0 || inbound.some((l) => this.getType(l) === "InputLayer")) {
      return [this.inputLayerName];
    }
    return inbound.map((inb) => {
      const idx = nameMap.get(inb);
      if (idx === undefined || !this.layerList[idx]) {
        throw new ModelFormatError(
          `${this.inputModel.path}: layer '${this.getLayerName(inb)}' has no parsed layer in the name map`,
        );
      }
      return this.layerList[idx].name;
    });
  }

  /**
   * The input shape with the batch size first (the toolbox's
   * `get_batch_input_shape`): `[simulation] batch_size`, then
   * {@linkcode getInputShape}.
   */
  getBatchInputShape(): number[] {
    return [this.config.getInt("simulation", "batch_size"), ...this.getInputShape()];
  }

  // ---- names ----------------------------------------------------------------

  /**
   * Zero-pad a layer index to the number of digits of the input model's
   * layer count (the toolbox's `format_layer_idx`): `3` → `03` for a model
   * of 10 to 99 layers.
   */
  formatLayerIdx(idx: number): string {
    return String(idx).padStart(String(this.inputModel.model.layers.length).length, "0");
  }

  /**
   * `<idx><layerType>_<shape>` of an input-model layer (the toolbox's
   * `get_name`), with its output shape in the input model's layout:
   * `00Conv2D_32x64x64`, `06Dense_100`. `layerType` defaults to the
   * layer's type.
   */
  getName(layer: Layer, idx: number, layerType?: string): string {
    return layerName(this.formatLayerIdx(idx), layerType ?? this.getType(layer), this.getOutputShape(layer));
  }

  // ---- parse ----------------------------------------------------------------

  /**
   * Extract the network into {@linkcode layerList}, applying every
   * simplification (see the module documentation). Layers outside
   * `[restrictions] snn_layers` are skipped as the toolbox skips them;
   * throws `UnsupportedLayerError` naming every layer `snn_layers` lists
   * that an SNN cannot implement (unless `skipUnsupported`).
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
    const graph = new ParsedGraph();
    const ctx: ParseContext = { parser: this, graph };
    this.context = ctx;
    this.layerList = graph.layers;
    this.skippedLayers = [];
    this.nameMap = new Map();
    const layers = this.getLayerIterable();
    const skip = this.layersOutsideSnnLayers(layers);

    const inputShape = this.getInputShape();
    this.inputPerm = this.channelsFirstInput(layers, inputShape)
      ? channelsLastPerm(inputShape.length)
      : undefined;
    const inputRef: TensorRef = {
      id: this.inputLayerName,
      srcShape: inputShape,
      perm: this.inputPerm,
      exclusive: false,
    };

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
      refs.set(layer, skip.has(layer) ? this.passThrough(layer, ins[0]) : this.parseLayer(layer, type, ins));
    }
    const outputs = this.getOutputLayers().map((l) => graph.materializeFlat(refOf(l)));
    applyAppendSoftmax(ctx, outputs);
    this.outputIds = outputs.map((r) => r.id);
    this.outputPerms = outputs.map((r) => (isIdentity(r.perm) ? undefined : r.perm));
    this.finalizeNames(graph, refs);
    return this.layerList;
  }

  /**
   * The layers to skip: types outside `[restrictions] snn_layers` that the
   * parser does not always handle (see {@linkcode ALWAYS_PARSED}). Throws
   * one UnsupportedLayerError naming every listed layer the parser cannot
   * parse, unless `skipUnsupported` (then those are skipped too).
   */
  private layersOutsideSnnLayers(layers: Layer[]): Set<Layer> {
    const snnLayers = snnLayerSet(this.options);
    const skip = new Set<Layer>();
    const bad: Layer[] = [];
    for (const l of layers) {
      const type = this.getType(l);
      if (ALWAYS_PARSED.has(type) || PORT_LAYERS.has(type)) continue;
      if (!snnLayers.has(type)) skip.add(l);
      else if (!SUPPORTED_LAYERS.has(type) && !(type in PARAMETRIC_SOURCES)) bad.push(l);
    }
    const describe = (ls: Layer[]) =>
      ls.map((l) => `'${this.getLayerName(l)}' (${this.getType(l)})`).join(", ");
    if (skip.size) this.log(`skipping layers outside [restrictions] snn_layers: ${describe([...skip])}`);
    if (bad.length && !this.options.skipUnsupported) {
      throw new UnsupportedLayerError(
        `${this.inputModel.path}: ${bad.length} layer(s) cannot be converted to a spiking network: ` +
          `${describe(bad)}. Supported layer types: ${[...SUPPORTED_LAYERS].sort().join(", ")}. ` +
          `Remove the type from [restrictions] snn_layers to skip such layers, or set ` +
          `[restrictions] skip_unsupported_layers = True.`,
        { file: this.inputModel.path },
      );
    }
    if (bad.length) this.log(`skipping layers an SNN cannot implement: ${describe(bad)}`);
    for (const l of bad) skip.add(l);
    this.skippedLayers = layers.filter((l) => skip.has(l)).map((l) => this.getLayerName(l));
    return skip;
  }

  /** A skipped layer: its (first) input passes through. */
  private passThrough(layer: Layer, ref: TensorRef): TensorRef {
    const exclusive = this.getOutboundLayers(layer).length === 1;
    return { ...ref, exclusive: ref.exclusive && exclusive };
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
    return consumersThrough(this.context!, input, outputs).consumers.some((l) =>
      this.getDataFormat(l) === "channels_first"
    );
  }

  /** Pass a progress note to `options.log`. */
  log(line: string): void {
    this.options.log?.(line);
  }

  /** Dispatch one input-model layer to its parse rule; returns the tensor it produces. */
  private parseLayer(layer: Layer, type: string, ins: TensorRef[]): TensorRef {
    const exclusive = this.getOutboundLayers(layer).length === 1;
    if (NOOP_LAYERS.has(type)) return this.passThrough(layer, ins[0]);
    const rule = ruleFor(type);
    if (!rule) {
      throw new UnsupportedLayerError(`${this.inputModel.path}: no parse rule for layer type ${type}`);
    }
    return rule(this.context!, { layer, type, ins, exclusive });
  }

  /** Give every parsed layer its `<idx><Type>_<shape>` name and fill {@linkcode nameMap}. */
  private finalizeNames(graph: ParsedGraph, refs: Map<Layer, TensorRef>): void {
    const renamed = graph.rename((a, i) =>
      layerName(this.formatLayerIdx(i), a.naming?.layerType ?? a.layerType, a.naming?.shape ?? a.outputShape)
    );
    this.outputIds = this.outputIds.map((id) => renamed.get(id) ?? id);
    const index = new Map(this.layerList.map((a, i) => [a.name, i]));
    for (const [layer, ref] of refs) {
      const i = index.get(renamed.get(ref.id) ?? ref.id);
      if (i !== undefined) this.nameMap.set(layer, i);
    }
  }

  // ---- hooks and per-layer steps ------------------------------------------------------

  /**
   * Hook: insert a Flatten when `layer` (flat) reads a spatial tensor
   * without one, as Caffe and Lasagne models do (the toolbox's
   * `try_insert_flatten`); returns the reference the layer then reads.
   */
  tryInsertFlatten(layer: Layer, type: string, ref: TensorRef): TensorRef {
    const out = this.getOutputShape(layer);
    if (type !== "Dense" || ref.srcShape.length <= 1 || out.length >= ref.srcShape.length) return ref;
    this.log(`inserting Flatten before ${this.getLayerName(layer)}`);
    return flattenRef(this.context!, ref, undefined, [layer], this.getLayerName(layer));
  }

  /**
   * `[cell] binarize_weights` / `quantize_weights` on the parameters of a
   * parsed Dense/Conv layer (see {@linkcode modifyParameterPrecision}).
   */
  modifyParameterPrecision(attributes: ParsedLayerOf<ParametricType>): void {
    if (!attributes.parameters) return;
    const [w, b] = modifyPrecision(
      attributes.parameters[0],
      attributes.parameters[1],
      this.options,
      attributes,
    );
    attributes.parameters = [w, b, ...attributes.parameters.slice(2)];
  }

  /**
   * Detect the activation of `layer` (the toolbox's `absorb_activation`):
   * its own, or that of an Activation (or ReLU) layer among the next three
   * layers of its single-successor chain, stopping at the first layer with
   * an activation of its own; then `softmax_to_relu` and `append_softmax`.
   * Sets `attributes.activation`. ({@linkcode parse} absorbs activation
   * layers as it reaches them, which also covers branching graphs.)
   */
  absorbActivation(layer: Layer, attributes: { activation?: string }): void {
    let activation = this.getActivation(layer);
    let outbound = layer;
    for (let i = 0; i < 3; i++) {
      const next = this.getOutboundLayers(outbound);
      if (next.length !== 1) break;
      outbound = next[0];
      const type = this.getType(outbound);
      if (type === "Activation") {
        activation = this.getActivation(outbound);
        break;
      }
      if (type === "ReLU") {
        activation = "relu";
        break;
      }
      if ("activation" in this.initializeAttributes(outbound)) break;
    }
    activation = getCustomActivation(activation).activationStr;
    if (activation === "softmax" && this.options.softmaxToRelu) attributes.activation = "relu";
    else if (activation === "linear" && this.getType(layer) === "Dense" && this.options.appendSoftmax) {
      attributes.activation = "softmax";
    } else attributes.activation = activation;
  }

  // ---- building and evaluating -------------------------------------------------------------

  /** Parsed input shape without batch (channels-last). */
  getParsedInputShape(): number[] {
    return permuteShape(this.getInputShape(), this.inputPerm);
  }

  /** Names of the parsed layers producing the model outputs (the input's name if an output is the input). */
  get outputNames(): string[] {
    return [...this.outputIds];
  }

  /**
   * Build the parsed model (channels-last `tf.LayersModel`) from
   * {@linkcode layerList}; parses first when nothing was parsed yet.
   */
  buildParsedModel(): LayersModel {
    if (this.layerList.length === 0 && this.outputIds.length === 0) this.parse();
    try {
      this.parsedModel = buildModelFromAttributes(
        this.layerList,
        this.getParsedInputShape(),
        this.outputIds,
        this.inputLayerName,
      );
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
   * Evaluate the parsed model (the toolbox's `evaluate(batch_size,
   * num_to_test, x_test, y_test, dataflow)`): on arrays `xTest` (in the
   * input model's own layout, e.g. NCHW for channels_first models) and
   * labels `yTest` (one-hot or class indices), or on the batches of a
   * `dataflow` (`{x, y}` or `[x, y]` per batch, sync or async; at most
   * `numToTest / batchSize` batches). Returns the categorical cross-entropy
   * loss, top-1 and top-k accuracy (`k` = `[simulation] top_k`, default 5).
   */
  evaluate(
    batchSize: number | undefined,
    numToTest: number | undefined,
    xTest?: NDArray,
    yTest?: NDArray,
    dataflow?: DataFlow,
  ): Promise<EvaluationScore> {
    const model = this.parsedModel ?? this.buildParsedModel();
    const opts: EvaluateOptions = {
      batchSize: batchSize ?? this.options.batchSize,
      numToTest,
      topK: this.options.topK ?? 5,
    };
    if (this.inputPerm) opts.inputPerm = this.inputPerm;
    if (xTest && yTest) return evaluateModel(model, xTest, yTest, opts);
    if (dataflow) return evaluateDataflow(model, dataflow, opts);
    return Promise.reject(
      new DatasetError("evaluate: no test samples provided (give xTest and yTest, or a dataflow)"),
    );
  }
}

/** The toolbox's `layers_to_skip`, plus the other inference no-ops and activation layers. */
const LAYERS_TO_SKIP: ReadonlySet<string> = new Set([
  "BatchNormalization",
  ...ACTIVATION_LAYERS,
  ...NOOP_LAYERS,
]);

/** `<idx><type>_<d0>x<d1>…`, without the shape part for a shape without dimensions. */
function layerName(idx: string, type: string, shape: readonly number[]): string {
  return `${idx}${type}${shape.length ? `_${shape.join("x")}` : ""}`;
}
