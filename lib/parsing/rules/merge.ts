/**
 * Merge layers: Concatenate (its axis mapped to channels-last), and Add /
 * Average rewritten as Concatenate + a 1×1 convolution (Dense for flat
 * tensors) whose kernel sums the inputs channel by channel, as the Python
 * toolbox rewrites Add.
 *
 * @module
 */
import type { TensorRef } from "../graph.ts";
import { permuteShape, samePerm } from "../layout.ts";
import { MERGE_WEIGHTS } from "../layer_types.ts";
import { newAttributes, type ParseContext, type ParseRule } from "./context.ts";

/** Bring several tensors to one layout (for Concatenate/Add). */
function commonLayout(ctx: ParseContext, ins: readonly TensorRef[]): TensorRef[] {
  const flat = ins.map((r) => ctx.graph.materializeFlat(r));
  if (flat.every((r) => samePerm(r.perm, flat[0].perm))) return flat;
  return flat.map((r) => ctx.graph.ensurePerm(r, undefined));
}

/** Parse a Concatenate layer, mapping its axis to channels-last. */
export const parseConcatenateLayer: ParseRule = (ctx, { layer, ins, exclusive }) => {
  const { parser, graph } = ctx;
  ins = commonLayout(ctx, ins);
  const srcOut = parser.getOutputShape(layer);
  const perm = ins[0].perm;
  const attrs = newAttributes(ctx, layer, "Concatenate", ins[0], permuteShape(srcOut, perm), srcOut);
  attrs.inbound = ins.map((r) => r.id);
  attrs.config = {};
  parser.parseConcatenate(layer, attrs);
  const rank = srcOut.length + 1;
  const axisRaw = Number(attrs.config.axis ?? -1);
  const axis = axisRaw < 0 ? rank + axisRaw : axisRaw;
  attrs.config = { axis: graph.mapAxis({ ...ins[0], srcShape: srcOut }, axis) };
  return graph.push(attrs, srcOut, perm, exclusive);
};

/**
 * Add/Average → Concatenate + a 1×1 convolution (Dense for flat tensors)
 * whose kernel sums the inputs channel by channel with weights 1 / 1/n.
 */
export const parseAdd: ParseRule = (ctx, { layer, type: mergeType, ins, exclusive }) => {
  const { parser, graph } = ctx;
  ins = commonLayout(ctx, ins);
  const name = parser.getLayerName(layer);
  const srcOut = parser.getOutputShape(layer);
  const perm = ins[0].perm;
  const shape = permuteShape(srcOut, perm);
  const c = shape[shape.length - 1];
  const k = ins.length;
  // The Python toolbox names the concatenation after the merge output with k times the channels.
  const srcChannelAxis = perm ? perm[perm.length - 1] : srcOut.length - 1;
  const concatSrc = srcOut.map((d, i) => (i === srcChannelAxis ? k * d : d));
  const concat = graph.emit("Concatenate", { axis: -1 }, ins, [...shape.slice(0, -1), k * c], {
    absorbed: [`${mergeType}(${name}) → Concatenate + identity-sum`],
    sourceName: name,
    naming: { shape: concatSrc },
  });
  const weight = MERGE_WEIGHTS[mergeType];
  const kernel = new Float32Array(k * c * c);
  for (let i = 0; i < k; i++) for (let ch = 0; ch < c; ch++) kernel[(i * c + ch) * c + ch] = weight(i, k);
  const spatial = shape.length - 1;
  const kshape = [...new Array(spatial).fill(1), k * c, c];
  const concatRef = graph.refFor(concat, [], undefined, true);
  const extra = {
    parameters: [
      { data: kernel, shape: kshape, dtype: "float32" as const },
      { data: new Float32Array(c), shape: [c], dtype: "float32" as const },
    ],
    activation: "linear",
    absorbed: [`${mergeType}(${name}): identity-sum of ${k} inputs`],
    sourceName: name,
    naming: { shape: srcOut },
  };
  const ones = new Array(spatial).fill(1);
  const sum = spatial === 0 ? graph.emit("Dense", { units: c }, [concatRef], shape, extra) : graph.emit(
    spatial === 1 ? "Conv1D" : "Conv2D",
    { filters: c, kernelSize: ones, strides: ones, padding: "valid" },
    [concatRef],
    shape,
    extra,
  );
  return graph.refFor(sum, srcOut, perm, exclusive);
};

/** Whether `type` is a merge layer rewritten by {@linkcode parseAdd}. */
export function isLinearMerge(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(MERGE_WEIGHTS, type);
}
