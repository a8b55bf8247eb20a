/**
 * ONNX element-wise operators: Add/Sub/Mul/Div (of constants: folded; by a
 * constant — scalar or per channel — folded into the Conv/Dense/affine
 * layer before, else a per-channel affine layer; tensor + tensor: an Add
 * layer), BatchNormalization, Relu, Clip, Softmax, LogSoftmax (as the
 * output: a softmax, same predictions), and the gating operators
 * (Sigmoid/HardSigmoid, whose output only multiplicative gating reads, and
 * HardSwish), which rate-coded spiking neurons cannot compute.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { sizeOf } from "../../io/ndarray.ts";
import { binaryConst, type ConstValue, normAxis } from "./constants.ts";
import {
  floatAttr,
  type GraphBuilder,
  intAttr,
  isConst,
  isTensor,
  type TensorValue,
  type Value,
} from "./graph.ts";

/**
 * The per-channel values (one per channel of `x`, axis 1 of its ONNX shape)
 * of a constant broadcast against `x`, or undefined when it varies along
 * another axis.
 */
function perChannel(b: GraphBuilder, c: ConstValue, x: TensorValue): Float64Array | undefined {
  const shape = b.shapeOf(x);
  const channels = shape[1];
  if (typeof channels !== "number") return undefined;
  if (sizeOf(c.shape) === 1) return new Float64Array(channels).fill(c.data[0]);
  // Legacy broadcast (opset < 7): `broadcast=1, axis=1` with a 1-D constant means per-channel.
  const legacy = b.opset < 7 && intAttr(b.node, "broadcast", 0) === 1 && intAttr(b.node, "axis", -1) === 1;
  const dims = [...c.shape];
  if (!(legacy && dims.length === 1)) {
    if (dims.length > shape.length) return undefined;
    while (dims.length < shape.length) dims.unshift(1);
    if (!dims.every((d, i) => (i === 1 ? d === channels : d === 1))) return undefined;
  } else if (dims[0] !== channels) return undefined;
  return Float64Array.from(c.data);
}

/**
 * A new affine layer `x * scale + shift` per channel (a BatchNormalization
 * with mean 0, variance 1, epsilon 0), its weights recorded under `key`.
 */
function affineLayer(
  b: GraphBuilder,
  x: TensorValue,
  scale: Float64Array,
  shift: Float64Array,
  key: string,
  foldable: boolean,
): TensorValue {
  if (x.channels) x = b.materialize(x);
  const n = scale.length;
  const layer = tf.layers.batchNormalization({
    axis: x.perm ? x.perm[1] : 1,
    epsilon: 0,
    name: b.name(foldable ? b.node.name : `${b.node.name}_negate`),
  });
  const sym = layer.apply(x.sym) as tf.SymbolicTensor;
  const nonNegative = x.nonNegative && scale.every((s) => s >= 0) && shift.every((s) => s >= 0);
  b.records.set(key, {
    layer,
    weights: [
      { data: Float32Array.from(scale), shape: [n] },
      { data: Float32Array.from(shift), shape: [n] },
      { data: new Float32Array(n), shape: [n] },
      { data: new Float32Array(n).fill(1), shape: [n] },
    ],
    kind: foldable ? "affine" : undefined,
    channels: n,
  });
  return { ...x, sym, nonNegative };
}

/**
 * `x * scale + shift` per channel (input `index` of the current node is
 * `x`): folded into the Conv/Dense or affine layer producing `x` when only
 * this node reads it, else a new affine layer.
 */
function affine(
  b: GraphBuilder,
  x: TensorValue,
  index: number,
  scale: Float64Array,
  shift: Float64Array,
): void {
  const rec = b.exclusiveRecord(index);
  if (scale.every((s) => s === 1) && shift.every((s) => s === 0)) {
    b.out(x);
    if (rec) b.moveRecord(index);
  } else if (rec?.kind === "linear" && !x.perm && !x.channels) {
    const [kernel, bias] = rec.weights;
    const n = rec.channels;
    for (let i = 0; i < kernel.data.length; i++) kernel.data[i] *= scale[i % n];
    for (let c = 0; c < n; c++) bias.data[c] = bias.data[c] * scale[c] + shift[c];
    b.out({ ...x, nonNegative: false });
    b.moveRecord(index);
  } else if (rec?.kind === "affine") {
    const [gamma, beta] = rec.weights;
    for (let c = 0; c < rec.channels; c++) {
      gamma.data[c] *= scale[c];
      beta.data[c] = beta.data[c] * scale[c] + shift[c];
    }
    b.out({ ...x, nonNegative: false });
    b.moveRecord(index);
  } else b.out(affineLayer(b, x, scale, shift, b.node.outputs[0], true));
}

/** Sum of two tensors of equal shapes (a pending transpose both share is kept). */
function addTensors(b: GraphBuilder, x: TensorValue, y: TensorValue): void {
  const sx = b.shapeOf(x).slice(1).join(",");
  const sy = b.shapeOf(y).slice(1).join(",");
  if (sx !== sy) b.fail(`Add of tensors with shapes [${sx}] and [${sy}]; expected equal shapes`);
  const samePerm = x.perm && y.perm && x.perm.join() === y.perm.join() && !x.ones && !y.ones;
  if (!samePerm) {
    x = b.materialize(x);
    y = b.materialize(y);
  }
  const sym = b.apply(tf.layers.add({ name: b.layerName() }), x, y);
  b.out({
    kind: "tensor",
    sym,
    ones: 0,
    nonNegative: x.nonNegative && y.nonNegative,
    perm: x.perm,
    permBy: x.permBy,
  });
}

/** `-y`, as an affine layer. */
function negate(b: GraphBuilder, y: TensorValue): TensorValue {
  const c = b.shapeOf(y)[1] as number;
  return affineLayer(
    b,
    y,
    new Float64Array(c).fill(-1),
    new Float64Array(c),
    `#negate:${b.node.name}`,
    false,
  );
}

/** Add, Sub, Mul, Div. */
export function binary(b: GraphBuilder): void {
  const a = b.input(0);
  const c = b.input(1);
  const op = b.node.opType;
  if (isConst(a) && isConst(c)) {
    b.out(binaryConst(a, c, op));
    return;
  }
  if (isTensor(a) && isTensor(c)) {
    if (op === "Add") return addTensors(b, a, c);
    if (op === "Sub") return addTensors(b, a, negate(b, c));
    return b.gating(
      `${op === "Mul" ? "multiplies" : "divides"} '${b.node.inputs[0]}' by '${b.node.inputs[1]}'`,
      a,
    );
  }
  const [x, k, index] = isTensor(a) && isConst(c)
    ? [a, c, 0] as const
    : isTensor(c) && isConst(a)
    ? [c, a, 1] as const
    : b.fail(`${op} needs tensors or constants`);
  const values = perChannel(b, k, x) ??
    b.fail(
      `${op} by a constant of shape [${k.shape}] that is neither a scalar nor one value per channel ` +
        `(input shape [${b.shapeOf(x).map((d) => d ?? "N")}])`,
    );
  const n = values.length;
  const ones = new Float64Array(n).fill(1);
  const zeros = new Float64Array(n);
  if (op === "Add") affine(b, x, index, ones, values);
  else if (op === "Mul") affine(b, x, index, values, zeros);
  else if (op === "Sub") {
    if (index === 0) affine(b, x, index, ones, values.map((v) => -v));
    else affine(b, x, index, ones.map(() => -1), values);
  } else if (index === 0) affine(b, x, index, values.map((v) => 1 / v), zeros);
  else b.fail("Div of a constant by a tensor (1/x) has no spiking equivalent");
}

/** BatchNormalization (inference): a BatchNormalization layer on the channel axis. */
export function batchNorm(b: GraphBuilder): void {
  let x = b.tensorInput(0);
  if (x.channels) x = b.materialize(x);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
    b.constInput(i, ["scale", "B", "mean", "var"][i - 1])
  );
  const c = scale.data.length;
  const layer = tf.layers.batchNormalization({
    axis: x.perm ? x.perm[1] : 1,
    epsilon: floatAttr(b.node, "epsilon", 1e-5),
    momentum: floatAttr(b.node, "momentum", 0.9),
    name: b.layerName(),
  });
  const sym = layer.apply(x.sym) as tf.SymbolicTensor;
  b.out({ ...x, sym, nonNegative: false });
  const w = (v: ConstValue) => ({ data: Float32Array.from(v.data), shape: [c] });
  b.record({ layer, weights: [w(scale), w(bias), w(mean), w(variance)], kind: "affine", channels: c });
}

/** An activation layer on the tensor as it is (a pending layout change stays pending). */
function activation(b: GraphBuilder, layer: tf.layers.Layer, x: TensorValue): void {
  b.out({ ...x, sym: layer.apply(x.sym) as tf.SymbolicTensor, nonNegative: true });
}

/** Relu. */
export function relu(b: GraphBuilder): void {
  activation(b, tf.layers.activation({ activation: "relu", name: b.layerName() }), b.tensorInput(0));
}

/** Clip with min 0 (or an input already ≥ 0): a (clamped) ReLU. */
export function clip(b: GraphBuilder): void {
  const x = b.tensorInput(0);
  let lo: number;
  let hi: number;
  if (b.opset < 11) {
    lo = floatAttr(b.node, "min", -Infinity);
    hi = floatAttr(b.node, "max", Infinity);
  } else {
    const mn = b.input(1);
    const mx = b.input(2);
    lo = mn === undefined ? -Infinity : isConst(mn) ? mn.data[0] : b.fail("Clip min must be a constant");
    hi = mx === undefined ? Infinity : isConst(mx) ? mx.data[0] : b.fail("Clip max must be a constant");
  }
  if (!(lo === 0 || (lo <= 0 && x.nonNegative))) {
    b.fail(`Clip with min=${lo}: only clamped ReLU (min 0, or an input already ≥ 0) is supported`);
  }
  const layer = Number.isFinite(hi)
    ? tf.layers.reLU({ maxValue: hi, name: b.layerName() })
    : tf.layers.activation({ activation: "relu", name: b.layerName() });
  activation(b, layer, x);
}

/** A softmax over the node's axis (`what` names the operator in messages). */
function softmaxLayer(b: GraphBuilder, what: string): void {
  const x = b.plainInput(0);
  const rank = b.shapeOf(x).length;
  const axis = normAxis(intAttr(b.node, "axis", b.opset >= 13 ? -1 : 1), rank, "axis");
  if (b.opset < 13 && axis !== rank - 1) b.fail(`${what} axis=${axis} coerces a rank-${rank} input to 2-D`);
  const layer = axis === rank - 1
    ? tf.layers.activation({ activation: "softmax", name: b.layerName() })
    : tf.layers.softmax({ axis, name: b.layerName() });
  b.tensorOut(b.apply(layer, x), true);
}

/** Softmax. */
export function softmax(b: GraphBuilder): void {
  softmaxLayer(b, "Softmax");
}

/** LogSoftmax as the network output: a softmax (log is monotonic, so the predictions are the same). */
export function logSoftmax(b: GraphBuilder): void {
  if (!b.outputOnly()) {
    b.fail("LogSoftmax that feeds other nodes; it converts only as the network output (as a softmax)");
  }
  softmaxLayer(b, "LogSoftmax");
  b.notes.push(`LogSoftmax '${b.node.name}' converted as Softmax (same predictions)`);
}

/** Sigmoid / HardSigmoid: a gate value (only multiplicative gating reads it; see `GraphBuilder.run`). */
export function gate(b: GraphBuilder): void {
  const input: Value = b.input(0) ?? b.fail("missing input");
  b.out({ kind: "gate", node: b.node, input });
}

/** HardSwish: `x · HardSigmoid(x)`, multiplicative gating. */
export function hardSwish(b: GraphBuilder): void {
  const x = b.input(0) ?? b.fail("missing input");
  b.gating(`computes '${b.node.inputs[0]}' times its own HardSigmoid (x · HardSigmoid(x))`, x);
}
