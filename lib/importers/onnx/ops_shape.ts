/**
 * ONNX operators that move data without arithmetic: Reshape, Flatten,
 * Squeeze, Unsqueeze, Transpose, Concat, Slice, Split, Gather, Pad,
 * Upsample/Resize (nearest), and the constant producers (Shape, Constant,
 * ConstantOfShape, Cast, Identity, Dropout).
 *
 * On constants they fold. On tensors, a reshape that splits or merges the
 * channel axis, a transpose of those channel axes, and a slice, split or
 * gather of channels (ShuffleNet's channel shuffle and channel split) become
 * a pending channel gather (see `graph.ts`), and a transpose a pending
 * permutation: layers appear only where a consumer needs the tensor as laid
 * out.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { sizeOf } from "../../io/ndarray.ts";
import { transposeArray } from "../../io/layout.ts";
import type { OnnxTensor } from "./proto.ts";
import {
  concatConst,
  constOf,
  type ConstValue,
  fromTensor,
  gatherConst,
  normAxis,
  sliceConst,
  sliceIndices,
} from "./constants.ts";
import {
  attr,
  floatAttr,
  type GraphBuilder,
  identity,
  intAttr,
  intsAttr,
  isConst,
  stringAttr,
  type TensorValue,
} from "./graph.ts";

/** The tensor without a pending transpose or channel gather (trailing virtual ones may stay). */
function unpermuted(b: GraphBuilder, x: TensorValue): TensorValue {
  return x.perm || x.channels ? b.materialize(x) : x;
}

/** Reshape a tensor to `[batch, ...rest]`; a flatten when `rest` is one dim. */
function reshapeTensor(b: GraphBuilder, x: TensorValue, rest: number[]): void {
  x = unpermuted(b, x);
  const inRest = b.shapeOf(x).slice(1) as number[];
  if (inRest.some((d) => d === null)) b.fail("Reshape of a tensor with unknown dims");
  const total = sizeOf(inRest);
  const known = rest.filter((d) => d !== -1);
  if (rest.filter((d) => d === -1).length > 1) b.fail(`Reshape target [${rest}] has more than one -1`);
  const target = rest.map((d) => (d === -1 ? total / sizeOf(known) : d));
  if (sizeOf(target) !== total || !target.every(Number.isInteger)) {
    b.fail(`Reshape of [${inRest}] into [${rest}]: sizes differ`);
  }
  if (target.join(",") === inRest.join(",")) {
    b.out(x);
    return;
  }
  const symRest = x.sym.shape.slice(1) as number[];
  const extra = target.slice(symRest.length);
  if (
    target.length > symRest.length && symRest.every((d, i) => d === target[i]) && extra.every((d) => d === 1)
  ) {
    b.out({ ...x, ones: extra.length }); // only virtual trailing ones change
    return;
  }
  if (target.length === 1) {
    if (symRest.length === 1) b.out({ ...x, ones: 0 });
    else b.tensorOut(b.apply(tf.layers.flatten({ name: b.layerName() }), x), x.nonNegative);
    return;
  }
  const layer = tf.layers.reshape({ targetShape: target, name: b.layerName() });
  b.tensorOut(b.apply(layer, x), x.nonNegative);
}

/**
 * A reshape that only refactors the channel axes (the trailing spatial dims
 * unchanged): a pending channel gather, no layer. Returns whether it applied.
 */
function reshapeChannels(b: GraphBuilder, x: TensorValue, rest: number[]): boolean {
  if (x.ones || x.perm) return false;
  const spatial = x.sym.shape.slice(2) as number[];
  const chanDims = x.channels?.dims ?? [x.sym.shape[1] as number];
  const k = rest.length - spatial.length;
  if (k < 1 || !spatial.every((d, i) => rest[k + i] === d)) return false;
  const dims = rest.slice(0, k);
  const total = sizeOf(chanDims);
  const known = dims.filter((d) => d !== -1);
  if (dims.length - known.length > 1) return false;
  const resolved = dims.map((d) => (d === -1 ? total / sizeOf(known) : d));
  if (sizeOf(resolved) !== total || !resolved.every((d) => Number.isInteger(d) && d > 0)) return false;
  if (!x.channels && resolved.length === 1) return false;
  const source = x.channels?.source ?? Int32Array.from(identity(total));
  const physical = x.sym.shape[1] as number;
  if (resolved.length === 1 && source.length === physical && source.every((c, i) => c === i)) {
    b.out({ ...x, channels: undefined });
  } else b.out({ ...x, channels: { dims: resolved, source } });
  return true;
}

/** Whether `d` stands for the batch dim in a Reshape target. */
function isBatchDim(b: GraphBuilder, d: number): boolean {
  return Number.isNaN(d) || d === 0 || d === -1 || (b.staticBatch !== null && d === b.staticBatch);
}

/** Reshape. */
export function reshape(b: GraphBuilder): void {
  const x = b.input(0);
  let target: number[];
  if (b.opset < 5 && b.node.inputs.length < 2) {
    target = intsAttr(b.node, "shape") ?? b.fail("shape missing");
  } else target = Array.from(b.constInput(1, "shape").data);
  if (isConst(x)) {
    const total = x.data.length;
    const t = target.map((d, i) => (d === 0 ? x.shape[i] : d));
    const known = sizeOf(t.filter((d) => d !== -1));
    b.out({ ...x, shape: t.map((d) => (d === -1 ? total / known : d)) });
    return;
  }
  const xt = b.tensorInput(0);
  if (target.length === 0 || !isBatchDim(b, target[0])) {
    b.fail(`Reshape to [${target}] changes the batch dim; expected [batch, ...]`);
  }
  const inShape = b.shapeOf(xt);
  const rest = target.slice(1).map((d, i) =>
    d === 0 ? inShape[i + 1] as number : Number.isNaN(d) ? b.fail("unknown dim in Reshape target") : d
  );
  if (!reshapeChannels(b, xt, rest)) reshapeTensor(b, xt, rest);
}

/** Flatten. */
export function flatten(b: GraphBuilder): void {
  const x = b.input(0);
  const axis = intAttr(b.node, "axis", 1);
  if (isConst(x)) {
    const a = normAxis(axis, x.shape.length, "axis");
    b.out({ ...x, shape: [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))] });
    return;
  }
  // axis 0 flattens to [1, everything]: the same as axis 1 for a graph declared with batch size 1
  if (axis !== 1 && !(axis === 0 && b.staticBatch === 1)) {
    b.fail(`Flatten axis=${axis}; expected 1 (keep the batch dim)`);
  }
  const xt = b.tensorInput(0);
  reshapeTensor(b, xt, [b.sampleSize(xt)]);
}

/** The axes of Squeeze/Unsqueeze (an attribute before opset 13, input 1 from 13). */
function axesOf(b: GraphBuilder): number[] {
  return b.opset >= 13 && b.node.inputs.length > 1 ? b.optionalInts(1) ?? [] : intsAttr(b.node, "axes") ?? [];
}

/** Unsqueeze (of a tensor: trailing axes only). */
export function unsqueeze(b: GraphBuilder): void {
  const x = b.input(0);
  const axes = axesOf(b);
  if (isConst(x)) {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => normAxis(a, rank, "axis")).sort((p, q) => p - q);
    const shape = [...x.shape];
    for (const a of norm) shape.splice(a, 0, 1);
    b.out({ ...x, shape });
    return;
  }
  const xt = unpermuted(b, b.tensorInput(0));
  const rank = b.shapeOf(xt).length;
  const newRank = rank + axes.length;
  const norm = axes.map((a) => normAxis(a, newRank, "axis")).sort((p, q) => p - q);
  if (!norm.every((a, i) => a === rank + i)) {
    b.fail(`Unsqueeze axes [${axes}] of a tensor; only trailing axes are supported`);
  }
  b.out({ ...xt, ones: xt.ones + axes.length });
}

/** Squeeze. */
export function squeeze(b: GraphBuilder): void {
  const x = b.input(0);
  if (isConst(x)) {
    const axes = axesOf(b).map((a) => normAxis(a, x.shape.length, "axis"));
    b.out({ ...x, shape: x.shape.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1)) });
    return;
  }
  const xt = b.tensorInput(0);
  const shape = b.shapeOf(xt);
  const axes = axesOf(b).map((a) => normAxis(a, shape.length, "axis"));
  const drop = axes.length ? axes : shape.map((d, i) => (d === 1 && i > 0 ? i : -1)).filter((i) => i >= 0);
  if (drop.some((a) => a === 0 || shape[a] !== 1)) b.fail(`Squeeze axes [${axes}] of shape [${shape}]`);
  reshapeTensor(b, xt, shape.filter((_, i) => i > 0 && !drop.includes(i)) as number[]);
}

/** Transpose: folded for constants; a pending permutation (or channel-gather reorder) for tensors. */
export function transpose(b: GraphBuilder): void {
  const x = b.input(0);
  const rank = isConst(x) ? x.shape.length : b.shapeOf(b.tensorInput(0)).length;
  const perm = intsAttr(b.node, "perm") ?? identity(rank).reverse();
  if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    b.fail(`perm [${perm}] is not a permutation of ${rank} axes`);
  }
  if (isConst(x)) {
    b.out({ ...x, data: transposeArray(x.data, x.shape, perm), shape: perm.map((p) => x.shape[p]) });
    return;
  }
  let xt = b.tensorInput(0);
  if (xt.channels) {
    const k = xt.channels.dims.length;
    const inner = perm.slice(1, k + 1).map((p) => p - 1);
    const keeps = perm[0] === 0 && perm.slice(k + 1).every((p, i) => p === k + 1 + i) &&
      inner.every((p) => p >= 0 && p < k);
    if (keeps) {
      const { dims, source } = xt.channels;
      b.out({
        ...xt,
        channels: { dims: inner.map((p) => dims[p]), source: transposeArray(source, dims, inner) },
      });
      return;
    }
  }
  if (xt.channels || xt.ones) xt = b.materialize(xt);
  const base = xt.perm ?? identity(rank);
  const composed = perm.map((p) => base[p]);
  if (composed[0] !== 0) b.fail(`Transpose perm [${perm}] moves the batch dim`);
  if (composed.every((p, i) => p === i)) b.out({ ...xt, perm: undefined, permBy: undefined });
  else b.out({ ...xt, perm: composed, permBy: b.node.name });
}

/** Concat (of tensors: on the channel axis). */
export function concat(b: GraphBuilder): void {
  const vals = b.node.inputs.map((_, i) => b.input(i));
  const axis = intAttr(b.node, "axis", 1);
  if (vals.every(isConst)) {
    b.out(concatConst(vals as ConstValue[], axis));
    return;
  }
  if (!vals.every((v) => v?.kind === "tensor")) b.fail("Concat of tensors and constants");
  const ts = vals.map((_, i) => b.plainInput(i));
  const rank = b.shapeOf(ts[0]).length;
  if (normAxis(axis, rank, "axis") !== 1) {
    b.fail(`Concat on axis ${axis}; only the channel axis (1) is supported`);
  }
  if (ts.length === 1) {
    b.out(ts[0]);
    return;
  }
  const layer = tf.layers.concatenate({ axis: rank === 2 ? -1 : 1, name: b.layerName() });
  b.tensorOut(b.apply(layer, ...ts), ts.every((t) => t.nonNegative));
}

/** Output `output` of the current node: channels `picked` (indices into the ONNX channel axis) of `x`. */
function pickChannels(b: GraphBuilder, x: TensorValue, picked: number[], output: number): void {
  if (x.perm || x.ones || (x.channels && x.channels.dims.length !== 1)) x = b.materialize(x);
  const physical = x.sym.shape[1] as number;
  const source = x.channels?.source ?? Int32Array.from(identity(physical));
  const sel = Int32Array.from(picked, (i) => source[i]);
  const plain = sel.length === physical && sel.every((c, i) => c === i);
  b.out(
    plain ? { ...x, channels: undefined } : { ...x, channels: { dims: [sel.length], source: sel } },
    output,
  );
}

/** Slice (of a tensor: along the channel axis only). */
export function slice(b: GraphBuilder): void {
  const data = b.input(0);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (b.opset < 10) {
    starts = intsAttr(b.node, "starts") ?? [];
    ends = intsAttr(b.node, "ends") ?? [];
    axes = intsAttr(b.node, "axes");
  } else {
    starts = b.optionalInts(1) ?? [];
    ends = b.optionalInts(2) ?? [];
    axes = b.optionalInts(3);
    steps = b.optionalInts(4);
  }
  axes ??= starts.map((_, i) => i);
  if (isConst(data)) {
    b.out(sliceConst(data, starts, ends, axes, steps ?? axes.map(() => 1)));
    return;
  }
  const x = b.tensorInput(0);
  const shape = b.shapeOf(x);
  let picked: number[] | undefined;
  axes.forEach((raw, i) => {
    const axis = normAxis(raw, shape.length, "axis");
    const dim = shape[axis];
    const step = steps?.[i] ?? 1;
    if (dim === null) {
      if (starts[i] === 0 && ends[i] >= 2 ** 31 - 1 && step === 1) return; // the whole batch
      b.fail(`Slice of the batch dim`);
    }
    const idx = sliceIndices(dim, starts[i], ends[i], step);
    if (axis === 1) picked = idx;
    else if (idx.length !== dim || idx.some((v, j) => v !== j)) {
      b.fail(`Slice of a tensor along axis ${axis}; only channel slices (axis 1) are supported`);
    }
  });
  if (picked === undefined) b.out(x);
  else pickChannels(b, x, picked, 0);
}

/** Split (of a tensor: along the channel axis). */
export function split(b: GraphBuilder): void {
  const data = b.input(0);
  const n = b.node.outputs.length;
  const rank = isConst(data) ? data.shape.length : b.shapeOf(b.tensorInput(0)).length;
  const axis = normAxis(intAttr(b.node, "axis", 0), rank, "axis");
  const dim = isConst(data) ? data.shape[axis] : b.shapeOf(b.tensorInput(0))[axis];
  if (dim === null) b.fail("Split of the batch dim");
  let sizes = b.opset >= 13 ? b.optionalInts(1) : intsAttr(b.node, "split");
  if (!sizes || sizes.length === 0) {
    const parts = b.opset >= 18 ? intAttr(b.node, "num_outputs", n) : n;
    const each = Math.ceil(dim / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
  }
  if (sizes.length !== n || sizes.reduce((s, v) => s + v, 0) !== dim) {
    b.fail(`split sizes [${sizes}] do not divide a dim of ${dim} into ${n} outputs`);
  }
  if (!isConst(data) && axis !== 1) b.fail(`Split of a tensor along axis ${axis}; only the channel axis (1)`);
  let start = 0;
  sizes.forEach((size, i) => {
    if (isConst(data)) b.out(sliceConst(data, [start], [start + size], [axis], [1]), i);
    else pickChannels(b, b.tensorInput(0), identity(size).map((j) => start + j), i);
    start += size;
  });
}

/** Gather: folded for constants; 1-D indices on the channel axis of a tensor pick channels. */
export function gather(b: GraphBuilder): void {
  const data = b.input(0);
  const indices = b.constInput(1, "indices");
  const axis = intAttr(b.node, "axis", 0);
  if (isConst(data)) {
    b.out(gatherConst(data, indices, axis));
    return;
  }
  const x = b.tensorInput(0);
  const shape = b.shapeOf(x);
  if (normAxis(axis, shape.length, "axis") !== 1 || indices.shape.length !== 1) {
    b.fail("Gather on a tensor: only 1-D indices on the channel axis (1) are supported");
  }
  const dim = shape[1] as number;
  const picked = Array.from(indices.data, (v) => (v < 0 ? v + dim : v));
  if (picked.some((v) => !(v >= 0 && v < dim))) {
    b.fail(`Gather indices [${indices.data}] out of range for ${dim}`);
  }
  pickChannels(b, x, picked, 0);
}

/** Pad: zero padding of the spatial dims of an NCHW tensor. */
export function pad(b: GraphBuilder): void {
  const x = b.plainInput(0);
  const mode = stringAttr(b.node, "mode", "constant");
  let pads: number[];
  let value = 0;
  if (b.opset < 11) {
    pads = intsAttr(b.node, "pads") ?? intsAttr(b.node, "paddings") ?? b.fail("pads missing");
    value = floatAttr(b.node, "value", 0);
  } else {
    pads = b.optionalInts(1) ?? b.fail("pads missing");
    const v = b.input(2);
    if (v !== undefined) value = isConst(v) ? v.data[0] ?? 0 : b.fail("pad value must be a constant");
    if (b.node.inputs[3]) b.fail("Pad with axes input is not supported");
  }
  if (mode !== "constant" || value !== 0) {
    b.fail(`Pad mode '${mode}' value ${value}; only zero padding is supported`);
  }
  const rank = b.shapeOf(x).length;
  if (pads.length !== 2 * rank) b.fail(`pads [${pads}] for a rank-${rank} input`);
  if (pads[0] || pads[1] || pads[rank] || pads[rank + 1]) b.fail(`Pad of the batch or channel dim [${pads}]`);
  if (pads.every((p) => p === 0)) {
    b.out(x);
    return;
  }
  if (rank !== 4 || pads.some((p) => p < 0)) {
    b.fail(`Pad [${pads}]: only non-negative spatial padding of NCHW inputs`);
  }
  const layer = tf.layers.zeroPadding2d({
    padding: [[pads[2], pads[6]], [pads[3], pads[7]]],
    dataFormat: "channelsFirst",
    name: b.name(`${b.node.name}_pad`),
  });
  b.tensorOut(b.apply(layer, x), x.nonNegative);
}

/** Upsample / Resize in nearest mode with integer scales. */
export function upsample(b: GraphBuilder): void {
  const x = b.plainInput(0);
  const mode = stringAttr(b.node, "mode", "nearest");
  if (mode !== "nearest") b.fail(`${b.node.opType} mode '${mode}'; only 'nearest' is supported`);
  const shape = b.shapeOf(x);
  let scales: number[] | undefined;
  if (b.node.opType === "Upsample" && b.opset < 9) {
    scales = (attr(b.node, "scales") as number[] | undefined) ??
      [1, 1, floatAttr(b.node, "height_scale", 1), floatAttr(b.node, "width_scale", 1)];
  } else if (b.node.opType === "Upsample" || b.opset === 10) {
    scales = b.optionalInts(1);
  } else {
    const ct = stringAttr(b.node, "coordinate_transformation_mode", "half_pixel");
    if (ct === "tf_crop_and_resize") b.fail("Resize coordinate_transformation_mode tf_crop_and_resize");
    scales = b.optionalInts(2);
    if (!scales || scales.length === 0) {
      const sizes = b.optionalInts(3) ?? b.fail("Resize without scales or sizes");
      scales = sizes.map((s, i) => (i < 2 ? 1 : s / (shape[i] as number)));
    }
  }
  if (
    !scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1 ||
    !scales.slice(2).every((s) => Number.isInteger(s) && s >= 1)
  ) {
    b.fail(`scales [${scales}]; expected [1, 1, sh, sw] with integer sh, sw`);
  }
  const layer = tf.layers.upSampling2d({
    size: [scales[2], scales[3]],
    dataFormat: "channelsFirst",
    interpolation: "nearest",
    name: b.layerName(),
  });
  b.tensorOut(b.apply(layer, x), x.nonNegative);
}

/** Cast: folded for constants; float casts of tensors pass through. */
export function cast(b: GraphBuilder): void {
  const x = b.input(0);
  const to = intAttr(b.node, "to", 1);
  const integer = to !== 1 && to !== 11 && to !== 10 && to !== 16;
  if (isConst(x)) {
    const data = Float64Array.from(
      x.data,
      (v) => (to === 9 ? (v !== 0 ? 1 : 0) : integer ? Math.trunc(v) : v),
    );
    b.out(constOf(data, x.shape, integer));
    return;
  }
  if (integer) b.fail(`Cast of a tensor to ONNX type ${to}; only float casts are supported`);
  b.out(b.tensorInput(0));
}

/** Shape: the static shape as a constant (`NaN` for the batch dim). */
export function shapeOp(b: GraphBuilder): void {
  const x = b.input(0);
  const dims = isConst(x) ? x.shape : b.shapeOf(b.tensorInput(0)).map((d) => d ?? NaN);
  const rank = dims.length;
  const start = intAttr(b.node, "start", 0);
  const end = intAttr(b.node, "end", rank);
  const s = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
  const e = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
  const sel = dims.slice(s, e);
  b.out(constOf(sel, [sel.length], true));
}

/** Constant. */
export function constant(b: GraphBuilder): void {
  const v = attr(b.node, "value");
  if (v && typeof v === "object" && !Array.isArray(v)) {
    b.out(fromTensor(v));
    return;
  }
  const f = attr(b.node, "value_float");
  const fs = attr(b.node, "value_floats");
  const i = attr(b.node, "value_int");
  const is = attr(b.node, "value_ints");
  if (typeof f === "number") b.out(constOf([f], []));
  else if (Array.isArray(fs)) b.out(constOf(fs as number[], [fs.length]));
  else if (typeof i === "number") b.out(constOf([i], [], true));
  else if (Array.isArray(is)) b.out(constOf(is as number[], [is.length], true));
  else b.fail("Constant without a numeric value");
}

/** ConstantOfShape. */
export function constantOfShape(b: GraphBuilder): void {
  const shape = Array.from(b.constInput(0, "shape").data);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    b.fail(`ConstantOfShape of [${shape}] (batch-dependent)`);
  }
  const v = attr(b.node, "value");
  const t = v && typeof v === "object" && !Array.isArray(v) ? v as OnnxTensor : undefined;
  const fill = t ? t.data[0] ?? 0 : 0;
  b.out(constOf(new Float64Array(sizeOf(shape)).fill(fill), shape, t ? t.dataType !== 1 : false));
}

/** Identity, Dropout (inference): the input passes through. */
export function passThrough(b: GraphBuilder): void {
  b.out(b.input(0) ?? b.fail("missing input"));
}
