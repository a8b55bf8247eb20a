/**
 * The parser of every input model: whatever library loaded it (see
 * `lib/importers/`), an input model is a TF.js layers model with Keras class
 * and argument names, and {@linkcode ModelParser} reads its layers for the
 * abstract parser's transforms. {@linkcode createParser} is how the toolbox
 * makes one.
 *
 * @module
 */
import { type Layer, type LayersModel, tf } from "../../deps.ts";
import { ModelFormatError } from "../errors.ts";
import type { Float32NDArray } from "../io/ndarray.ts";
import type { DataFormat, InputModel } from "../importers/input_model.ts";
import type { ToolboxConfig } from "../config/types.ts";
import type { ParserOptions } from "./options.ts";
import { AbstractModelParser } from "./abstract_parser.ts";
import type { BatchNormParameters, LayerAttributesOf, ParametricType } from "./attributes.ts";
import { layerDataFormat } from "../layers/tfjs_fixes.ts";

function toNDArray(t: tf.Tensor): Float32NDArray {
  return { data: Float32Array.from(t.dataSync()), shape: [...t.shape], dtype: "float32" };
}

function zeros(n: number): Float32NDArray {
  return { data: new Float32Array(n), shape: [n], dtype: "float32" };
}

function firstShape(shape: tf.Shape | tf.Shape[]): (number | null)[] {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
}

/**
 * Parser of TF.js layers models (Keras class and argument names): the input
 * model of every library. Nested models (a Sequential or Functional used as
 * a layer) are read through: their layers take their place in the graph.
 */
export class ModelParser extends AbstractModelParser {
  private layerSet?: Set<Layer>;
  private owners?: Map<Layer, LayersModel>;
  private nestedModels: LayersModel[] = [];

  /** The TF.js model being parsed. */
  get model(): LayersModel {
    return this.inputModel.model;
  }

  /** Whether a layer is a nested model. */
  private static isNested(layer: Layer): layer is LayersModel {
    return layer instanceof tf.LayersModel;
  }

  /** Expand nested models into their leaf layers. */
  private flatten(layers: Layer[], top: boolean): Layer[] {
    return layers.flatMap((l) => {
      if (ModelParser.isNested(l)) {
        for (const inp of l.inputLayers) this.owners!.set(inp, l);
        this.nestedModels.push(l);
        return this.flatten(l.layers, false);
      }
      return !top && l.getClassName() === "InputLayer" ? [] : [l];
    });
  }

  /** The model's layers in topological order, nested models expanded. */
  getLayerIterable(): Layer[] {
    this.owners = new Map();
    this.nestedModels = [];
    const layers = this.flatten(this.model.layers, true);
    this.layerSet = new Set(layers);
    return layers;
  }

  /** Build the layer index on first use. */
  private ensureIndex(): void {
    if (!this.layerSet) this.getLayerIterable();
  }

  /** The node through which a nested model is called in its enclosing graph. */
  private outerNode(model: LayersModel): LayersModel["inboundNodes"][number] {
    const nodes = model.inboundNodes.filter((n) => n.inboundLayers.length > 0);
    if (nodes.length !== 1) {
      throw new ModelFormatError(
        `${this.inputModel.path}: nested model '${model.name}' is called ${nodes.length} times; ` +
          `only nested models called once can be parsed`,
      );
    }
    return nodes[0];
  }

  /** The leaf layer that produces the output of `layer` (a nested model's output layer). */
  private resolveOutput(layer: Layer): Layer {
    while (ModelParser.isNested(layer)) layer = layer.outputLayers[0];
    return layer;
  }

  /** The leaf layer feeding `layer` when it is the input of a nested model (recursively). */
  private resolveInput(layer: Layer): Layer {
    this.ensureIndex();
    let owner = this.owners!.get(layer);
    while (owner) {
      const i = owner.inputLayers.indexOf(layer);
      layer = this.resolveOutput(this.outerNode(owner).inboundLayers[i]);
      owner = this.owners!.get(layer);
    }
    return this.resolveOutput(layer);
  }

  /** Keras class name. */
  getType(layer: Layer): string {
    return layer.getClassName();
  }

  /** The layer's name in the input model. */
  getLayerName(layer: Layer): string {
    return layer.name;
  }

  /**
   * The layer's config (`getConfig()`, camelCase), with the toolbox's
   * per-layer precision attributes (`Qm.f`, `quantize_bias`) the model file
   * states for it (see `InputModel.layerAttributes`).
   */
  override initializeAttributes(layer?: Layer): Record<string, unknown> {
    if (!layer) return {};
    return {
      ...(layer.getConfig() as Record<string, unknown>),
      ...this.inputModel.layerAttributes?.[layer.name],
    };
  }

  /** μ, 1/√(σ²+ε), γ, β and axis of a BatchNormalization layer. */
  getBatchnormParameters(layer: Layer): BatchNormParameters {
    const cfg = this.initializeAttributes(layer);
    const weights = layer.getWeights();
    const arrays = weights.map((w) => Float32Array.from(w.dataSync()));
    const scale = cfg.scale !== false;
    const center = cfg.center !== false;
    let i = 0;
    const gammaW = scale ? arrays[i++] : undefined;
    const betaW = center ? arrays[i++] : undefined;
    const mean = arrays[i++];
    const variance = arrays[i++];
    if (!mean || !variance) {
      throw new ModelFormatError(
        `${this.inputModel.path}: BatchNormalization '${layer.name}' has ${arrays.length} weights, ` +
          `expected ${2 + Number(scale) + Number(center)} (gamma?, beta?, moving mean, moving variance)`,
      );
    }
    const eps = Number(cfg.epsilon ?? 1e-3);
    const varEpsSqrtInv = new Float32Array(mean.length);
    for (let c = 0; c < mean.length; c++) varEpsSqrtInv[c] = 1 / Math.sqrt(variance[c] + eps);
    const rawAxis = cfg.axis;
    const axis = Array.isArray(rawAxis) ? Number(rawAxis[0]) : Number(rawAxis ?? -1);
    return {
      mean,
      varEpsSqrtInv,
      gamma: gammaW ?? new Float32Array(mean.length).fill(1),
      beta: betaW ?? new Float32Array(mean.length),
      axis,
    };
  }

  /** Inbound layers of the layer's first call (through nested-model boundaries). */
  getInboundLayers(layer: Layer): Layer[] {
    const node = layer.inboundNodes[0];
    return node ? node.inboundLayers.map((l) => this.resolveInput(l)) : [];
  }

  /** Outbound layers within this model (through nested-model boundaries). */
  getOutboundLayers(layer: Layer): Layer[] {
    this.ensureIndex();
    const out: Layer[] = [];
    for (const o of layer.outboundNodes.map((n) => n.outboundLayer)) {
      if (ModelParser.isNested(o)) {
        const i = this.outerNode(o).inboundLayers.indexOf(layer);
        out.push(...this.getOutboundLayers(o.inputLayers[i]));
      } else if (this.layerSet!.has(o)) out.push(o);
    }
    // The output of a nested model feeds whatever reads the nested model.
    for (const m of this.nestedModels) {
      if (m.outputLayers.includes(layer)) out.push(...this.getOutboundLayers(m));
    }
    return out;
  }

  /** The model's output layers (leaf layers of nested models). */
  getOutputLayers(): Layer[] {
    return this.model.outputLayers.map((l) => this.resolveOutput(l));
  }

  /** Whether the layer has weights. */
  hasWeights(layer: Layer): boolean {
    return layer.weights.length > 0;
  }

  /** The model's input shape without batch. */
  getInputShape(): number[] {
    if (this.model.inputs.length !== 1) {
      throw new ModelFormatError(
        `${this.inputModel.path}: the model has ${this.model.inputs.length} inputs; only single-input models can be parsed`,
      );
    }
    return this.concrete(this.model.inputs[0].shape.slice(1), "the model input");
  }

  /** A shape without undefined dimensions, or a ModelFormatError. */
  private concrete(shape: (number | null)[], what: string): number[] {
    if (shape.some((d) => d === null || d === undefined)) {
      throw new ModelFormatError(
        `${this.inputModel.path}: ${what} has undefined dimensions [${
          shape.map((d) => d ?? "None").join(", ")
        }]; ` +
          `the toolbox needs a fixed input shape`,
      );
    }
    return shape as number[];
  }

  /** Output shape without batch. */
  getOutputShape(layer: Layer): number[] {
    return this.concrete(firstShape(layer.outputShape).slice(1), `layer '${layer.name}' output`);
  }

  /** `dataFormat` of the layer, when it has one (read from the layer where its config omits it: Conv1D). */
  getDataFormat(layer: Layer): DataFormat | undefined {
    const f = layerDataFormat(layer);
    if (f === "channelsFirst") return "channels_first";
    if (f === "channelsLast") return "channels_last";
    return undefined;
  }

  /** The layer's activation string (`linear` when none). */
  getActivation(layer: Layer): string {
    const a = (layer.getConfig() as Record<string, unknown>).activation;
    return typeof a === "string" ? a : "linear";
  }

  /** The layer's weights with a zero bias appended when it has none. */
  private weightsWithBias(layer: Layer, nOut: number): Float32NDArray[] {
    const ws = layer.getWeights().map(toNDArray);
    if (ws.length === 1) ws.push(zeros(nOut));
    return ws;
  }

  /** `[kernel [in, out], bias]` (zero bias when the layer has none). */
  parseDense(layer: Layer, attributes: LayerAttributesOf<"Dense">): void {
    attributes.parameters = this.weightsWithBias(layer, Number(attributes.config.units));
  }

  /** `[kernel, bias]` (zero bias when the layer has none). */
  parseConvolution(
    layer: Layer,
    attributes: LayerAttributesOf<"Conv1D" | "Conv2D" | "Conv2DTranspose">,
  ): void {
    attributes.parameters = this.weightsWithBias(layer, Number(attributes.config.filters));
  }

  /** The kernel, bias (zeros when the layer has none) and mask of a pruned layer, by weight name. */
  private maskedWeights(layer: Layer, attributes: LayerAttributesOf<ParametricType>, nOut: number): void {
    // Variable names are `<layer>/<weight>` (`:0` suffixed in files): the last part names the weight.
    const byName = new Map(
      layer.weights.map((w, i) => [w.originalName.replace(/:\d+$/, "").split("/").pop()!, i]),
    );
    const values = layer.getWeights();
    const get = (name: string) => {
      const i = byName.get(name);
      return i === undefined ? undefined : toNDArray(values[i]);
    };
    const kernel = get("kernel");
    const mask = get("mask");
    if (!kernel || !mask) {
      throw new ModelFormatError(
        `${this.inputModel.path}: pruned layer '${layer.name}' needs the weights kernel and mask; found ${
          [...byName.keys()].join(", ") || "none"
        }`,
      );
    }
    attributes.parameters = [kernel, get("bias") ?? zeros(nOut)];
    attributes.mask = mask;
  }

  /** The toolbox's `Sparse` layer: `[kernel, bias]` and its mask. */
  override parseSparse(layer: Layer, attributes: LayerAttributesOf<"Dense">): void {
    this.maskedWeights(layer, attributes, Number(attributes.config.units));
  }

  /** The toolbox's `SparseConv2D` layer: `[kernel, bias]` and its mask. */
  override parseSparseConvolution(layer: Layer, attributes: LayerAttributesOf<"Conv2D">): void {
    this.maskedWeights(layer, attributes, Number(attributes.config.filters));
  }

  /** The toolbox's `SparseDepthwiseConv2D` layer: `[depthwiseKernel, bias]` and its mask. */
  override parseSparseDepthwiseConvolution(
    layer: Layer,
    attributes: LayerAttributesOf<"DepthwiseConv2D">,
  ): void {
    const [, , c, mult] = layer.weights[0]?.shape as number[] ?? [];
    this.maskedWeights(layer, attributes, c * mult);
  }

  /** `[depthwiseKernel, bias]` (zero bias when the layer has none). */
  parseDepthwiseConvolution(layer: Layer, attributes: LayerAttributesOf<"DepthwiseConv2D">): void {
    const ws = layer.getWeights().map(toNDArray);
    if (ws.length === 1) ws.push(zeros(ws[0].shape[2] * ws[0].shape[3]));
    attributes.parameters = ws;
  }

  /** `[depthwiseKernel, pointwiseKernel, bias]` (zero bias when the layer has none). */
  getSeparableParameters(layer: Layer): [Float32NDArray, Float32NDArray, Float32NDArray] {
    const ws = layer.getWeights().map(toNDArray);
    if (ws.length < 2) {
      throw new ModelFormatError(`${this.inputModel.path}: SeparableConv2D '${layer.name}' has no weights`);
    }
    return [ws[0], ws[1], ws[2] ?? zeros(ws[1].shape[3])];
  }

  /** Pooling attributes are already in the layer config. */
  parsePooling(
    _layer: Layer,
    _attributes: LayerAttributesOf<"MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D">,
  ): void {}

  /** The concatenation axis (source layout). */
  parseConcatenate(layer: Layer, attributes: LayerAttributesOf<"Concatenate">): void {
    attributes.config.axis = Number((layer.getConfig() as Record<string, unknown>).axis ?? -1);
  }
}

/**
 * The parser of `inputModel` (any library), with the options of `config`
 * (an experiment configuration or {@linkcode ParserOptions}).
 *
 * @example
 * ```ts
 * import { getModelLibrary, initBackend } from "../../mod.ts";
 * import { createParser } from "./model_parser.ts";
 * await initBackend();
 * const input = await getModelLibrary("keras").load("model.h5");
 * const parser = createParser(input, { softmaxToRelu: false });
 * parser.parse();
 * parser.buildParsedModel().summary();
 * ```
 */
export function createParser(inputModel: InputModel, config?: ToolboxConfig | ParserOptions): ModelParser {
  return new ModelParser(inputModel, config);
}
