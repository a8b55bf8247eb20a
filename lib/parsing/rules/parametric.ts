/**
 * Layers with a kernel and a bias: Dense, Conv1D, Conv2D, Conv2DTranspose,
 * DepthwiseConv2D, the toolbox's pruned Sparse, SparseConv2D and
 * SparseDepthwiseConv2D (parsed as their dense counterparts with the mask
 * kept beside the kernel), and SeparableConv2D (split into
 * DepthwiseConv2D + 1×1 Conv2D).
 *
 * @module
 */
import type { Layer } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import {
  type LayerAttributesOf,
  PARAMETRIC,
  type ParametricType,
  type ParsedLayerOf,
} from "../attributes.ts";
import { isIdentity, permuteRows, permuteShape } from "../layout.ts";
import { foldForward } from "./batchnorm.ts";
import {
  newAttributes,
  type ParseContext,
  type ParseRule,
  resolveActivation,
  wantedPerm,
} from "./context.ts";

/** Source layer types with a kernel and a bias, and the parsed layer type each becomes. */
export const PARAMETRIC_SOURCES: Readonly<Record<string, ParametricType>> = {
  Dense: "Dense",
  Conv1D: "Conv1D",
  Conv2D: "Conv2D",
  Conv2DTranspose: "Conv2DTranspose",
  DepthwiseConv2D: "DepthwiseConv2D",
  Sparse: "Dense",
  SparseConv2D: "Conv2D",
  SparseDepthwiseConv2D: "DepthwiseConv2D",
};

/** Fill the parameters of `attrs` with the parser's method for source type `type`. */
function readParameters(
  ctx: ParseContext,
  layer: Layer,
  type: string,
  attrs: ParsedLayerOf<ParametricType>,
): void {
  const p = ctx.parser;
  switch (type) {
    case "Dense":
      return p.parseDense(layer, attrs as LayerAttributesOf<"Dense">);
    case "Sparse":
      return p.parseSparse(layer, attrs as LayerAttributesOf<"Dense">);
    case "SparseConv2D":
      return p.parseSparseConvolution(layer, attrs as LayerAttributesOf<"Conv2D">);
    case "DepthwiseConv2D":
      return p.parseDepthwiseConvolution(layer, attrs as LayerAttributesOf<"DepthwiseConv2D">);
    case "SparseDepthwiseConv2D":
      return p.parseSparseDepthwiseConvolution(layer, attrs as LayerAttributesOf<"DepthwiseConv2D">);
    default:
      return p.parseConvolution(layer, attrs as LayerAttributesOf<"Conv1D" | "Conv2D" | "Conv2DTranspose">);
  }
}

/** Parse a layer with a kernel and a bias (a key of {@linkcode PARAMETRIC_SOURCES}). */
export const parseParametric: ParseRule = (ctx, { layer, type, ins: [ref], exclusive }) => {
  const { parser, graph } = ctx;
  const parsedType = PARAMETRIC_SOURCES[type];
  const kind = PARAMETRIC[parsedType];
  let want: number[] | undefined;
  if (parsedType === "Dense") {
    ref = parser.tryInsertFlatten(layer, parsedType, ref);
    // Dense reads the last axis of the tensor as the source lays it out.
    if (!ref.rowMap) ref = graph.ensurePerm(ref, undefined);
  } else {
    want = wantedPerm(ctx, layer, ref);
    ref = graph.ensurePerm(ref, want);
  }
  const srcOut = parser.getOutputShape(layer);
  const outPerm = parsedType === "Dense" ? undefined : want;
  const attrs = newAttributes(ctx, layer, parsedType, ref, permuteShape(srcOut, outPerm), srcOut);
  if (type !== parsedType) attrs.naming = { ...attrs.naming, layerType: type };
  readParameters(ctx, layer, type, attrs);
  if (!attrs.parameters || attrs.parameters.length < 2) {
    throw new ModelFormatError(
      `${parser.inputModel.path}: layer '${attrs.sourceName}' (${type}) has no weights`,
    );
  }
  if (ref.rowMap) {
    attrs.parameters[0] = permuteRows(attrs.parameters[0], ref.rowMap);
    if (attrs.mask) attrs.mask = permuteRows(attrs.mask, ref.rowMap);
    attrs.absorbed.push("rows permuted: channels_first flatten → channels_last");
    ref = { ...ref, rowMap: undefined };
  }
  ref = foldForward(ctx, ref, attrs, kind);
  attrs.inbound = [ref.id];
  parser.modifyParameterPrecision(attrs);
  attrs.activation = resolveActivation(ctx, parser.getActivation(layer));
  if (attrs.activation === "softmax" && !isIdentity(outPerm)) {
    // Softmax normalizes the last axis as the source lays it out: apply it after a layout change.
    attrs.activation = "linear";
    const out = graph.ensurePerm(graph.push(attrs, srcOut, outPerm, true), undefined);
    const act = graph.emit("Activation", {}, [out], srcOut, {
      activation: "softmax",
      sourceName: attrs.sourceName,
    });
    return graph.refFor(act, srcOut, undefined, exclusive);
  }
  return graph.push(attrs, srcOut, outPerm, exclusive);
};

/** Split a SeparableConv2D into DepthwiseConv2D + 1×1 Conv2D. */
export const parseSeparable: ParseRule = (ctx, { layer, ins: [ref], exclusive }) => {
  const { parser, graph } = ctx;
  const want = wantedPerm(ctx, layer, ref);
  ref = graph.ensurePerm(ref, want);
  const [dw, pw, bias] = parser.getSeparableParameters(layer);
  const depthwise = newAttributes(ctx, layer, "DepthwiseConv2D", ref, [], []);
  const name = parser.getLayerName(layer);
  const srcOut = parser.getOutputShape(layer);
  const outShape = permuteShape(srcOut, want);
  const inC = dw.shape[2];
  const mult = dw.shape[3];
  const dwShape = [...outShape.slice(0, -1), inC * mult];
  // The depthwise part's output in the source layout (channels first when the source is).
  const dwSrcShape = want ? [inC * mult, ...outShape.slice(0, -1)] : dwShape;
  const dwAttrs = graph.emit(
    "DepthwiseConv2D",
    { ...depthwise.config, depthMultiplier: mult },
    [ref],
    dwShape,
    {
      parameters: [dw, { data: new Float32Array(inC * mult), shape: [inC * mult], dtype: "float32" }],
      activation: "linear",
      absorbed: [`SeparableConv2D(${name}): depthwise part`],
      sourceName: name,
      naming: { shape: dwSrcShape },
      qmf: depthwise.qmf,
      quantizeBias: depthwise.quantizeBias,
    },
  );
  parser.modifyParameterPrecision(dwAttrs);
  const dwRef = graph.refFor(dwAttrs, srcOut, want, true);
  const pwAttrs = graph.emit(
    "Conv2D",
    { filters: pw.shape[3], kernelSize: [1, 1], strides: [1, 1], padding: "valid" },
    [dwRef],
    outShape,
    {
      parameters: [pw, bias],
      absorbed: [`SeparableConv2D(${name}): pointwise part`],
      sourceName: name,
      naming: { shape: srcOut },
      qmf: depthwise.qmf,
      quantizeBias: depthwise.quantizeBias,
    },
  );
  parser.modifyParameterPrecision(pwAttrs);
  pwAttrs.activation = resolveActivation(ctx, parser.getActivation(layer));
  return graph.refFor(pwAttrs, srcOut, want, exclusive);
};
