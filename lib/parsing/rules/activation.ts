/**
 * Activation layers (Activation, ReLU, Softmax): absorbed into the layer
 * that owns their input, else kept as an Activation layer; and
 * `append_softmax` on the model outputs.
 *
 * @module
 */
import type { Layer } from "../../../deps.ts";
import { clampedReluName } from "../../layers/activations.ts";
import { isParametric } from "../attributes.ts";
import type { TensorRef } from "../graph.ts";
import { isIdentity } from "../layout.ts";
import { type ParseContext, type ParseRule, resolveActivation } from "./context.ts";

/** The activation string an Activation/ReLU/Softmax layer applies. */
export function activationOfLayer(ctx: ParseContext, layer: Layer, type: string): string {
  if (type === "Softmax") return "softmax";
  if (type === "ReLU") {
    const max = ctx.parser.initializeAttributes(layer).maxValue;
    return typeof max === "number" ? clampedReluName(0, max) : "relu";
  }
  return ctx.parser.getActivation(layer);
}

/** Absorb an activation layer into the layer that owns its input, else keep it as an Activation layer. */
export const parseActivationLayer: ParseRule = (ctx, { layer, type, ins: [ref], exclusive }) => {
  const activation = resolveActivation(ctx, activationOfLayer(ctx, layer, type));
  const name = ctx.parser.getLayerName(layer);
  if (activation === "linear") return { ...ref, exclusive: ref.exclusive && exclusive };
  // Softmax normalizes the last axis as the source lays it out.
  if (activation === "softmax" && !isIdentity(ref.perm)) ref = ctx.graph.ensurePerm(ref, undefined);
  const prod = ref.producer;
  if (prod && ref.exclusive && isParametric(prod) && prod.activation === "linear" && !ref.rowMap) {
    prod.activation = activation;
    prod.absorbed.push(`${type}(${name}): ${activation}`);
    return { ...ref, exclusive: exclusive };
  }
  const attrs = ctx.graph.emit("Activation", {}, [ref], ctx.graph.parsedShape(ref), {
    activation,
    sourceName: name,
    naming: { shape: ref.srcShape },
  });
  return { ...ctx.graph.refFor(attrs, ref.srcShape, ref.perm, exclusive), rowMap: ref.rowMap };
};

/** `append_softmax`: give linear Dense output layers a softmax. */
export function applyAppendSoftmax(ctx: ParseContext, outputs: readonly TensorRef[]): void {
  if (!ctx.parser.options.appendSoftmax) return;
  for (const r of outputs) {
    const p = r.producer;
    if (p && p.layerType === "Dense" && p.activation === "linear") {
      p.activation = "softmax";
      p.absorbed.push("append_softmax");
    }
  }
}
