/**
 * The ONNX input library (`[input] model_lib = onnx`): loads a `.onnx` file
 * into a runnable TensorFlow.js layers model that computes in the source's
 * NCHW layout (`dataFormat: 'channelsFirst'` layers, BatchNormalization on
 * axis 1), with the weights converted to the TF.js layouts.
 *
 * The graph is walked once in its (topological) node order. Values are
 * either constants — initializers and everything computed from them and from
 * static shapes, folded on the spot (so the `x.view(x.size(0), -1)` chain
 * Shape→Gather→Unsqueeze→Concat→Reshape becomes a plain flatten) — or
 * symbolic tensors produced by TF.js layers. Operators that cannot be
 * mapped are collected and reported together in one
 * {@linkcode UnsupportedLayerError}.
 *
 * @module
 */
import { summarizeError } from "../../io/unexpected_errors.ts";
import { exceedsCeiling } from "../../io/limits.ts";
import { tf } from "../../../deps.ts";
import { applyTfjsFixes } from "../../layers/tfjs_fixes.ts";
import { requireBackend } from "../../backend/mod.ts";
import { ModelFormatError, SnnToolboxError, UnsupportedLayerError } from "../../errors.ts";
import { sizeOf } from "../../io/ndarray.ts";
import { isFileSync } from "../../io/paths.ts";
import {
  convKernelToTf,
  denseKernelToTf,
  depthwiseKernelToTf,
  stridesOf,
  transposeArray,
} from "../../io/layout.ts";
import {
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  readOnnxModel,
} from "./proto.ts";
import type { DataFormat, InputModel, LoadOptions } from "../input_model.ts";
import { uniqueLayerName } from "../layer_names.ts";

/** Newest default-domain opset this library knows. */
export const MAX_ONNX_OPSET = 21;

/** ONNX operators (default domain) this library maps onto TF.js layers or folds as constants. */
export const SUPPORTED_ONNX_OPS: readonly string[] = [
  "Add",
  "AveragePool",
  "BatchNormalization",
  "Cast",
  "Clip",
  "Concat",
  "Constant",
  "ConstantOfShape",
  "Conv",
  "ConvTranspose",
  "Div",
  "Dropout",
  "Flatten",
  "Gather",
  "Gemm",
  "GlobalAveragePool",
  "GlobalMaxPool",
  "Identity",
  "MatMul",
  "MaxPool",
  "Mul",
  "Pad",
  "Relu",
  "Reshape",
  "Resize",
  "Shape",
  "Slice",
  "Softmax",
  "Squeeze",
  "Sub",
  "Transpose",
  "Unsqueeze",
  "Upsample",
];

// ---------------------------------------------------------------------------
// Values

/** A value known at load time (initializer, folded constant, static shape). `NaN` marks the batch size. */
interface ConstValue {
  kind: "const";
  data: Float32Array | Float64Array;
  shape: number[];
  /** True for integer/bool ONNX types (integer division, truncating casts). */
  integer: boolean;
}

/** A symbolic tensor produced by a TF.js layer. */
interface TensorValue {
  kind: "tensor";
  sym: tf.SymbolicTensor;
  /** Trailing size-1 dims the ONNX value has but `sym` does not (GlobalAveragePool, Unsqueeze). */
  ones: number;
  /** Whether every element is known to be ≥ 0 (after Relu): zero padding then equals max-pool padding. */
  nonNegative: boolean;
}

/** The output of a node that could not be mapped; consumers are skipped silently. */
interface PoisonValue {
  kind: "poison";
}

type Value = ConstValue | TensorValue | PoisonValue;

/** A layer whose weights are set once the model is built. */
interface WeightRecord {
  layer: tf.layers.Layer;
  weights: { data: Float32Array; shape: number[] }[];
  /** Index of the bias in `weights` (Dense/Conv: a following Add of a constant is folded into it). */
  bias?: number;
  /** Channel axis of the output in ONNX terms (1) and the output rank (to check Add broadcasting). */
  rank?: number;
}

/** One problem found in a node; all of them are reported together. */
interface NodeProblem {
  node: OnnxNode;
  reason: string;
}

class NodeError extends Error {}

/** Errors that are not about the file's contents: programming errors and the toolbox's own. */
function isBugOrToolboxError(err: Error): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof SnnToolboxError;
}

function isConst(v: Value | undefined): v is ConstValue {
  return v !== undefined && v.kind === "const";
}

function constOf(data: Float32Array | Float64Array | number[], shape: number[], integer = false): ConstValue {
  const arr = Array.isArray(data) ? Float64Array.from(data) : data;
  return { kind: "const", data: arr, shape, integer };
}

function fromTensor(t: OnnxTensor): ConstValue {
  return { kind: "const", data: t.data, shape: [...t.dims], integer: t.dataType !== 1 && t.dataType !== 11 };
}

// ---------------------------------------------------------------------------
// Constant folding (small numpy-like helpers on C-order arrays)

function broadcastShape(a: number[], b: number[]): number[] {
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

function broadcastIndex(shape: number[], outShape: number[]): (flat: number) => number {
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

function binaryConst(a: ConstValue, b: ConstValue, op: string): ConstValue {
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

function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new NodeError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

function gatherConst(data: ConstValue, indices: ConstValue, axisAttr: number): ConstValue {
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

function concatConst(values: ConstValue[], axisAttr: number): ConstValue {
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

function sliceConst(
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

// ---------------------------------------------------------------------------
// Attribute access

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}

function intAttr(node: OnnxNode, name: string, dflt: number): number {
  const v = attr(node, name);
  return typeof v === "number" ? v : dflt;
}

function floatAttr(node: OnnxNode, name: string, dflt: number): number {
  return intAttr(node, name, dflt);
}

function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const v = attr(node, name);
  return Array.isArray(v) && (v.length === 0 || typeof v[0] === "number") ? v as number[] : undefined;
}

function stringAttr(node: OnnxNode, name: string, dflt: string): string {
  const v = attr(node, name);
  return typeof v === "string" ? v : dflt;
}

// ---------------------------------------------------------------------------
// The graph walker

/** Make a valid, unique TF.js layer name from an ONNX node name. */
function layerNamer(): (base: string) => string {
  const used = new Set<string>();
  // ONNX names are paths (`/features/features.0/Conv`): runs of other characters become one `_`, trimmed.
  return (base) => uniqueLayerName(base.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, ""), used);
}

/** Symmetric TF 'same' pads (before, after) of one spatial dim, or undefined when the input size is unknown. */
function samePads(size: number | null, k: number, s: number, d: number): [number, number] | undefined {
  if (size === null) return undefined;
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + eff - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Weights are set from the file after building: skip the random initialisation (costly for large models). */
const NO_INIT = { kernelInitializer: "zeros", biasInitializer: "zeros" } as const;

type Padding = { mode: "valid" | "same" } | { mode: "explicit"; pads: [number, number][] };

class GraphBuilder {
  readonly values = new Map<string, Value>();
  readonly records = new Map<string, WeightRecord>();
  readonly consumers = new Map<string, number>();
  readonly problems: NodeProblem[] = [];
  readonly name = layerNamer();
  staticBatch: number | null = null;
  node!: OnnxNode;

  constructor(readonly model: OnnxModel) {
    for (const n of model.nodes) {
      for (const i of n.inputs) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    }
    for (const o of model.outputs) this.consumers.set(o.name, (this.consumers.get(o.name) ?? 0) + 1);
    for (const [name, t] of model.initializers) this.values.set(name, fromTensor(t));
  }

  get opset(): number {
    return this.model.opset;
  }

  fail(reason: string): never {
    throw new NodeError(reason);
  }

  input(i: number): Value | undefined {
    const name = this.node.inputs[i];
    if (name === undefined || name === "") return undefined;
    const v = this.values.get(name);
    if (v === undefined) {
      throw new ModelFormatError(
        `${this.model.path}: node '${this.node.name}' reads '${name}', which no earlier node, initializer ` +
          `or graph input produces (nodes must be in topological order)`,
        { file: this.model.path },
      );
    }
    return v;
  }

  tensorInput(i: number): TensorValue {
    const v = this.input(i);
    if (v?.kind !== "tensor") {
      this.fail(`input ${i} ('${this.node.inputs[i]}') must be a tensor, found a constant`);
    }
    return v;
  }

  constInput(i: number, what: string): ConstValue {
    const v = this.input(i);
    if (!isConst(v)) this.fail(`${what} (input ${i}, '${this.node.inputs[i] ?? ""}') must be a constant`);
    return v;
  }

  optionalInts(i: number): number[] | undefined {
    const v = this.input(i);
    if (v === undefined) return undefined;
    if (!isConst(v)) this.fail(`input ${i} ('${this.node.inputs[i]}') must be a constant`);
    return Array.from(v.data);
  }

  /** Logical ONNX shape of a tensor value (batch dim `null`). */
  shapeOf(v: TensorValue): (number | null)[] {
    return [...v.sym.shape, ...new Array<number>(v.ones).fill(1)];
  }

  /** Turn virtual trailing ones into real dims (a Reshape layer). */
  materialize(v: TensorValue): TensorValue {
    if (v.ones === 0) return v;
    const shape = this.shapeOf(v).slice(1) as number[];
    const sym = this.apply(
      tf.layers.reshape({ targetShape: shape, name: this.name(`${this.node.name}_reshape`) }),
      v,
    );
    return { kind: "tensor", sym, ones: 0, nonNegative: v.nonNegative };
  }

  apply(layer: tf.layers.Layer, ...inputs: TensorValue[]): tf.SymbolicTensor {
    const arg = inputs.length === 1 ? inputs[0].sym : inputs.map((x) => x.sym);
    return layer.apply(arg) as tf.SymbolicTensor;
  }

  out(v: Value, i = 0): void {
    const name = this.node.outputs[i];
    if (name) this.values.set(name, v);
  }

  tensorOut(sym: tf.SymbolicTensor, nonNegative = false, ones = 0): TensorValue {
    const v: TensorValue = { kind: "tensor", sym, ones, nonNegative };
    this.out(v);
    return v;
  }

  layerName(): string {
    return this.name(this.node.name);
  }

  /** Resolve Conv/Pool padding for the spatial dims of `x` (NCHW). */
  padding(x: TensorValue, kernel: number[], strideArr: number[], dil: number[]): Padding {
    const shape = this.shapeOf(x);
    const spatial = shape.slice(2);
    const autoPad = stringAttr(this.node, "auto_pad", "NOTSET");
    const same = spatial.map((s, i) => samePads(s, kernel[i], strideArr[i], dil[i]));
    if (autoPad === "VALID") return { mode: "valid" };
    if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
      if (same.some((p) => p === undefined)) this.fail(`auto_pad ${autoPad} needs static spatial dims`);
      const pads = same as [number, number][];
      if (autoPad === "SAME_UPPER" || pads.every(([a, b]) => a === b)) return { mode: "same" };
      return { mode: "explicit", pads: pads.map(([a, b]) => [b, a]) };
    }
    if (autoPad !== "NOTSET") {
      this.fail(`auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
    }
    const pads = intsAttr(this.node, "pads") ?? intsAttr(this.node, "paddings") ?? [];
    const n = spatial.length;
    const pairs: [number, number][] = spatial.map((_, i) => [pads[i] ?? 0, pads[i + n] ?? 0]);
    if (pairs.some(([a, b]) => a < 0 || b < 0)) this.fail(`negative pads [${pads}]`);
    if (pairs.every(([a, b]) => a === 0 && b === 0)) return { mode: "valid" };
    if (pairs.every(([a, b], i) => same[i] !== undefined && same[i]![0] === a && same[i]![1] === b)) {
      return { mode: "same" };
    }
    return { mode: "explicit", pads: pairs };
  }

  zeroPad(x: TensorValue, pads: [number, number][]): TensorValue {
    if (pads.length !== 2) {
      this.fail(`explicit padding [${pads}] of a ${pads.length}-D input needs 'same' padding`);
    }
    const sym = this.apply(
      tf.layers.zeroPadding2d({
        padding: [pads[0], pads[1]],
        dataFormat: "channelsFirst",
        name: this.name(`${this.node.name}_pad`),
      }),
      x,
    );
    return { kind: "tensor", sym, ones: 0, nonNegative: x.nonNegative };
  }

  record(
    layer: tf.layers.Layer,
    weights: { data: Float32Array; shape: number[] }[],
    bias?: number,
    rank?: number,
  ): void {
    const name = this.node.outputs[0];
    this.records.set(name, { layer, weights, bias, rank });
  }

  // ---- operators ---------------------------------------------------------

  conv(): void {
    const x = this.materialize(this.tensorInput(0));
    const w = this.constInput(1, "weight");
    const b = this.input(2);
    const rank = this.shapeOf(x).length;
    if (rank !== 3 && rank !== 4) this.fail(`Conv on a rank-${rank} input; expected 1-D (NCW) or 2-D (NCHW)`);
    const nsp = rank - 2;
    const [outC, inPerGroup] = w.shape;
    const kernel = intsAttr(this.node, "kernel_shape") ?? w.shape.slice(2);
    const stride = intsAttr(this.node, "strides") ?? new Array<number>(nsp).fill(1);
    const dil = intsAttr(this.node, "dilations") ?? new Array<number>(nsp).fill(1);
    const group = intAttr(this.node, "group", 1);
    const inC = this.shapeOf(x)[1];
    // Checked before TF.js builds the layer: it allocates the kernel from these sizes.
    if (typeof inC === "number" && inC !== inPerGroup * group) {
      this.fail(
        `weight [${w.shape.join(", ")}] expects ${inPerGroup * group} input channels ` +
          `(${inPerGroup} per group x ${group} groups), the input has ${inC}`,
      );
    }
    if (kernel.length !== nsp || kernel.some((k, i) => k !== w.shape[2 + i])) {
      this.fail(`kernel_shape [${kernel.join(", ")}] does not match the weight [${w.shape.join(", ")}]`);
    }
    if (stride.some((s) => s !== 1) && dil.some((d) => d !== 1)) {
      this.fail(`strides [${stride}] together with dilations [${dil}]: TF.js supports one or the other`);
    }
    let bias = new Float32Array(outC);
    if (b !== undefined) {
      if (!isConst(b)) this.fail("bias must be a constant");
      bias = Float32Array.from(b.data);
    }
    let pad = this.padding(x, kernel, stride, dil);
    let src = x;
    if (pad.mode === "explicit") {
      if (nsp !== 2) this.fail(`Conv1D pads that are not 'same' or zero`);
      src = this.zeroPad(x, pad.pads);
      pad = { mode: "valid" };
    }
    const padding = pad.mode as "valid" | "same";
    const wdata = Float32Array.from(w.data);
    let layer: tf.layers.Layer;
    let kernelW: { data: Float32Array; shape: number[] };
    if (group === 1) {
      if (nsp === 2) {
        layer = tf.layers.conv2d({
          filters: outC,
          kernelSize: kernel,
          strides: stride,
          padding,
          dilationRate: dil as [number, number],
          dataFormat: "channelsFirst",
          useBias: true,
          ...NO_INIT,
          name: this.layerName(),
        });
        kernelW = convKernelToTf(wdata, w.shape);
      } else {
        // TF.js computes channelsFirst Conv1D as NWC: applyTfjsFixes corrects it once the model is built.
        layer = tf.layers.conv1d({
          filters: outC,
          kernelSize: kernel[0],
          strides: stride[0],
          padding,
          dilationRate: dil[0],
          dataFormat: "channelsFirst",
          useBias: true,
          ...NO_INIT,
          name: this.layerName(),
        });
        kernelW = convKernelToTf(wdata, w.shape);
      }
    } else if (nsp === 2 && inPerGroup === 1 && group === inC && outC % group === 0) {
      const mult = outC / group;
      // TF.js DepthwiseConv2D ignores dilationRate: spread the kernel out with zeros instead (exact).
      const [kh, kw] = kernel.map((k, i) => (k - 1) * dil[i] + 1);
      const spread = new Float32Array(outC * kh * kw);
      for (let o = 0; o < outC; o++) {
        for (let y = 0; y < kernel[0]; y++) {
          for (let x = 0; x < kernel[1]; x++) {
            spread[(o * kh + y * dil[0]) * kw + x * dil[1]] = wdata[(o * kernel[0] + y) * kernel[1] + x];
          }
        }
      }
      layer = tf.layers.depthwiseConv2d({
        kernelSize: [kh, kw],
        depthMultiplier: mult,
        depthwiseInitializer: "zeros",
        strides: stride,
        padding,
        dataFormat: "channelsFirst",
        useBias: true,
        ...NO_INIT,
        name: this.layerName(),
      });
      // ONNX [C*mult, 1, kh, kw] → TF.js [kh, kw, C, mult]; output channel c*mult+m in both.
      kernelW = depthwiseKernelToTf(spread, [outC, 1, kh, kw], group);
    } else {
      this.fail(
        `grouped convolution (group=${group}, ${inC} input channels): only group=1 and depthwise ` +
          `(group = input channels) are supported`,
      );
    }
    const sym = this.apply(layer, src);
    this.tensorOut(sym);
    this.record(layer, [kernelW, { data: bias, shape: [outC] }], 1, rank);
  }

  convTranspose(): void {
    const x = this.materialize(this.tensorInput(0));
    const w = this.constInput(1, "weight");
    const b = this.input(2);
    if (this.shapeOf(x).length !== 4) this.fail("ConvTranspose supported on 2-D (NCHW) inputs only");
    const [, outPerGroup, kh, kw] = w.shape;
    const group = intAttr(this.node, "group", 1);
    if (group !== 1) this.fail(`ConvTranspose with group=${group}; expected 1`);
    const kernel = intsAttr(this.node, "kernel_shape") ?? [kh, kw];
    const stride = intsAttr(this.node, "strides") ?? [1, 1];
    const dil = intsAttr(this.node, "dilations") ?? [1, 1];
    if (dil.some((d) => d !== 1)) this.fail(`ConvTranspose dilations [${dil}]; expected 1`);
    if (intsAttr(this.node, "output_shape")) {
      this.fail("ConvTranspose output_shape attribute is not supported");
    }
    const autoPad = stringAttr(this.node, "auto_pad", "NOTSET");
    if (autoPad !== "NOTSET" && autoPad !== "VALID") this.fail(`ConvTranspose auto_pad ${autoPad}`);
    const pads = intsAttr(this.node, "pads") ?? [0, 0, 0, 0];
    const outPad = intsAttr(this.node, "output_padding") ?? [0, 0];
    for (let i = 0; i < 2; i++) {
      if (kernel[i] < stride[i]) {
        this.fail(`ConvTranspose kernel ${kernel[i]} smaller than stride ${stride[i]}`);
      }
      if (outPad[i] > pads[i + 2]) this.fail(`ConvTranspose output_padding ${outPad[i]} larger than end pad`);
    }
    const layer = tf.layers.conv2dTranspose({
      filters: outPerGroup,
      kernelSize: kernel,
      strides: stride,
      padding: "valid",
      dataFormat: "channelsFirst",
      useBias: true,
      ...NO_INIT,
      name: this.layerName(),
    });
    let sym = this.apply(layer, x);
    const crop: [[number, number], [number, number]] = [
      [pads[0], pads[2] - outPad[0]],
      [pads[1], pads[3] - outPad[1]],
    ];
    if (crop.flat().some((c) => c !== 0)) {
      sym = tf.layers.cropping2D({
        cropping: crop,
        dataFormat: "channelsFirst",
        name: this.name(`${this.node.name}_crop`),
      })
        .apply(sym) as tf.SymbolicTensor;
    }
    const bias = b === undefined
      ? new Float32Array(outPerGroup)
      : isConst(b)
      ? Float32Array.from(b.data)
      : this.fail("bias must be a constant");
    this.tensorOut(sym);
    // ONNX [in, out, kh, kw] → TF.js [kh, kw, out, in]: the axis order of a Conv kernel's conversion.
    const kernelW = convKernelToTf(Float32Array.from(w.data), w.shape);
    this.records.set(this.node.outputs[0], {
      layer,
      weights: [kernelW, { data: bias, shape: [outPerGroup] }],
    });
  }

  dense(kernel: Float32Array, inUnits: number, units: number, bias: Float32Array, x: TensorValue): void {
    // TF.js builds (allocates) the kernel from the input size before the weights are set:
    // refuse an input size that does not fit the weight and would blow the memory ceiling.
    const last = this.shapeOf(x).at(-1);
    const tooBig = typeof last === "number" && last !== inUnits
      ? exceedsCeiling(last * units * 4)
      : undefined;
    if (tooBig) {
      this.fail(
        `weight of shape [${inUnits}, ${units}] does not fit an input of ${last} features (${tooBig})`,
      );
    }
    const layer = tf.layers.dense({ units, useBias: true, ...NO_INIT, name: this.layerName() });
    const sym = this.apply(layer, x);
    this.tensorOut(sym);
    this.record(
      layer,
      [{ data: kernel, shape: [inUnits, units] }, { data: bias, shape: [units] }],
      1,
      sym.shape.length,
    );
  }

  gemm(): void {
    const x = this.materialize(this.tensorInput(0));
    const b = this.constInput(1, "B");
    if (intAttr(this.node, "transA", 0) !== 0) {
      this.fail("Gemm with transA=1 on a tensor input (batch not first)");
    }
    if (this.shapeOf(x).length !== 2) {
      this.fail(`Gemm on a rank-${this.shapeOf(x).length} input; expected rank 2`);
    }
    const transB = intAttr(this.node, "transB", 0) !== 0;
    const alpha = floatAttr(this.node, "alpha", 1);
    const beta = floatAttr(this.node, "beta", 1);
    const [r, c] = b.shape;
    let kernel: Float32Array = Float32Array.from(b.data);
    if (transB) kernel = denseKernelToTf(kernel, r, c).data;
    const inUnits = transB ? c : r;
    const units = transB ? r : c;
    if (alpha !== 1) { for (let i = 0; i < kernel.length; i++) kernel[i] *= alpha; }
    const bias = new Float32Array(units);
    const cv = this.input(2);
    if (cv !== undefined) {
      if (!isConst(cv)) this.fail("C must be a constant");
      if (sizeOf(cv.shape) === 1) bias.fill(cv.data[0] * beta);
      else if (sizeOf(cv.shape) === units && cv.shape[cv.shape.length - 1] === units) {
        for (let i = 0; i < units; i++) bias[i] = cv.data[i] * beta;
      } else this.fail(`C of shape [${cv.shape}] does not broadcast as a per-unit bias of ${units} units`);
    }
    this.dense(kernel, inUnits, units, bias, x);
  }

  matMul(): void {
    const x = this.materialize(this.tensorInput(0));
    const w = this.constInput(1, "B");
    if (w.shape.length !== 2) {
      this.fail(`MatMul with a rank-${w.shape.length} constant; expected a 2-D weight`);
    }
    this.dense(Float32Array.from(w.data), w.shape[0], w.shape[1], new Float32Array(w.shape[1]), x);
  }

  binary(): void {
    const a = this.input(0);
    const b = this.input(1);
    const op = this.node.opType;
    if (isConst(a) && isConst(b)) {
      this.out(binaryConst(a, b, op));
      return;
    }
    if (op === "Add" && a?.kind === "tensor" && b?.kind === "tensor") {
      const sa = this.shapeOf(a).slice(1).join(",");
      const sb = this.shapeOf(b).slice(1).join(",");
      if (sa !== sb) this.fail(`Add of tensors with shapes [${sa}] and [${sb}]; expected equal shapes`);
      const x = this.materialize(a);
      const y = this.materialize(b);
      const sym = this.apply(tf.layers.add({ name: this.layerName() }), x, y);
      this.tensorOut(sym, x.nonNegative && y.nonNegative);
      return;
    }
    if (op === "Add") {
      const [t, c, tName] = a?.kind === "tensor" && isConst(b)
        ? [a, b, this.node.inputs[0]]
        : b?.kind === "tensor" && isConst(a)
        ? [b, a, this.node.inputs[1]]
        : this.fail("Add needs tensors or constants");
      this.addBias(t, c, tName);
      return;
    }
    this.fail(`${op} of a tensor is not supported (only constant-folded ${op})`);
  }

  /** Fold `tensor + constant` into the bias of the Dense/Conv layer producing the tensor. */
  addBias(t: TensorValue, c: ConstValue, tName: string): void {
    const rec = this.records.get(tName);
    if (!rec || rec.bias === undefined || rec.rank === undefined || this.consumers.get(tName) !== 1) {
      this.fail(
        "Add of a constant is supported only right after a Conv/Gemm/MatMul whose output it alone consumes",
      );
    }
    const bias = rec.weights[rec.bias].data;
    const units = bias.length;
    const rank = rec.rank;
    const dims = [...c.shape];
    // Legacy broadcast (opset < 7): `broadcast=1, axis=1` with a 1-D constant means per-channel.
    const legacyAxis = this.opset < 7 && intAttr(this.node, "broadcast", 0) === 1
      ? intAttr(this.node, "axis", -1)
      : -1;
    let perChannel = false;
    if (sizeOf(dims) === 1) perChannel = true;
    else if (legacyAxis === 1 && dims.length === 1 && dims[0] === units) perChannel = true;
    else {
      // numpy broadcasting against [N, C, ...spatial]: the constant must vary along C only
      while (dims.length < rank) dims.unshift(1);
      perChannel = dims.length === rank && dims.every((d, i) => (i === 1 ? d === units : d === 1));
    }
    if (!perChannel) this.fail(`Add of a constant of shape [${c.shape}] that is not a per-channel bias`);
    for (let i = 0; i < units; i++) bias[i] += sizeOf(c.shape) === 1 ? c.data[0] : c.data[i];
    this.out(t);
    this.records.delete(tName);
    this.records.set(this.node.outputs[0], rec);
  }

  batchNorm(): void {
    const x = this.tensorInput(0);
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
      this.constInput(i, ["scale", "B", "mean", "var"][i - 1])
    );
    const c = scale.data.length;
    const layer = tf.layers.batchNormalization({
      axis: 1,
      epsilon: floatAttr(this.node, "epsilon", 1e-5),
      momentum: floatAttr(this.node, "momentum", 0.9),
      name: this.layerName(),
    });
    const sym = this.apply(layer, x);
    this.tensorOut(sym, false, x.ones);
    const w = (v: ConstValue) => ({ data: Float32Array.from(v.data), shape: [c] });
    this.records.set(this.node.outputs[0], { layer, weights: [w(scale), w(bias), w(mean), w(variance)] });
  }

  clip(): void {
    const x = this.tensorInput(0);
    let lo: number;
    let hi: number;
    if (this.opset < 11) {
      lo = floatAttr(this.node, "min", -Infinity);
      hi = floatAttr(this.node, "max", Infinity);
    } else {
      const mn = this.input(1);
      const mx = this.input(2);
      lo = mn === undefined ? -Infinity : isConst(mn) ? mn.data[0] : this.fail("Clip min must be a constant");
      hi = mx === undefined ? Infinity : isConst(mx) ? mx.data[0] : this.fail("Clip max must be a constant");
    }
    if (!(lo === 0 || (lo <= 0 && x.nonNegative))) {
      this.fail(`Clip with min=${lo}: only clamped ReLU (min 0, or an input already ≥ 0) is supported`);
    }
    const m = this.materialize(x);
    const layer = Number.isFinite(hi)
      ? tf.layers.reLU({ maxValue: hi, name: this.layerName() })
      : tf.layers.activation({ activation: "relu", name: this.layerName() });
    this.tensorOut(this.apply(layer, m), true);
  }

  pool(kind: "max" | "avg"): void {
    const x = this.materialize(this.tensorInput(0));
    const shape = this.shapeOf(x);
    if (shape.length !== 4) this.fail(`${this.node.opType} on a rank-${shape.length} input; expected NCHW`);
    const kernel = intsAttr(this.node, "kernel_shape") ?? this.fail("kernel_shape missing");
    const stride = intsAttr(this.node, "strides") ?? [1, 1];
    const dil = intsAttr(this.node, "dilations") ?? [1, 1];
    if (dil.some((d) => d !== 1)) this.fail(`pooling dilations [${dil}]; expected 1`);
    if (intAttr(this.node, "ceil_mode", 0) !== 0) this.fail("ceil_mode=1 is not supported");
    let pad = this.padding(x, kernel, stride, dil);
    let src = x;
    if (pad.mode === "same" && kind === "avg" && intAttr(this.node, "count_include_pad", 0) === 1) {
      // TF.js averages over the valid elements only: pad with zeros explicitly.
      pad = {
        mode: "explicit",
        pads: shape.slice(2).map((s, i) => samePads(s, kernel[i], stride[i], 1) as [number, number]),
      };
    }
    if (pad.mode === "explicit") {
      if (kind === "max" && !x.nonNegative) {
        this.fail(
          `MaxPool pads [${pad.pads}] on an input that may be negative (zero padding would change the max)`,
        );
      }
      if (kind === "avg" && intAttr(this.node, "count_include_pad", 0) !== 1) {
        this.fail(
          `AveragePool pads [${pad.pads}] with count_include_pad=0 that are not TF.js 'same' padding`,
        );
      }
      src = this.zeroPad(x, pad.pads);
      pad = { mode: "valid" };
    }
    const args = {
      poolSize: kernel as [number, number],
      strides: stride as [number, number],
      padding: pad.mode as "valid" | "same",
      dataFormat: "channelsFirst" as const,
      name: this.layerName(),
    };
    const layer = kind === "max" ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    this.tensorOut(this.apply(layer, src), x.nonNegative);
  }

  globalPool(kind: "max" | "avg"): void {
    const x = this.materialize(this.tensorInput(0));
    if (this.shapeOf(x).length !== 4) this.fail("global pooling supported on NCHW inputs only");
    const args = { dataFormat: "channelsFirst" as const, name: this.layerName() };
    const layer = kind === "max"
      ? tf.layers.globalMaxPooling2d(args)
      : tf.layers.globalAveragePooling2d(args);
    this.tensorOut(this.apply(layer, x), x.nonNegative, 2);
  }

  /** Reshape a tensor to `[batch, ...rest]`; a flatten when `rest` is one dim. */
  reshapeTensor(x: TensorValue, rest: number[]): void {
    const shape = this.shapeOf(x);
    const inRest = shape.slice(1) as number[];
    if (inRest.some((d) => d === null)) this.fail("Reshape of a tensor with unknown dims");
    const total = sizeOf(inRest);
    const known = rest.filter((d) => d !== -1);
    if (rest.filter((d) => d === -1).length > 1) this.fail(`Reshape target [${rest}] has more than one -1`);
    const target = rest.map((d) => (d === -1 ? total / sizeOf(known) : d));
    if (sizeOf(target) !== total || !target.every(Number.isInteger)) {
      this.fail(`Reshape of [${inRest}] into [${rest}]: sizes differ`);
    }
    if (target.join(",") === inRest.join(",")) {
      this.out(x);
      return;
    }
    const symRest = x.sym.shape.slice(1) as number[];
    const extra = target.slice(symRest.length);
    if (
      target.length > symRest.length && symRest.every((d, i) => d === target[i]) &&
      extra.every((d) => d === 1)
    ) {
      this.out({ ...x, ones: extra.length }); // only virtual trailing ones change
      return;
    }
    if (target.length === 1) {
      if (symRest.length === 1) this.out({ ...x, ones: 0 });
      else this.tensorOut(this.apply(tf.layers.flatten({ name: this.layerName() }), x), x.nonNegative);
      return;
    }
    const layer = tf.layers.reshape({ targetShape: target, name: this.layerName() });
    this.tensorOut(this.apply(layer, x), x.nonNegative);
  }

  isBatchDim(d: number): boolean {
    return Number.isNaN(d) || d === 0 || d === -1 || (this.staticBatch !== null && d === this.staticBatch);
  }

  reshape(): void {
    const x = this.input(0);
    let target: number[];
    if (this.opset < 5 && this.node.inputs.length < 2) {
      target = intsAttr(this.node, "shape") ?? this.fail("shape missing");
    } else target = Array.from(this.constInput(1, "shape").data);
    if (isConst(x)) {
      const total = x.data.length;
      const t = target.map((d, i) => (d === 0 ? x.shape[i] : d));
      const known = sizeOf(t.filter((d) => d !== -1));
      this.out({ ...x, shape: t.map((d) => (d === -1 ? total / known : d)) });
      return;
    }
    const xt = this.tensorInput(0);
    if (target.length === 0 || !this.isBatchDim(target[0])) {
      this.fail(`Reshape to [${target}] changes the batch dim; expected [batch, ...]`);
    }
    const inShape = this.shapeOf(xt);
    const rest = target.slice(1).map((
      d,
      i,
    ) => (d === 0
      ? inShape[i + 1] as number
      : Number.isNaN(d)
      ? this.fail("unknown dim in Reshape target")
      : d)
    );
    this.reshapeTensor(xt, rest);
  }

  flatten(): void {
    const x = this.input(0);
    const axis = intAttr(this.node, "axis", 1);
    if (isConst(x)) {
      const a = normAxis(axis, x.shape.length, "axis");
      this.out({ ...x, shape: [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))] });
      return;
    }
    // axis 0 flattens to [1, everything]: the same as axis 1 for a graph declared with batch size 1
    if (axis !== 1 && !(axis === 0 && this.staticBatch === 1)) {
      this.fail(`Flatten axis=${axis}; expected 1 (keep the batch dim)`);
    }
    const xt = this.tensorInput(0);
    this.reshapeTensor(xt, [sizeOf(this.shapeOf(xt).slice(1) as number[])]);
  }

  axesOf(i: number, name: string): number[] {
    return this.opset >= 13 && this.node.inputs.length > i
      ? this.optionalInts(i) ?? []
      : intsAttr(this.node, name) ?? [];
  }

  unsqueeze(): void {
    const x = this.input(0);
    const axes = this.axesOf(1, "axes");
    if (isConst(x)) {
      const rank = x.shape.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank, "axis")).sort((a, b) => a - b);
      const shape = [...x.shape];
      for (const a of norm) shape.splice(a, 0, 1);
      this.out({ ...x, shape });
      return;
    }
    const xt = this.tensorInput(0);
    const rank = this.shapeOf(xt).length;
    const newRank = rank + axes.length;
    const norm = axes.map((a) => normAxis(a, newRank, "axis")).sort((a, b) => a - b);
    if (!norm.every((a, i) => a === rank + i)) {
      this.fail(`Unsqueeze axes [${axes}] of a tensor; only trailing axes are supported`);
    }
    this.out({ ...xt, ones: xt.ones + axes.length });
  }

  squeeze(): void {
    const x = this.input(0);
    if (isConst(x)) {
      const axes = this.axesOf(1, "axes").map((a) => normAxis(a, x.shape.length, "axis"));
      const shape = x.shape.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1));
      this.out({ ...x, shape });
      return;
    }
    const xt = this.tensorInput(0);
    const shape = this.shapeOf(xt);
    const axes = this.axesOf(1, "axes").map((a) => normAxis(a, shape.length, "axis"));
    const drop = axes.length ? axes : shape.map((d, i) => (d === 1 && i > 0 ? i : -1)).filter((i) => i >= 0);
    if (drop.some((a) => a === 0 || shape[a] !== 1)) this.fail(`Squeeze axes [${axes}] of shape [${shape}]`);
    const rest = shape.filter((_, i) => i > 0 && !drop.includes(i)) as number[];
    this.reshapeTensor(xt, rest);
  }

  concat(): void {
    const vals = this.node.inputs.map((_, i) => this.input(i));
    const axis = intAttr(this.node, "axis", 1);
    if (vals.every(isConst)) {
      this.out(concatConst(vals as ConstValue[], axis));
      return;
    }
    if (!vals.every((v) => v?.kind === "tensor")) this.fail("Concat of tensors and constants");
    const ts = (vals as TensorValue[]).map((v) => this.materialize(v));
    const rank = this.shapeOf(ts[0]).length;
    if (normAxis(axis, rank, "axis") !== 1) {
      this.fail(`Concat on axis ${axis}; only the channel axis (1) is supported`);
    }
    if (ts.length === 1) {
      this.out(ts[0]);
      return;
    }
    const layer = tf.layers.concatenate({ axis: rank === 2 ? -1 : 1, name: this.layerName() });
    this.tensorOut(this.apply(layer, ...ts), ts.every((t) => t.nonNegative));
  }

  upsample(): void {
    const x = this.materialize(this.tensorInput(0));
    const mode = stringAttr(this.node, "mode", "nearest");
    if (mode !== "nearest") this.fail(`${this.node.opType} mode '${mode}'; only 'nearest' is supported`);
    const shape = this.shapeOf(x);
    let scales: number[] | undefined;
    if (this.node.opType === "Upsample" && this.opset < 9) {
      scales = (attr(this.node, "scales") as number[] | undefined) ??
        [1, 1, floatAttr(this.node, "height_scale", 1), floatAttr(this.node, "width_scale", 1)];
    } else if (this.node.opType === "Upsample" || this.opset === 10) {
      scales = this.optionalInts(1);
    } else {
      const ct = stringAttr(this.node, "coordinate_transformation_mode", "half_pixel");
      if (ct === "tf_crop_and_resize") this.fail("Resize coordinate_transformation_mode tf_crop_and_resize");
      scales = this.optionalInts(2);
      if (!scales || scales.length === 0) {
        const sizes = this.optionalInts(3) ?? this.fail("Resize without scales or sizes");
        scales = sizes.map((s, i) => (i < 2 ? 1 : s / (shape[i] as number)));
      }
    }
    if (
      !scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1 ||
      !scales.slice(2).every((s) => Number.isInteger(s) && s >= 1)
    ) {
      this.fail(`scales [${scales}]; expected [1, 1, sh, sw] with integer sh, sw`);
    }
    const layer = tf.layers.upSampling2d({
      size: [scales[2], scales[3]],
      dataFormat: "channelsFirst",
      interpolation: "nearest",
      name: this.layerName(),
    });
    this.tensorOut(this.apply(layer, x), x.nonNegative);
  }

  pad(): void {
    const x = this.materialize(this.tensorInput(0));
    const mode = stringAttr(this.node, "mode", "constant");
    let pads: number[];
    let value = 0;
    if (this.opset < 11) {
      pads = intsAttr(this.node, "pads") ?? intsAttr(this.node, "paddings") ?? this.fail("pads missing");
      value = floatAttr(this.node, "value", 0);
    } else {
      pads = this.optionalInts(1) ?? this.fail("pads missing");
      const v = this.input(2);
      if (v !== undefined) value = isConst(v) ? v.data[0] ?? 0 : this.fail("pad value must be a constant");
      if (this.node.inputs[3]) this.fail("Pad with axes input is not supported");
    }
    if (mode !== "constant" || value !== 0) {
      this.fail(`Pad mode '${mode}' value ${value}; only zero padding is supported`);
    }
    const rank = this.shapeOf(x).length;
    if (pads.length !== 2 * rank) this.fail(`pads [${pads}] for a rank-${rank} input`);
    if (pads[0] || pads[1] || pads[rank] || pads[rank + 1]) {
      this.fail(`Pad of the batch or channel dim [${pads}]`);
    }
    if (pads.every((p) => p === 0)) {
      this.out(x);
      return;
    }
    if (rank !== 4 || pads.some((p) => p < 0)) {
      this.fail(`Pad [${pads}]: only non-negative spatial padding of NCHW inputs`);
    }
    this.out(this.zeroPad(x, [[pads[2], pads[6]], [pads[3], pads[7]]]));
  }

  transpose(): void {
    const x = this.input(0);
    const rank = isConst(x) ? x.shape.length : this.shapeOf(this.tensorInput(0)).length;
    const perm = intsAttr(this.node, "perm") ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    if (isConst(x)) {
      this.out({ ...x, data: transposeArray(x.data, x.shape, perm), shape: perm.map((p) => x.shape[p]) });
      return;
    }
    const xt = this.materialize(this.tensorInput(0));
    if (perm[0] !== 0) this.fail(`Transpose perm [${perm}] moves the batch dim`);
    const layer = tf.layers.permute({ dims: perm.slice(1), name: this.layerName() });
    this.tensorOut(this.apply(layer, xt), xt.nonNegative);
  }

  softmax(): void {
    const x = this.materialize(this.tensorInput(0));
    const rank = this.shapeOf(x).length;
    const axis = normAxis(intAttr(this.node, "axis", this.opset >= 13 ? -1 : 1), rank, "axis");
    if (this.opset < 13 && axis !== rank - 1) {
      this.fail(`Softmax axis=${axis} coerces a rank-${rank} input to 2-D`);
    }
    const layer = axis === rank - 1
      ? tf.layers.activation({ activation: "softmax", name: this.layerName() })
      : tf.layers.softmax({ axis, name: this.layerName() });
    this.tensorOut(this.apply(layer, x), true);
  }

  cast(): void {
    const x = this.input(0);
    const to = intAttr(this.node, "to", 1);
    const integer = to !== 1 && to !== 11 && to !== 10 && to !== 16;
    if (isConst(x)) {
      const data = Float64Array.from(
        x.data,
        (v) => (to === 9 ? (v !== 0 ? 1 : 0) : integer ? Math.trunc(v) : v),
      );
      this.out(constOf(data, x.shape, integer));
      return;
    }
    if (integer) this.fail(`Cast of a tensor to ONNX type ${to}; only float casts are supported`);
    this.out(this.tensorInput(0));
  }

  shape(): void {
    const x = this.input(0);
    const dims = isConst(x) ? x.shape : this.shapeOf(this.tensorInput(0)).map((d) => d ?? NaN);
    const rank = dims.length;
    const start = intAttr(this.node, "start", 0);
    const end = intAttr(this.node, "end", rank);
    const s = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
    const e = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
    const sel = dims.slice(s, e);
    this.out(constOf(sel, [sel.length], true));
  }

  constant(): void {
    const v = attr(this.node, "value");
    if (v && typeof v === "object" && !Array.isArray(v)) {
      this.out(fromTensor(v));
      return;
    }
    const f = attr(this.node, "value_float");
    const fs = attr(this.node, "value_floats");
    const i = attr(this.node, "value_int");
    const is = attr(this.node, "value_ints");
    if (typeof f === "number") this.out(constOf([f], []));
    else if (Array.isArray(fs)) this.out(constOf(fs as number[], [fs.length]));
    else if (typeof i === "number") this.out(constOf([i], [], true));
    else if (Array.isArray(is)) this.out(constOf(is as number[], [is.length], true));
    else this.fail("Constant without a numeric value");
  }

  constantOfShape(): void {
    const shape = Array.from(this.constInput(0, "shape").data);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      this.fail(`ConstantOfShape of [${shape}] (batch-dependent)`);
    }
    const v = attr(this.node, "value");
    const fill = v && typeof v === "object" && !Array.isArray(v) ? (v as OnnxTensor).data[0] ?? 0 : 0;
    const integer = v && typeof v === "object" && !Array.isArray(v)
      ? (v as OnnxTensor).dataType !== 1
      : false;
    this.out(constOf(new Float64Array(sizeOf(shape)).fill(fill), shape, integer));
  }

  gather(): void {
    const data = this.input(0);
    if (!isConst(data)) this.fail("Gather on a tensor (only constant folding of shapes is supported)");
    this.out(gatherConst(data, this.constInput(1, "indices"), intAttr(this.node, "axis", 0)));
  }

  slice(): void {
    const data = this.input(0);
    if (!isConst(data)) this.fail("Slice of a tensor (only constant folding is supported)");
    let starts: number[];
    let ends: number[];
    let axes: number[] | undefined;
    let steps: number[] | undefined;
    if (this.opset < 10) {
      starts = intsAttr(this.node, "starts") ?? [];
      ends = intsAttr(this.node, "ends") ?? [];
      axes = intsAttr(this.node, "axes");
    } else {
      starts = this.optionalInts(1) ?? [];
      ends = this.optionalInts(2) ?? [];
      axes = this.optionalInts(3);
      steps = this.optionalInts(4);
    }
    axes ??= starts.map((_, i) => i);
    this.out(sliceConst(data, starts, ends, axes, steps ?? axes.map(() => 1)));
  }

  passThrough(): void {
    const v = this.input(0);
    if (v === undefined) this.fail("missing input");
    this.out(v);
  }

  relu(): void {
    const x = this.materialize(this.tensorInput(0));
    this.tensorOut(this.apply(tf.layers.activation({ activation: "relu", name: this.layerName() }), x), true);
  }

  dispatch(): void {
    switch (this.node.opType) {
      case "Conv":
        return this.conv();
      case "ConvTranspose":
        return this.convTranspose();
      case "Gemm":
        return this.gemm();
      case "MatMul":
        return this.matMul();
      case "Add":
      case "Sub":
      case "Mul":
      case "Div":
        return this.binary();
      case "BatchNormalization":
        return this.batchNorm();
      case "Relu":
        return this.relu();
      case "Clip":
        return this.clip();
      case "MaxPool":
        return this.pool("max");
      case "AveragePool":
        return this.pool("avg");
      case "GlobalAveragePool":
        return this.globalPool("avg");
      case "GlobalMaxPool":
        return this.globalPool("max");
      case "Flatten":
        return this.flatten();
      case "Reshape":
        return this.reshape();
      case "Unsqueeze":
        return this.unsqueeze();
      case "Squeeze":
        return this.squeeze();
      case "Concat":
        return this.concat();
      case "Upsample":
      case "Resize":
        return this.upsample();
      case "Pad":
        return this.pad();
      case "Transpose":
        return this.transpose();
      case "Softmax":
        return this.softmax();
      case "Cast":
        return this.cast();
      case "Shape":
        return this.shape();
      case "Constant":
        return this.constant();
      case "ConstantOfShape":
        return this.constantOfShape();
      case "Gather":
        return this.gather();
      case "Slice":
        return this.slice();
      case "Identity":
      case "Dropout":
        return this.passThrough();
    }
  }

  /** Walk all nodes; map or fold each one, collecting problems instead of stopping at the first. */
  run(): void {
    for (const node of this.model.nodes) {
      this.node = node;
      const poisoned = node.inputs.some((i) => this.values.get(i)?.kind === "poison");
      const domainOk = node.domain === "" || node.domain === "ai.onnx";
      if (poisoned) {
        if (!domainOk || !SUPPORTED_ONNX_OPS.includes(node.opType)) {
          this.problems.push({ node, reason: "unsupported operator" });
        }
      } else if (!domainOk || !SUPPORTED_ONNX_OPS.includes(node.opType)) {
        this.problems.push({ node, reason: "unsupported operator" });
      } else {
        try {
          this.dispatch();
          continue;
        } catch (err) {
          // Our own bugs (TypeError, ReferenceError) and toolbox errors propagate; TF.js refusing
          // a layer argument or an allocation taken from the file is a problem of this node.
          if (!(err instanceof NodeError) && (!(err instanceof Error) || isBugOrToolboxError(err))) throw err;
          const reason = err instanceof NodeError
            ? err.message
            : `TF.js cannot build the layer: ${summarizeError(err)}`;
          this.problems.push({ node, reason });
        }
      }
      for (const o of node.outputs) if (o) this.values.set(o, { kind: "poison" });
    }
  }
}

/** Describe the problems as the lines of one error message. */
function problemLines(model: OnnxModel, problems: NodeProblem[]): string {
  return problems.map(({ node, reason }) => {
    const domain = node.domain && node.domain !== "ai.onnx" ? `${node.domain}:` : "";
    return `  - node '${node.name}' (op_type ${domain}${node.opType}, opset ${model.opset}): ${reason}`;
  }).join("\n");
}

/** Shape of a graph input without the batch dim, from the file or `options.inputShape`. */
function inputShapeOf(model: OnnxModel, index: number, options: LoadOptions): number[] {
  const info = model.inputs[index];
  const fromFile = info.shape?.slice(1);
  if (fromFile && fromFile.every((d) => d !== null && d > 0)) return fromFile as number[];
  if (options.inputShape && index === 0) return [...options.inputShape];
  throw new ModelFormatError(
    `${model.path}: graph input '${info.name}' has shape [${
      info.shape?.map((d) => d ?? "?").join(", ") ?? "unknown"
    }]; give the input shape without the batch dim (LoadOptions.inputShape)`,
    { file: model.path },
  );
}

/** Whether the first graph input is transposed NHWC→NCHW right away (Keras models converted to ONNX). */
function inputIsChannelsLast(model: OnnxModel): boolean {
  const name = model.inputs[0]?.name;
  const users = model.nodes.filter((n) => n.inputs.includes(name));
  return users.length > 0 && users.every((n) => {
    const perm = n.opType === "Transpose" ? intsAttr(n, "perm") : undefined;
    return perm !== undefined && perm.join(",") === "0,3,1,2";
  });
}

/**
 * Build the runnable TF.js model of a decoded ONNX graph (NCHW layout).
 * Throws {@linkcode UnsupportedLayerError} listing every node that cannot be
 * mapped, {@linkcode ModelFormatError} for inconsistent graphs.
 */
export function buildOnnxInputModel(model: OnnxModel, options: LoadOptions = {}): InputModel {
  if (model.opset > MAX_ONNX_OPSET) {
    throw new ModelFormatError(
      `${model.path}: default-domain opset ${model.opset} is newer than the newest supported (${MAX_ONNX_OPSET})`,
      { file: model.path },
    );
  }
  if (model.inputs.length === 0) {
    throw new ModelFormatError(`${model.path}: the graph has no inputs`, { file: model.path });
  }
  const b = new GraphBuilder(model);
  const first = model.inputs[0].shape?.[0];
  b.staticBatch = typeof first === "number" ? first : null;
  const inputs: tf.SymbolicTensor[] = model.inputs.map((info, i) => {
    const sym = tf.input({ shape: inputShapeOf(model, i, options), name: b.name(info.name || `input_${i}`) });
    b.values.set(info.name, { kind: "tensor", sym, ones: 0, nonNegative: false });
    return sym;
  });
  b.run();
  const outputs: tf.SymbolicTensor[] = [];
  for (const o of model.outputs) {
    const v = b.values.get(o.name);
    if (v?.kind === "tensor") {
      b.node = { name: o.name, opType: "Output", domain: "", inputs: [], outputs: [], attributes: new Map() };
      outputs.push(b.materialize(v).sym);
    } else if (v === undefined || v.kind === "const") {
      throw new ModelFormatError(
        `${model.path}: graph output '${o.name}' is ${v ? "a constant" : "never produced"}`,
        {
          file: model.path,
        },
      );
    }
  }
  if (b.problems.length > 0) {
    const n = b.problems.length;
    throw new UnsupportedLayerError(
      `${model.path}: ${n} ONNX node${n === 1 ? "" : "s"} cannot be converted:\n${
        problemLines(model, b.problems)
      }\n` +
        `supported operators: ${SUPPORTED_ONNX_OPS.join(", ")}`,
      { file: model.path },
    );
  }
  let tfModel: tf.LayersModel;
  try {
    tfModel = tf.model({ inputs, outputs, name: "onnx_model" });
    applyTfjsFixes(tfModel); // BN on axis 1, channelsFirst Conv1D
    for (const rec of b.records.values()) {
      const ts = rec.weights.map((w) => tf.tensor(w.data, w.shape, "float32"));
      rec.layer.setWeights(ts);
      tf.dispose(ts);
    }
  } catch (err) {
    if (err instanceof SnnToolboxError) throw err;
    throw new ModelFormatError(
      `${model.path}: the converted graph cannot be built as a TF.js model (${
        err instanceof Error ? err.message : err
      })`,
      { file: model.path, cause: err },
    );
  }
  const dataFormat: DataFormat = inputIsChannelsLast(model) ? "channels_last" : "channels_first";
  return {
    model: tfModel,
    library: "onnx",
    path: model.path,
    dataFormat,
    metadata: {
      producer: model.producer,
      ir_version: String(model.irVersion),
      opset: String(model.opset),
    },
  };
}

/** `path` when it exists, else `path + ".onnx"` when that exists (the toolbox's `filename_ann` has no extension). */
export function resolveOnnxPath(path: string): string {
  return !isFileSync(path) && !path.toLowerCase().endsWith(".onnx") && isFileSync(`${path}.onnx`)
    ? `${path}.onnx`
    : path;
}

/**
 * Load a `.onnx` file as the toolbox's input model (a TF.js layers model
 * taking NCHW input like the source).
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * import { loadOnnxModel } from "./load.ts";
 * await initBackend();
 * const { model } = await loadOnnxModel("testdata/demo/mnist_torch.onnx");
 * model.summary();
 * ```
 */
export async function loadOnnxModel(path: string, options: LoadOptions = {}): Promise<InputModel> {
  const decoded = await readOnnxModel(resolveOnnxPath(path));
  requireBackend(decoded.path);
  return buildOnnxInputModel(decoded, options);
}
