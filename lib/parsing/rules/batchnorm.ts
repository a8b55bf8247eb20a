/**
 * BatchNormalization: folded into the Dense/Conv layer before it (through
 * Dropout and linear activations), else kept as a per-channel affine layer
 * that the next Dense or valid convolution may fold forward.
 *
 * @module
 */
import { type Float32NDArray, sizeOf } from "../../io/ndarray.ts";
import {
  isParametric,
  type KernelKind,
  PARAMETRIC,
  type ParametricType,
  type ParsedLayerOf,
} from "../attributes.ts";
import type { TensorRef } from "../graph.ts";
import { absorbBnParameters } from "../utils.ts";
import { channelAxis, type ParseContext, type ParseRule, producerFormat } from "./context.ts";

/** Fold a BatchNormalization into the layer before it, else keep it as a per-channel affine layer. */
export const parseBatchNorm: ParseRule = (ctx, { layer, ins: [ref], exclusive }) => {
  const { parser, graph } = ctx;
  const bn = parser.getBatchnormParameters(layer);
  const name = parser.getLayerName(layer);
  const rank = ref.srcShape.length + 1;
  const axis = bn.axis < 0 ? rank + bn.axis : bn.axis;
  const prod = ref.producer;
  const format = producerFormat(ref);
  if (
    prod && ref.exclusive && !ref.rowMap && isParametric(prod) && prod.activation === "linear" &&
    prod.parameters && axis === channelAxis(ref, format)
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
    parser.log(`absorbing batch-normalization ${name} into ${prod.layerType}`);
    return { ...ref, exclusive };
  }
  // Kept as a per-channel affine layer: y = x·a + c (may still be folded forward).
  ref = graph.materializeFlat(ref);
  const n = bn.mean.length;
  const a = new Float32Array(n);
  const c = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = bn.gamma[i] * bn.varEpsSqrtInv[i];
    c[i] = bn.beta[i] - bn.mean[i] * a[i];
  }
  const parsedAxis = graph.mapAxis(ref, axis);
  const vec = (d: Float32Array): Float32NDArray => ({ data: d, shape: [n], dtype: "float32" });
  const attrs = graph.emit(
    "BatchNormalization",
    { axis: parsedAxis, epsilon: 0 },
    [ref],
    graph.parsedShape(ref),
    {
      parameters: [vec(a), vec(c), vec(new Float32Array(n)), vec(new Float32Array(n).fill(1))],
      absorbed: [`BatchNormalization(${name}) kept as per-channel affine`],
      sourceName: name,
      naming: { shape: ref.srcShape },
    },
  );
  return graph.refFor(attrs, ref.srcShape, ref.perm, exclusive);
};

/**
 * If `ref` comes straight from a kept affine BatchNormalization that only
 * this layer reads, fold it into `attrs` (exact for Dense and for
 * convolutions without zero padding) and return the BN's input instead.
 */
export function foldForward(
  ctx: ParseContext,
  ref: TensorRef,
  attrs: ParsedLayerOf<ParametricType>,
  kind: KernelKind,
): TensorRef {
  const bn = ref.producer;
  if (!bn || bn.layerType !== "BatchNormalization" || !ref.exclusive || !attrs.parameters) return ref;
  const rank = bn.outputShape.length + 1;
  if (bn.config.axis !== rank - 1) return ref;
  const padding = "padding" in attrs.config ? attrs.config.padding : undefined;
  const padded = padding !== undefined && padding !== "valid";
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
  ctx.graph.remove(bn);
  const inId = bn.inbound[0];
  return {
    id: inId,
    srcShape: ref.srcShape,
    perm: ref.perm,
    producer: ctx.graph.get(inId),
    exclusive: false,
  };
}
