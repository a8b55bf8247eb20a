/**
 * The ONNX graph walker: the values flowing between nodes and the
 * {@linkcode GraphBuilder} that maps each node, in the (topological) order
 * of the file, through one operator function (`ops.ts`), collecting every
 * node that cannot be mapped instead of stopping at the first.
 *
 * A value is a constant (folded on the spot), a symbolic tensor of the TF.js
 * model being built, a *gate* (a Sigmoid/HardSigmoid output, which only
 * multiplicative gating reads), or *poison* (the output of a node that
 * could not be mapped; its readers are skipped). A tensor may carry a
 * pending layout change that is applied only when a consumer needs the
 * tensor as laid out — so that changes which cancel (a Transpose pair
 * around a BatchNormalization, keras2onnx style) or fold into a
 * neighbouring linear layer (ShuffleNet's channel shuffle and channel
 * split) leave no layer behind:
 *
 * - `ones`: trailing size-1 dims the ONNX value has and the TF.js tensor
 *   lacks (GlobalAveragePool, Unsqueeze);
 * - `perm`: a transpose (the ONNX value is `transpose(sym, perm)`);
 * - `channels`: a gather of the channel axis (the ONNX value's channel
 *   axes, in C order, read channels `source` of `sym`), materialized as a
 *   1×1 convolution with a 0/1 kernel — linear, so spiking-compatible — or
 *   folded into the kernel of the convolution that reads it.
 *
 * @module
 */
import { summarizeError } from "../../io/unexpected_errors.ts";
import { tf } from "../../../deps.ts";
import { ModelFormatError, SnnToolboxError } from "../../errors.ts";
import { sizeOf } from "../../io/ndarray.ts";
import { type ConstValue, fromTensor, NodeError } from "./constants.ts";
import type { OnnxAttribute, OnnxModel, OnnxNode } from "./proto.ts";
import { uniqueLayerName } from "../layer_names.ts";

/** A pending gather of the channel axis (see the module documentation). */
export interface ChannelView {
  /** The ONNX value's channel axes (axes 1..dims.length), whose C-order flat index selects from `source`. */
  dims: number[];
  /** For each flat index over `dims`, the channel of the TF.js tensor it is. */
  source: Int32Array;
}

/** A symbolic tensor produced by a TF.js layer, with at most one pending layout change. */
export interface TensorValue {
  /** Discriminant. */
  kind: "tensor";
  /** The TF.js tensor. */
  sym: tf.SymbolicTensor;
  /** Trailing size-1 dims the ONNX value has but `sym` does not (GlobalAveragePool, Unsqueeze). */
  ones: number;
  /** Whether every element is known to be ≥ 0 (after Relu): zero padding then equals max-pool padding. */
  nonNegative: boolean;
  /** Pending transpose, batch axis included (`perm[0] = 0`): the ONNX value is `transpose(sym, perm)`. */
  perm?: number[];
  /** Name of the node that made `perm` (names the Permute layer if one is needed). */
  permBy?: string;
  /** Pending channel gather. */
  channels?: ChannelView;
}

/** The output of a Sigmoid/HardSigmoid (possibly reshaped): only multiplicative gating reads it. */
export interface GateValue {
  /** Discriminant. */
  kind: "gate";
  /** The Sigmoid/HardSigmoid node. */
  node: OnnxNode;
  /** The gate's input, shape-wise a stand-in for the gate. */
  input: Value;
}

/** The output of a node that could not be mapped; consumers are skipped silently. */
export interface PoisonValue {
  /** Discriminant. */
  kind: "poison";
}

/** Any value of the graph. */
export type Value = ConstValue | TensorValue | GateValue | PoisonValue;

/** A weight array in TF.js order. */
export interface Weight {
  /** Elements in C order. */
  data: Float32Array;
  /** Dims. */
  shape: number[];
}

/**
 * A layer whose weights are set once the model is built. `linear`: a
 * Dense/Conv kernel whose flat index `i` feeds output channel
 * `i % channels`, and a bias (index 1); `affine`: a BatchNormalization
 * (`[gamma, beta, mean, variance]`). Constant Add/Sub/Mul/Div right after
 * such a layer fold into it.
 */
export interface WeightRecord {
  /** The TF.js layer. */
  layer: tf.layers.Layer;
  /** Its weights. */
  weights: Weight[];
  /** What the weights are (see above); `undefined`: nothing folds into this layer. */
  kind?: "linear" | "affine";
  /** Output channels. */
  channels: number;
}

/** One problem found in a node; all of them are reported together. */
export interface NodeProblem {
  /** The node. */
  node: OnnxNode;
  /** What is wrong. */
  reason: string;
  /** True for multiplicative gating (a product of two signals). */
  gating?: boolean;
}

/** One operator: maps the builder's current node (`b.node`) onto TF.js layers or folds it. */
export type OperatorFn = (b: GraphBuilder) => void;

/** Errors that are not about the file's contents: programming errors and the toolbox's own. */
function isBugOrToolboxError(err: Error): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof SnnToolboxError;
}

/** Whether `v` is a constant. */
export function isConst(v: Value | undefined): v is ConstValue {
  return v !== undefined && v.kind === "const";
}

/** Whether `v` is a tensor. */
export function isTensor(v: Value | undefined): v is TensorValue {
  return v !== undefined && v.kind === "tensor";
}

// ---------------------------------------------------------------------------
// Attribute access

/** The attribute `name` of `node`. */
export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}

/** An int attribute, or `dflt`. */
export function intAttr(node: OnnxNode, name: string, dflt: number): number {
  const v = attr(node, name);
  return typeof v === "number" ? v : dflt;
}

/** A float attribute, or `dflt`. */
export function floatAttr(node: OnnxNode, name: string, dflt: number): number {
  return intAttr(node, name, dflt);
}

/** An ints attribute, or undefined. */
export function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const v = attr(node, name);
  return Array.isArray(v) && (v.length === 0 || typeof v[0] === "number") ? v as number[] : undefined;
}

/** A string attribute, or `dflt`. */
export function stringAttr(node: OnnxNode, name: string, dflt: string): string {
  const v = attr(node, name);
  return typeof v === "string" ? v : dflt;
}

/** `[0, 1, ..., n - 1]`. */
export function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Make a valid, unique TF.js layer name from an ONNX node name. */
function layerNamer(): (base: string) => string {
  const used = new Set<string>();
  // ONNX names are paths (`/features/features.0/Conv`): runs of other characters become one `_`, trimmed.
  return (base) => uniqueLayerName(base.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, ""), used);
}

/** Operators that only take part in multiplicative gating (not convertible on their own). */
export const GATING_OPERATORS: readonly string[] = ["HardSigmoid", "HardSwish", "Sigmoid"];

/** Nodes that pass a gate on unchanged in meaning (shape changes only). */
const GATE_PASS = new Set([
  "Identity",
  "Dropout",
  "Reshape",
  "Squeeze",
  "Unsqueeze",
  "Flatten",
  "Expand",
  "Cast",
  "Transpose",
]);

/** The walker state and the helpers the operator functions build with. */
export class GraphBuilder {
  /** Every value produced so far, by name. */
  readonly values: Map<string, Value> = new Map();
  /** Layers whose weights are set after building, by the name of the value they produce. */
  readonly records: Map<string, WeightRecord> = new Map();
  /** How many nodes (and graph outputs) read each value. */
  readonly consumers: Map<string, number> = new Map();
  /** The problems found. */
  readonly problems: NodeProblem[] = [];
  /** Facts worth reporting in the input model's metadata. */
  readonly notes: string[] = [];
  /** Make a unique layer name. */
  readonly name: (base: string) => string = layerNamer();
  /** The batch size the graph declares, when static. */
  staticBatch: number | null = null;
  /** The node being mapped. */
  node!: OnnxNode;
  private readonly materialized = new WeakMap<TensorValue, TensorValue>();
  private readonly gatesUsed = new Set<OnnxNode>();
  private readonly gatesMisused = new Set<OnnxNode>();

  /** Prepare to walk `model`. */
  constructor(readonly model: OnnxModel) {
    for (const n of model.nodes) {
      for (const i of n.inputs) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    }
    for (const o of model.outputs) this.consumers.set(o.name, (this.consumers.get(o.name) ?? 0) + 1);
    for (const [name, t] of model.initializers) this.values.set(name, fromTensor(t));
  }

  /** The default-domain opset. */
  get opset(): number {
    return this.model.opset;
  }

  /** Refuse the current node. */
  fail(reason: string): never {
    throw new NodeError(reason);
  }

  /** Input `i` of the current node (`undefined` when absent). */
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

  /** Input `i` as a tensor, pending layout changes included. */
  tensorInput(i: number): TensorValue {
    const v = this.input(i);
    if (v?.kind !== "tensor") {
      this.fail(`input ${i} ('${this.node.inputs[i]}') must be a tensor, found a constant`);
    }
    return v;
  }

  /** Input `i` as a tensor laid out as ONNX has it (pending changes applied). */
  plainInput(i: number): TensorValue {
    return this.materialize(this.tensorInput(i));
  }

  /** Input `i` as a constant. */
  constInput(i: number, what: string): ConstValue {
    const v = this.input(i);
    if (!isConst(v)) this.fail(`${what} (input ${i}, '${this.node.inputs[i] ?? ""}') must be a constant`);
    return v;
  }

  /** Input `i` as a list of numbers, or undefined when absent. */
  optionalInts(i: number): number[] | undefined {
    const v = this.input(i);
    if (v === undefined) return undefined;
    if (!isConst(v)) this.fail(`input ${i} ('${this.node.inputs[i]}') must be a constant`);
    return Array.from(v.data);
  }

  /** Logical ONNX shape of a tensor value (batch dim `null`). */
  shapeOf(v: TensorValue): (number | null)[] {
    if (v.perm) return v.perm.map((p) => v.sym.shape[p]);
    if (v.channels) return [v.sym.shape[0], ...v.channels.dims, ...v.sym.shape.slice(2)];
    return [...v.sym.shape, ...new Array<number>(v.ones).fill(1)];
  }

  /** The tensor laid out as its ONNX value (pending layout changes become layers, once per value). */
  materialize(v: TensorValue): TensorValue {
    if (v.ones === 0 && !v.perm && !v.channels) return v;
    const done = this.materialized.get(v);
    if (done) return done;
    let sym: tf.SymbolicTensor;
    if (v.perm) {
      const layer = tf.layers.permute({ dims: v.perm.slice(1), name: this.name(v.permBy ?? this.node.name) });
      sym = layer.apply(v.sym) as tf.SymbolicTensor;
    } else if (v.channels) {
      sym = this.selectChannels(v.sym, v.channels.source);
      if (v.channels.dims.length > 1) {
        const shape = this.shapeOf(v).slice(1) as number[];
        const layer = tf.layers.reshape({ targetShape: shape, name: this.name(`${this.node.name}_reshape`) });
        sym = layer.apply(sym) as tf.SymbolicTensor;
      }
    } else {
      const shape = this.shapeOf(v).slice(1) as number[];
      const layer = tf.layers.reshape({ targetShape: shape, name: this.name(`${this.node.name}_reshape`) });
      sym = layer.apply(v.sym) as tf.SymbolicTensor;
    }
    const out: TensorValue = { kind: "tensor", sym, ones: 0, nonNegative: v.nonNegative };
    this.materialized.set(v, out);
    return out;
  }

  /**
   * Channels `source` of `x` (NC..., channel axis 1), in that order: `x`
   * itself when that is all of them in order, else a 1×1 convolution (a
   * Dense for rank 2) with a 0/1 kernel.
   */
  selectChannels(x: tf.SymbolicTensor, source: Int32Array): tf.SymbolicTensor {
    const physical = x.shape[1] as number;
    if (source.length === physical && source.every((c, i) => c === i)) return x;
    const n = source.length;
    const kernel = new Float32Array(physical * n);
    source.forEach((c, j) => (kernel[c * n + j] = 1));
    const rank = x.shape.length;
    const name = this.name(`${this.node.name}_channels`);
    const init = { kernelInitializer: "zeros", biasInitializer: "zeros" } as const;
    const layer = rank === 2
      ? tf.layers.dense({ units: n, ...init, name })
      : rank === 3
      ? tf.layers.conv1d({ filters: n, kernelSize: 1, dataFormat: "channelsFirst", ...init, name })
      : rank === 4
      ? tf.layers.conv2d({ filters: n, kernelSize: 1, dataFormat: "channelsFirst", ...init, name })
      : this.fail(`a channel selection of a rank-${rank} tensor`);
    const sym = layer.apply(x) as tf.SymbolicTensor;
    const shape = [...new Array<number>(rank - 2).fill(1), physical, n];
    this.records.set(`#${name}`, {
      layer,
      weights: [{ data: kernel, shape }, { data: new Float32Array(n), shape: [n] }],
      channels: n,
    });
    return sym;
  }

  /** Apply a layer to plain tensor values. */
  apply(layer: tf.layers.Layer, ...inputs: TensorValue[]): tf.SymbolicTensor {
    const arg = inputs.length === 1 ? inputs[0].sym : inputs.map((x) => x.sym);
    return layer.apply(arg) as tf.SymbolicTensor;
  }

  /** Set output `i` of the current node. */
  out(v: Value, i = 0): void {
    const name = this.node.outputs[i];
    if (name) this.values.set(name, v);
  }

  /** Set output 0 to a tensor. */
  tensorOut(sym: tf.SymbolicTensor, nonNegative = false, ones = 0): TensorValue {
    const v: TensorValue = { kind: "tensor", sym, ones, nonNegative };
    this.out(v);
    return v;
  }

  /** A unique layer name for the current node. */
  layerName(): string {
    return this.name(this.node.name);
  }

  /** Remember the weights of the layer producing output 0 of the current node. */
  record(rec: WeightRecord): void {
    this.records.set(this.node.outputs[0], rec);
  }

  /** The record of the layer producing input `i`, when only the current node reads that value. */
  exclusiveRecord(i: number): WeightRecord | undefined {
    const name = this.node.inputs[i];
    return this.consumers.get(name) === 1 ? this.records.get(name) : undefined;
  }

  /** Move the record of input `i` to output 0 (a constant op folded into the layer). */
  moveRecord(i: number): void {
    const name = this.node.inputs[i];
    const rec = this.records.get(name);
    if (!rec) return;
    this.records.delete(name);
    this.records.set(this.node.outputs[0], rec);
  }

  /** Whether output 0 of the current node is read by the graph output only. */
  outputOnly(): boolean {
    const name = this.node.outputs[0];
    return this.consumers.get(name) === 1 && this.model.outputs.some((o) => o.name === name);
  }

  /** Walk all nodes; map or fold each one, collecting problems instead of stopping at the first. */
  run(ops: Readonly<Record<string, OperatorFn>>): void {
    for (const node of this.model.nodes) {
      this.node = node;
      const inputs = node.inputs.map((i) => this.values.get(i));
      const domainOk = node.domain === "" || node.domain === "ai.onnx";
      const op = domainOk && Object.hasOwn(ops, node.opType) ? ops[node.opType] : undefined;
      const gates = inputs.filter((v): v is GateValue => v?.kind === "gate");
      if (!op) {
        this.problems.push({ node, reason: "unsupported operator" });
        gates.forEach((g) => this.gatesMisused.add(g.node));
      } else if (inputs.some((v) => v?.kind === "poison")) {
        gates.forEach((g) => this.gatesMisused.add(g.node));
        if (GATING_OPERATORS.includes(node.opType)) {
          this.problems.push({ node, reason: "unsupported operator" });
        }
      } else if (gates.length > 0) {
        if (this.gate(node, inputs, gates)) continue;
      } else {
        try {
          op(this);
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
    for (const o of this.model.outputs) {
      const v = this.values.get(o.name);
      if (v?.kind === "gate") this.gatesMisused.add(v.node);
    }
    for (const g of this.gatesMisused) {
      if (!this.gatesUsed.has(g)) this.problems.push({ node: g, reason: "unsupported operator" });
    }
  }

  /**
   * A node reading a gate: shape changes pass it on, a Mul is multiplicative
   * gating (a problem; the walk goes on with the gated tensor as a stand-in
   * for the product, so that every gating node is found). Returns whether
   * the node's outputs are set.
   */
  private gate(node: OnnxNode, inputs: (Value | undefined)[], gates: GateValue[]): boolean {
    if (GATE_PASS.has(node.opType) && inputs[0]?.kind === "gate") {
      this.out(inputs[0]);
      return true;
    }
    if (node.opType !== "Mul") {
      gates.forEach((g) => this.gatesMisused.add(g.node));
      return false;
    }
    gates.forEach((g) => this.gatesUsed.add(g.node));
    const names = inputs.map((v, i) =>
      v?.kind === "gate" ? `the ${v.node.opType} output of node '${v.node.name}'` : `'${node.inputs[i]}'`
    );
    this.problems.push({ node, reason: `multiplies ${names.join(" by ")}`, gating: true });
    const signal = inputs.find((v) => v?.kind === "tensor") ?? gates[0].input;
    this.out(signal ?? { kind: "poison" });
    return true;
  }

  /** Record multiplicative gating of the current node (HardSwish: `x · hardsigmoid(x)`) and pass `x` on. */
  gating(reason: string, passOn: Value): void {
    this.problems.push({ node: this.node, reason, gating: true });
    this.out(passOn);
  }

  /** Number of elements of a tensor value per sample. */
  sampleSize(v: TensorValue): number {
    return sizeOf(this.shapeOf(v).slice(1) as number[]);
  }
}
