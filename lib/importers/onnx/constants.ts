/**
 * Constant values of an ONNX graph — initializers, `Constant` nodes, static
 * shapes, and everything computed from them — and their folding on the
 * spot (small numpy-like operations on C-order arrays), so that shape
 * arithmetic (`Shape→Gather→Unsqueeze→Concat→Reshape`, ShuffleNet's
 * channel counts) never reaches the built model.
 *
 * @module
 */
import { sizeOf } from "../../io/ndarray.ts";
import { stridesOf } from "../../io/layout.ts";
import type { OnnxTensor } from "./proto.ts";

/** A value known at load time (initializer, folded constant, static shape). `NaN` marks the batch size. */
export interface ConstValue {
  /** Discriminant. */
  kind: "const";
  /** Elements in C order. */
  data: Float32Array | Float64Array;
  /** Dims. */
  shape: number[];
  /** True for integer/bool ONNX types (integer division, truncating casts). */
  integer: boolean;
}

/** A problem with one node (caught by the graph walker and reported with the node). */
export class NodeError extends Error {}

/** A constant of the given elements and shape. */
export function constOf(
  data: Float32Array | Float64Array | number[],
  shape: number[],
  integer = false,
): ConstValue {
  const arr = Array.isArray(data) ? Float64Array.from(data) : data;
  return { kind: "const", data: arr, shape, integer };
}

/** The constant of an ONNX tensor (initializer or `Constant` value). */
export function fromTensor(t: OnnxTensor): ConstValue {
  return { kind: "const", data: t.data, shape: [...t.dims], integer: t.dataType !== 1 && t.dataType !== 11 };
}

/** `axis` (negative counts from the end) as an index into `rank` dims. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new NodeError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** numpy broadcast of two shapes. */
export function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new NodeError(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For each flat index of `outShape`, the flat index of the broadcast source of `shape`. */
export function broadcastIndex(shape: number[], outShape: number[]): (flat: number) => number {
  const offset = outShape.length - shape.length;
  const s = stridesOf(shape);
  const os = stridesOf(outShape);
  return (flat) => {
    let src = 0;
    for (let d = 0; d < shape.length; d++) {
      const coord = Math.floor(flat / os[d + offset]) % outShape[d + offset];
      if (shape[d] !== 1) src += coord * s[d];
    }
    return src;
  };
}

/** `a op b` (Add, Sub, Mul, Div; integer division truncates) with numpy broadcasting. */
export function binaryConst(a: ConstValue, b: ConstValue, op: string): ConstValue {
  const shape = broadcastShape(a.shape, b.shape);
  const n = sizeOf(shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const integer = a.integer && b.integer;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[ia(i)];
    const y = b.data[ib(i)];
    out[i] = op === "Add"
      ? x + y
      : op === "Sub"
      ? x - y
      : op === "Mul"
      ? x * y
      : integer
      ? Math.trunc(x / y)
      : x / y;
  }
  return constOf(out, shape, integer);
}

/** numpy `take(data, indices, axis)`. */
export function gatherConst(data: ConstValue, indices: ConstValue, axisAttr: number): ConstValue {
  const axis = normAxis(axisAttr, data.shape.length, "axis");
  const outer = sizeOf(data.shape.slice(0, axis));
  const dim = data.shape[axis];
  const inner = sizeOf(data.shape.slice(axis + 1));
  const out = new Float64Array(outer * indices.data.length * inner);
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const raw of indices.data) {
      const k = raw < 0 ? raw + dim : raw;
      if (!(k >= 0 && k < dim)) throw new NodeError(`index ${raw} out of range for dim ${dim}`);
      for (let j = 0; j < inner; j++) out[o++] = data.data[(i * dim + k) * inner + j];
    }
  }
  const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
  return constOf(out, shape, data.integer);
}

/** numpy `concatenate(values, axis)`. */
export function concatConst(values: ConstValue[], axisAttr: number): ConstValue {
  const rank = values[0].shape.length;
  const axis = normAxis(axisAttr, rank, "axis");
  const outer = sizeOf(values[0].shape.slice(0, axis));
  const shape = [...values[0].shape];
  shape[axis] = values.reduce((s, v) => s + v.shape[axis], 0);
  const out = new Float64Array(sizeOf(shape));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const v of values) {
      const block = sizeOf(v.shape.slice(axis));
      for (let j = 0; j < block; j++) out[o++] = v.data[i * block + j];
    }
  }
  return constOf(out, shape, values.every((v) => v.integer));
}

/** ONNX Slice of a constant (numpy slicing with clamped bounds). */
export function sliceConst(
  data: ConstValue,
  starts: number[],
  ends: number[],
  axes: number[],
  steps: number[],
): ConstValue {
  const rank = data.shape.length;
  const begin = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const count = [...data.shape];
  axes.forEach((axRaw, i) => {
    const ax = normAxis(axRaw, rank, "axis");
    const dim = data.shape[ax];
    const st = steps[i] ?? 1;
    if (st === 0) throw new NodeError("slice step 0");
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (st > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      count[ax] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = Math.min(Math.max(s, -1), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      count[ax] = Math.max(0, Math.ceil((s - e) / -st));
    }
    begin[ax] = s;
    step[ax] = st;
  });
  const inS = stridesOf(data.shape);
  const n = sizeOf(count);
  const out = new Float64Array(n);
  const cs = stridesOf(count);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(o / cs[d]) % count[d];
      src += (begin[d] + c * step[d]) * inS[d];
    }
    out[o] = data.data[src];
  }
  return constOf(out, count, data.integer);
}

/**
 * The indices ONNX Slice picks along one dim of size `dim` (numpy slicing
 * with bounds clamped; negative start/end count from the end).
 */
export function sliceIndices(dim: number, start: number, end: number, step: number): number[] {
  if (step === 0) throw new NodeError("slice step 0");
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  const out: number[] = [];
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}
