/**
 * What every parse rule works with: the parser (its per-library accessors
 * and settings) and the parsed graph being built, plus the helpers several
 * rules share.
 *
 * @module
 */
import type { Layer } from "../../../deps.ts";
import type { DataFormat } from "../../importers/input_model.ts";
import { registerCustomActivation } from "../../layers/activations.ts";
import type { AbstractModelParser } from "../abstract_parser.ts";
import { type ParsedLayerOf, type ParsedLayerType, pickConfig } from "../attributes.ts";
import type { ParsedGraph, TensorRef } from "../graph.ts";
import { channelsLastPerm } from "../layout.ts";
import { ACTIVATION_LAYERS } from "../layer_types.ts";

/** The parser and the parsed graph of one {@linkcode AbstractModelParser.parse} run. */
export interface ParseContext {
  /** The parser: per-library accessors, settings, hooks. */
  readonly parser: AbstractModelParser;
  /** The parsed model being built. */
  readonly graph: ParsedGraph;
}

/** One source layer as a parse rule receives it. */
export interface RuleInput {
  /** The source layer. */
  readonly layer: Layer;
  /** Its type, as the parser names it. */
  readonly type: string;
  /** The tensors it reads, in order. */
  readonly ins: readonly TensorRef[];
  /** Whether one layer only reads its output (so a layer after it may be folded into it). */
  readonly exclusive: boolean;
}

/**
 * A parse rule: appends the parsed layers of one source layer to
 * `ctx.graph` and returns the tensor the source layer produces.
 */
export type ParseRule = (ctx: ParseContext, input: RuleInput) => TensorRef;

/** The parsed layout a layer with a data format needs its input in. */
export function wantedPerm(ctx: ParseContext, layer: Layer, ref: TensorRef): number[] | undefined {
  return ctx.parser.getDataFormat(layer) === "channels_first"
    ? channelsLastPerm(ref.srcShape.length)
    : undefined;
}

/**
 * Fresh parsed attributes of type `type` for a source layer reading `ref`:
 * its config picked from the source layer's, its output shape `outShape`
 * (parsed layout) and `srcOut` (the input model's layout, which the layer's
 * name shows, as in the Python toolbox).
 */
export function newAttributes<T extends ParsedLayerType>(
  ctx: ParseContext,
  layer: Layer,
  type: T,
  ref: TensorRef,
  outShape: number[],
  srcOut: number[],
): ParsedLayerOf<T> {
  const cfg = ctx.parser.initializeAttributes(layer);
  const attrs: ParsedLayerOf<T> = {
    layerType: type,
    name: "",
    inbound: [ref.id],
    config: pickConfig(type, cfg),
    absorbed: [],
    outputShape: outShape,
    sourceName: ctx.parser.getLayerName(layer),
    naming: { shape: srcOut },
  };
  const qmf = cfg["Qm.f"];
  if (Array.isArray(qmf) && qmf.length === 2) attrs.qmf = [Number(qmf[0]), Number(qmf[1])];
  if (typeof cfg.quantize_bias === "boolean") attrs.quantizeBias = cfg.quantize_bias;
  return attrs;
}

/** Apply `softmax_to_relu` and register custom activation strings. */
export function resolveActivation(ctx: ParseContext, activation: string): string {
  if (activation === "softmax" && ctx.parser.options.softmaxToRelu) {
    ctx.parser.log("replacing softmax by relu");
    return "relu";
  }
  registerCustomActivation(activation);
  return activation;
}

/** Which layers read `layer`'s output, looking through no-ops and activation layers. */
export function consumersThrough(
  ctx: ParseContext,
  layer: Layer,
  outputs: Set<Layer>,
): { consumers: Layer[]; isOutput: boolean } {
  const p = ctx.parser;
  const consumers: Layer[] = [];
  let isOutput = outputs.has(layer);
  for (const o of p.getOutboundLayers(layer)) {
    const t = p.getType(o);
    if (p.layersToSkip.has(t) || ACTIVATION_LAYERS.has(t)) {
      const sub = consumersThrough(ctx, o, outputs);
      consumers.push(...sub.consumers);
      isOutput ||= sub.isOutput;
    } else consumers.push(o);
  }
  return { consumers, isOutput };
}

/** The channel axis (batch = 0) of a tensor in the source layout. */
export function channelAxis(ref: TensorRef, format: DataFormat | undefined): number {
  const rank = ref.srcShape.length + 1;
  return format === "channels_first" && rank > 2 ? 1 : rank - 1;
}

/** Source data format of the tensor a layer produced. */
export function producerFormat(ref: TensorRef): DataFormat {
  return ref.perm && ref.srcShape.length >= 2 ? "channels_first" : "channels_last";
}
