/**
 * Flatten, Reshape and Permute: a Flatten stays a Flatten where the layouts
 * agree, becomes a row permutation of the Dense layers reading it where they
 * do not (a channels_first flatten), and a Permute + Flatten otherwise;
 * Reshape/Permute run in the source layout.
 *
 * @module
 */
import type { Layer } from "../../../deps.ts";
import { sizeOf } from "../../io/ndarray.ts";
import type { TensorRef } from "../graph.ts";
import { channelsLastPerm, flatIndexMap, identity, samePerm } from "../layout.ts";
import { consumersThrough, newAttributes, type ParseContext, type ParseRule } from "./context.ts";

/** Parse a Flatten layer (Keras ≥ 2.2 channels_first semantics or as laid out). */
export const parseFlatten: ParseRule = (ctx, { layer, ins: [ref], exclusive }) => {
  const p = ctx.parser;
  const cfFlatten = p.getDataFormat(layer) === "channels_first";
  const order = cfFlatten ? channelsLastPerm(ref.srcShape.length) : undefined;
  const out = flattenRef(ctx, ref, order, p.getOutboundLayers(layer), p.getLayerName(layer), layer);
  return { ...out, exclusive };
};

/**
 * Flatten `ref` so that the result equals the source's flatten of
 * transpose(S, order); uses a plain Flatten when the layouts agree, a
 * Dense row permutation when every consumer is a Dense, else a Permute.
 */
export function flattenRef(
  ctx: ParseContext,
  ref: TensorRef,
  order: number[] | undefined,
  consumers: Layer[],
  sourceName: string,
  flattenLayer?: Layer,
): TensorRef {
  const { parser, graph } = ctx;
  ref = graph.materializeFlat(ref);
  const n = sizeOf(ref.srcShape);
  if (ref.srcShape.length <= 1) return ref;
  if (!samePerm(ref.perm, order)) {
    let allDense = true;
    const outputs = new Set(parser.getOutputLayers());
    if (flattenLayer) {
      const through = consumersThrough(ctx, flattenLayer, outputs);
      allDense = !through.isOutput && through.consumers.length > 0 &&
        through.consumers.every((c) => isDenseLike(parser.getType(c)));
    } else allDense = consumers.every((c) => isDenseLike(parser.getType(c)));
    if (allDense) {
      const dims = ref.srcShape.length;
      const rowMap = flatIndexMap(ref.srcShape, ref.perm ?? identity(dims), order ?? identity(dims));
      const attrs = graph.emit("Flatten", {}, [ref], [n], { sourceName });
      return { ...graph.refFor(attrs, [n], undefined, ref.exclusive), rowMap };
    }
    ref = graph.ensurePerm(ref, order);
  }
  const attrs = graph.emit("Flatten", {}, [ref], [n], { sourceName });
  return graph.refFor(attrs, [n], undefined, ref.exclusive);
}

/** Layers whose kernel rows can absorb a reorder of their flat input. */
function isDenseLike(type: string): boolean {
  return type === "Dense" || type === "Sparse";
}

/** Parse Reshape/Permute in the source layout. */
export const parseReshape: ParseRule = (ctx, { layer, type, ins: [ref], exclusive }) => {
  const { parser, graph } = ctx;
  ref = graph.ensurePerm(ref, undefined);
  const srcOut = parser.getOutputShape(layer);
  const attrs = newAttributes(ctx, layer, type as "Reshape" | "Permute", ref, srcOut, srcOut);
  if (attrs.layerType === "Reshape") attrs.config = { targetShape: srcOut };
  return graph.push(attrs, srcOut, undefined, exclusive);
};
