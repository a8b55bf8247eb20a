/**
 * A NIR graph as a network the INI simulator runs: the graph is rebuilt as
 * a channels-last TF.js model in the form the simulator takes (the form of
 * a parsed model) plus the neuron parameters of its IF nodes, so `run` and
 * `predict` simulate a NIR file with everything they measure.
 *
 * Accepted: one `Input`, one `Output`; every `IF` node fed by synaptic
 * nodes of one kind — `Affine` / `Linear` (a Dense layer; several inputs
 * are concatenated), `Conv2d` / `Conv1d` of equal geometry (a convolution
 * over the concatenated inputs; `groups` = channels is a depthwise
 * convolution), `AvgPool2d`, or `SumPool2d` + `Scale` (average pooling);
 * `Flatten`; `Scale(v_threshold)` after an IF node (the toolbox's spikes
 * carry the threshold). All IF nodes must share `R = 1`, one threshold and
 * one reset potential. The neurons are the toolbox's: they fire at
 * `v ≥ v_thresh`, reset to `v_reset` (`Reset to zero`) and emit spikes of
 * amplitude `v_thresh`; NIR's fire at `v > v_threshold` and emit 1 (or a
 * following `Scale`). Where `v_thresh` — the float32 number just above
 * `v_threshold` — is the amplitude, the two are the same in float32 (the
 * toolbox's exports are written so); where `v_threshold` itself is the
 * amplitude (e.g. 1, unscaled), `v_thresh = v_threshold` and the neurons
 * also fire when the potential equals the threshold exactly. The input is
 * the analog current, integrated as `dt · x` per step. The graph's metadata
 * is not used.
 *
 * Graphs this toolbox exported come back as the network they were exported
 * from: same layers, same weights bit for bit, `same` padding (without the
 * export's zero kernel taps) and concatenations restored, so the simulation
 * equals the original's (a pooling of concatenated branches comes back as
 * one pooling per branch: the same neurons, split).
 *
 * @module
 */
import { type LayersModel, tf } from "../../deps.ts";

type SymbolicTensor = tf.SymbolicTensor;
import { UnsupportedLayerError } from "../errors.ts";
import { type NDArray, toFloat32 } from "../io/ndarray.ts";
import type { NirGraph, NirIF, NirNode } from "../io/nir.ts";
import { type CellOptions, resolveSimulationOptions } from "./options.ts";
import { SpikingNetwork } from "./network.ts";

/** A NIR graph rebuilt for the simulator. */
export interface NirSpikingModel {
  /** The network as a channels-last model (ReLU activations: the ANN the rates approximate). Dispose it. */
  model: LayersModel;
  /** Neuron parameters of the graph's IF nodes (`Reset to zero`). */
  cell: Pick<CellOptions, "vThresh" | "vReset" | "reset">;
  /** The graph's input shape, channels first (NIR layout). */
  inputShape: number[];
  /** The model's input shape, channels last. */
  modelInputShape: number[];
  /** Output element `k` of the graph is element `outputIndex[k]` of the model's output; `null`: the same order. */
  outputIndex: Int32Array | null;
}

/** A value of the rebuilt model and how NIR's elements map onto it. */
interface Value {
  tensor: SymbolicTensor;
  /** Channels-last shape without batch. */
  shape: number[];
  /** NIR element `k` is element `index[k]` of the channels-last tensor. */
  index: Int32Array;
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** NIR `[C, ...spatial]` → channels-last `[...spatial, C]`. */
function channelsLast(shape: readonly number[]): number[] {
  return shape.length >= 2 ? [...shape.slice(1), shape[0]] : [...shape];
}

function standardIndex(shape: readonly number[]): Int32Array {
  if (shape.length < 2) return Int32Array.from({ length: shape[0] ?? 1 }, (_, i) => i);
  const c = shape[shape.length - 1];
  const spatial = sizeOf(shape.slice(0, -1));
  const out = new Int32Array(c * spatial);
  for (let k = 0; k < c; k++) for (let s = 0; s < spatial; s++) out[k * spatial + s] = s * c + k;
  return out;
}

/** The one value all elements of `a` share, or `undefined`. */
function uniform(a: NDArray): number | undefined {
  const d = toFloat32(a);
  if (d.length === 0) return undefined;
  return d.every((v) => v === d[0]) ? d[0] : undefined;
}

/** TensorFlow's `same` padding `[before, after]` of one axis. */
function tfSame(n: number, k: number, s: number, d: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

class Builder {
  readonly values = new Map<string, Value>();
  readonly names = new Set<string>();
  cell: { vThresh: number; vReset: number; from: string } | undefined;

  constructor(readonly graph: NirGraph, readonly file: string) {}

  fail(node: string, what: string): never {
    const type = this.graph.nodes[node]?.type ?? "?";
    throw new UnsupportedLayerError(
      `${this.file}: NIR node '${node}' (${type}) cannot be simulated: ${what}`,
    );
  }

  /** A unique TF.js layer name for NIR node `node`. */
  layerName(node: string, suffix = ""): string {
    const base = (node + suffix).replace(/[^A-Za-z0-9_.\-]/g, "_") || "node";
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  preds(node: string): string[] {
    return this.graph.edges.filter(([, b]) => b === node).map(([a]) => a);
  }

  succs(node: string): string[] {
    return this.graph.edges.filter(([a]) => a === node).map(([, b]) => b);
  }

  value(node: string, of: string): Value {
    const v = this.values.get(node);
    if (!v) this.fail(of, `its input '${node}' is not an IF, Input or Flatten output`);
    return v;
  }
}

/** Nodes in an order where every node comes after its inputs; cycles are refused. */
function topologicalOrder(graph: NirGraph, file: string): string[] {
  const indegree = new Map(Object.keys(graph.nodes).map((n) => [n, 0]));
  for (const [, b] of graph.edges) indegree.set(b, indegree.get(b)! + 1);
  const ready = [...indegree].filter(([, d]) => d === 0).map(([n]) => n);
  const order: string[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    order.push(n);
    for (const [a, b] of graph.edges) {
      if (a !== n) continue;
      indegree.set(b, indegree.get(b)! - 1);
      if (indegree.get(b) === 0) ready.push(b);
    }
  }
  if (order.length !== indegree.size) {
    const stuck = [...indegree].filter(([, d]) => d > 0).map(([n]) => n);
    throw new UnsupportedLayerError(
      `${file}: the NIR graph has a cycle through ${
        stuck.slice(0, 3).join(", ")
      }; recurrent graphs cannot be simulated`,
    );
  }
  return order;
}

const SYNAPTIC = new Set(["Affine", "Linear", "Conv2d", "Conv1d", "AvgPool2d", "SumPool2d"]);

/**
 * Rebuild `graph` as a network the simulator runs (see the module docs).
 * Throws {@linkcode UnsupportedLayerError} naming the node for what the
 * toolbox's IF simulator cannot run.
 */
export function spikingModelFromNir(graph: NirGraph, file = "<NIR graph>"): NirSpikingModel {
  const b: Builder = new Builder(graph, file);
  const inputs = Object.entries(graph.nodes).filter(([, n]) => n.type === "Input");
  const outputs = Object.entries(graph.nodes).filter(([, n]) => n.type === "Output");
  if (inputs.length !== 1 || outputs.length !== 1) {
    throw new UnsupportedLayerError(
      `${file}: the NIR graph has ${inputs.length} Input and ${outputs.length} Output nodes; the simulator needs one of each`,
    );
  }
  let input: SymbolicTensor | undefined;
  let output: Value | undefined;
  let outputName = "";
  for (const name of topologicalOrder(graph, file)) {
    const node = graph.nodes[name];
    switch (node.type) {
      case "Input": {
        const shape = channelsLast(node.shape);
        input = tf.input({ shape, name: b.layerName(name) });
        b.values.set(name, { tensor: input, shape, index: standardIndex(shape) });
        break;
      }
      case "Output": {
        const [p, ...more] = b.preds(name);
        if (p === undefined || more.length) b.fail(name, "an Output needs exactly one input");
        output = b.value(p, name);
        outputName = name;
        break;
      }
      case "IF":
        b.values.set(name, ifLayer(b, name, node));
        break;
      case "Scale": {
        const [p, ...more] = b.preds(name);
        if (graph.nodes[p]?.type === "IF") {
          if (more.length) b.fail(name, "a Scale after IF neurons must have one input");
          // checkNeurons made this Scale the spike amplitude, the toolbox's threshold.
          b.values.set(name, b.value(p, name));
        } else if (graph.nodes[p]?.type !== "SumPool2d") {
          b.fail(name, "Scale is simulated after IF neurons (spike amplitude) or after SumPool2d (average)");
        }
        break;
      }
      case "Flatten":
        b.values.set(name, flatten(b, name, node.startDim, node.endDim));
        break;
      default:
        if (SYNAPTIC.has(node.type)) {
          for (const s of b.succs(name)) {
            const t = graph.nodes[s].type;
            if (t !== "IF" && !(node.type === "SumPool2d" && t === "Scale")) {
              b.fail(
                name,
                `it feeds '${s}' (${t}); the simulator needs IF neurons after every synaptic node`,
              );
            }
          }
          break;
        }
        b.fail(
          name,
          `the INI simulator runs IF neurons and the nodes that feed them; ${node.type} is not among them`,
        );
    }
  }
  const out = output!;
  const cell = b.cell;
  if (!cell) b.fail(outputName, "the graph has no IF neurons");
  const model = tf.model({ inputs: input!, outputs: out.tensor, name: "nir" });
  const identity = out.index.every((v, i) => v === i);
  const inShape = (graph.nodes[inputs[0][0]] as { shape: number[] }).shape;
  return {
    model,
    cell: { vThresh: cell.vThresh, vReset: cell.vReset, reset: "Reset to zero" },
    inputShape: [...inShape],
    modelInputShape: channelsLast(inShape),
    outputIndex: identity ? null : out.index,
  };
}

function flatten(b: Builder, name: string, startDim: number, endDim: number): Value {
  const [p, ...more] = b.preds(name);
  if (p === undefined || more.length) b.fail(name, "a Flatten needs exactly one input");
  const v = b.value(p, name);
  const rank = v.shape.length;
  if (startDim !== 0 || (endDim !== -1 && endDim !== rank - 1)) {
    b.fail(
      name,
      `only a flatten of all dimensions (start_dim 0, end_dim -1) is simulated, found ${startDim}..${endDim}`,
    );
  }
  if (rank === 1) return v;
  const tensor = tf.layers.flatten({ name: b.layerName(name) }).apply(v.tensor) as SymbolicTensor;
  // The channels-last flatten keeps each element where the index put it.
  return { tensor, shape: [sizeOf(v.shape)], index: v.index };
}

/** The smallest float32 number above the positive number `v` (as float32). */
function float32Above(v: number): number {
  const f = new Float32Array([v]);
  new Int32Array(f.buffer)[0] += 1;
  return f[0];
}

/** The spike amplitude IF node `name` feeds on: the Scale after it, or 1. */
function amplitudeAfter(b: Builder, name: string): number {
  const scales = b.succs(name).map((s) => b.graph.nodes[s]).filter((n) => n.type === "Scale");
  if (scales.length === 0) return 1;
  const values = new Set(scales.map((n) => (n.type === "Scale" ? uniform(n.scale) : undefined)));
  const [v] = values;
  if (values.size !== 1 || v === undefined) {
    b.fail(name, "the Scale nodes after it differ or are not uniform");
  }
  return v;
}

function checkNeurons(b: Builder, name: string, node: NirIF): void {
  const r = uniform(node.r), th = uniform(node.vThreshold), reset = uniform(node.vReset);
  if (r !== 1) b.fail(name, "R must be 1 for every neuron");
  if (th === undefined || !(th > 0)) b.fail(name, "every neuron must have the same positive v_threshold");
  if (reset === undefined) b.fail(name, "every neuron must have the same v_reset");
  // The toolbox's spikes carry its threshold: it must be the amplitude the graph's spikes have.
  const amplitude = amplitudeAfter(b, name);
  const vThresh = float32Above(th) === amplitude ? amplitude : th === amplitude ? th : undefined;
  if (vThresh === undefined) {
    b.fail(
      name,
      `its spikes have amplitude ${amplitude} but v_threshold ${th}; the toolbox's spikes carry the threshold ` +
        `(follow the IF node by Scale(${th}) to simulate it)`,
    );
  }
  for (const s of b.succs(name)) {
    const t = b.graph.nodes[s].type;
    if (t !== "Scale" && amplitude !== 1 && t !== "Output") {
      b.fail(name, `it feeds '${s}' (${t}) unscaled besides Scale(${amplitude})`);
    }
  }
  if (!b.cell) b.cell = { vThresh, vReset: reset, from: name };
  else if (b.cell.vThresh !== vThresh || b.cell.vReset !== reset) {
    b.fail(
      name,
      `its threshold ${vThresh} / v_reset ${reset} differ from '${b.cell.from}' (${b.cell.vThresh} / ${b.cell.vReset}); ` +
        "the simulator runs one neuron type",
    );
  }
}

/** The spiking layer that ends in IF node `name`. */
function ifLayer(b: Builder, name: string, node: NirIF): Value {
  checkNeurons(b, name, node);
  const preds = b.preds(name).map((p) => {
    const n = b.graph.nodes[p];
    if (n.type === "Scale") {
      const [q] = b.preds(p);
      if (b.graph.nodes[q]?.type === "SumPool2d") return { name: q, node: b.graph.nodes[q], scale: n.scale };
    }
    if (!SYNAPTIC.has(n.type)) b.fail(name, `its input '${p}' (${n.type}) is not a synaptic node`);
    return { name: p, node: n, scale: undefined };
  });
  if (preds.length === 0) b.fail(name, "IF neurons without input");
  const kinds = new Set(preds.map((p) => (p.node.type === "Linear" ? "Affine" : p.node.type)));
  if (kinds.size > 1) b.fail(name, `its inputs mix ${[...kinds].join(" and ")}`);
  const shape = channelsLast(node.r.shape);
  let v: Value;
  switch ([...kinds][0]) {
    case "Affine":
      v = dense(b, name, preds.map((p) => ({ name: p.name, node: p.node as AffineLike })));
      break;
    case "Conv2d":
    case "Conv1d":
      v = conv(b, name, preds.map((p) => ({ name: p.name, node: p.node as ConvNode })));
      break;
    default:
      if (preds.length > 1) b.fail(name, "several pooling nodes feed it");
      v = pool(b, preds[0].name, preds[0].node as PoolNode, preds[0].scale);
  }
  if (v.shape.join() !== shape.join()) {
    b.fail(name, `its neurons have shape [${node.r.shape}], its input computes [${channelsLast(v.shape)}]`);
  }
  return v;
}

type AffineLike = Extract<NirNode, { type: "Affine" | "Linear" }>;
type ConvNode = Extract<NirNode, { type: "Conv2d" | "Conv1d" }>;
type PoolNode = Extract<NirNode, { type: "AvgPool2d" | "SumPool2d" }>;

/** Concatenate source values along channels (one source: itself). */
function concatSources(b: Builder, name: string, sources: Value[]): SymbolicTensor {
  if (sources.length === 1) return sources[0].tensor;
  const layer = tf.layers.concatenate({ axis: -1, name: b.layerName(name, "_concat") });
  return layer.apply(sources.map((s) => s.tensor)) as SymbolicTensor;
}

function setWeights(layer: tf.layers.Layer, arrays: [Float32Array, number[]][]): void {
  const ts = arrays.map(([d, s]) => tf.tensor(d, s, "float32"));
  layer.setWeights(ts);
  tf.dispose(ts);
}

function dense(b: Builder, ifName: string, preds: { name: string; node: AffineLike }[]): Value {
  const sources = preds.map((p) => {
    const srcs = b.preds(p.name);
    if (srcs.length !== 1) b.fail(p.name, "a synaptic node needs exactly one input");
    const v = b.value(srcs[0], p.name);
    if (v.shape.length !== 1) b.fail(p.name, `its input '${srcs[0]}' is not a vector (add a Flatten)`);
    if (p.node.weight.shape[1] !== v.index.length) {
      b.fail(
        p.name,
        `its weight takes ${p.node.weight.shape[1]} inputs, '${srcs[0]}' gives ${v.index.length}`,
      );
    }
    return v;
  });
  const nOut = preds[0].node.weight.shape[0];
  if (preds.some((p) => p.node.weight.shape[0] !== nOut)) b.fail(ifName, "its inputs have different sizes");
  const nIn = sources.reduce((s, v) => s + v.index.length, 0);
  const kernel = new Float32Array(nIn * nOut);
  const bias = new Float32Array(nOut);
  let offset = 0;
  let hasBias = false;
  preds.forEach((p, i) => {
    const w = toFloat32(p.node.weight);
    const idx = sources[i].index;
    const n = idx.length;
    for (let o = 0; o < nOut; o++) {
      for (let k = 0; k < n; k++) kernel[(offset + idx[k]) * nOut + o] = w[o * n + k];
    }
    if (p.node.type === "Affine") {
      hasBias = true;
      const bb = toFloat32(p.node.bias);
      for (let o = 0; o < nOut; o++) bias[o] += bb[o];
    }
    offset += n;
  });
  const x = concatSources(b, preds[0].name, sources);
  const layer = tf.layers.dense({
    units: nOut,
    activation: "relu",
    useBias: hasBias,
    name: b.layerName(preds[0].name),
  });
  const tensor = layer.apply(x) as SymbolicTensor;
  setWeights(layer, hasBias ? [[kernel, [nIn, nOut]], [bias, [nOut]]] : [[kernel, [nIn, nOut]]]);
  return { tensor, shape: [nOut], index: standardIndex([nOut]) };
}

/** Zero taps at the front and back of each spatial axis of a `[O, I, k...]` weight (at most k - 1 per axis). */
function zeroTaps(w: Float32Array, shape: number[], axis: number): { front: number; back: number } {
  const k = shape[2 + axis];
  const zero = (t: number) => {
    for (let i = 0; i < w.length; i++) {
      let rem = i;
      for (let a = shape.length - 1; a > 2 + axis; a--) rem = Math.floor(rem / shape[a]);
      if (rem % k === t && w[i] !== 0) return false;
    }
    return true;
  };
  let front = 0, back = 0;
  while (front < k - 1 && zero(front)) front++;
  while (back < k - 1 - front && zero(k - 1 - back)) back++;
  return { front, back };
}

/**
 * The TensorFlow form of a symmetric padding `p` with kernel size `k`:
 * `same` with `strip` taps removed at the front or back, when TensorFlow's
 * `same` padding of that kernel reproduces it; `undefined` otherwise.
 */
function sameForm(
  n: number,
  k: number,
  s: number,
  d: number,
  p: number,
  taps: { front: number; back: number },
): { front: number; back: number } | undefined {
  // The smallest kernel first: the export adds zero taps only where TensorFlow pads one side more.
  for (let m = Math.min(taps.front, Math.floor(p / d)); m >= 1; m--) {
    const [bb, aa] = tfSame(n, k - m, s, d);
    if (bb === p - m * d && aa === p) return { front: m, back: 0 };
  }
  for (let m = Math.min(taps.back, Math.floor(p / d)); m >= 1; m--) {
    const [bb, aa] = tfSame(n, k - m, s, d);
    if (bb === p && aa === p - m * d) return { front: 0, back: m };
  }
  const [b0, a0] = tfSame(n, k, s, d);
  return b0 === p && a0 === p ? { front: 0, back: 0 } : undefined;
}

function conv(b: Builder, ifName: string, preds: { name: string; node: ConvNode }[]): Value {
  const first = preds[0].node;
  const rank = first.type === "Conv2d" ? 2 : 1;
  const arr = (v: number | number[]) => (typeof v === "number" ? new Array(rank).fill(v) : v);
  const stride = arr(first.stride), dil = arr(first.dilation);
  const kShape = first.weight.shape.slice(2);
  const cOut = first.weight.shape[0];
  const sources = preds.map((p) => {
    const n = p.node;
    const same = n.type === first.type && arr(n.stride).join() === stride.join() &&
      arr(n.dilation).join() === dil.join() && JSON.stringify(n.padding) === JSON.stringify(first.padding) &&
      n.weight.shape.slice(2).join() === kShape.join() && n.weight.shape[0] === cOut;
    if (!same) b.fail(ifName, `its convolutions '${preds[0].name}' and '${p.name}' differ in geometry`);
    const srcs = b.preds(p.name);
    if (srcs.length !== 1) b.fail(p.name, "a synaptic node needs exactly one input");
    const v = b.value(srcs[0], p.name);
    if (v.shape.length !== rank + 1) {
      b.fail(p.name, `its input '${srcs[0]}' has shape [${channelsLast(v.shape)}]`);
    }
    return v;
  });
  const spatial = sources[0].shape.slice(0, rank);
  if (sources.some((v) => v.shape.slice(0, rank).join() !== spatial.join())) {
    b.fail(ifName, "its convolutions read inputs of different sizes");
  }
  const cIn = sources.reduce((s, v) => s + v.shape[rank], 0);
  const depthwise = preds.length === 1 && first.groups > 1;
  if (depthwise && !(first.groups === cIn && first.weight.shape[1] === 1 && cOut % cIn === 0)) {
    b.fail(
      preds[0].name,
      `groups = ${first.groups}: only groups = 1 or depthwise (groups = input channels) simulate`,
    );
  }
  if (!depthwise && preds.some((p) => p.node.groups !== 1)) {
    b.fail(ifName, "grouped convolutions of several inputs");
  }
  sources.forEach((v, i) => {
    if (!depthwise && preds[i].node.weight.shape[1] !== v.shape[rank]) {
      b.fail(
        preds[i].name,
        `its weight takes ${preds[i].node.weight.shape[1]} channels, the input has ${v.shape[rank]}`,
      );
    }
  });
  // Padding: TensorFlow 'same' (zero taps added by the export removed again), 'valid', or explicit zero padding.
  const padding = first.padding === "valid"
    ? new Array(rank).fill(0)
    : first.padding === "same"
    ? undefined
    : arr(first.padding as number | number[]);
  const weights = preds.map((p) => toFloat32(p.node.weight));
  let strip = new Array(rank).fill(null).map(() => ({ front: 0, back: 0 }));
  let mode: "same" | "valid" = "valid";
  let explicit: number[] | undefined;
  if (padding === undefined) {
    if (stride.some((s) => s !== 1)) b.fail(preds[0].name, "padding 'same' with a stride other than 1");
    mode = "same";
  } else if (padding.some((p) => p > 0)) {
    const taps = kShape.map((_, a) => {
      const t = weights.map((w, i) => zeroTaps(w, preds[i].node.weight.shape, a));
      return { front: Math.min(...t.map((x) => x.front)), back: Math.min(...t.map((x) => x.back)) };
    });
    const forms = kShape.map((k, a) => sameForm(spatial[a], k, stride[a], dil[a], padding[a], taps[a]));
    if (forms.every((f) => f !== undefined)) {
      mode = "same";
      strip = forms as { front: number; back: number }[];
    } else explicit = padding;
  }
  const kOut = kShape.map((k, a) => k - strip[a].front - strip[a].back);
  const mult = depthwise ? cOut / cIn : 1;
  const kw = rank === 2 ? kShape[1] : 1, kwOut = rank === 2 ? kOut[1] : 1;
  const kernel = new Float32Array(sizeOf(kOut) * (depthwise ? cIn * mult : cIn * cOut));
  const bias = new Float32Array(cOut);
  let offset = 0;
  preds.forEach((p, pi) => {
    const w = weights[pi];
    const inPer = p.node.weight.shape[1];
    for (let o = 0; o < cOut; o++) {
      for (let i = 0; i < inPer; i++) {
        for (let y = 0; y < kOut[0]; y++) {
          for (let x = 0; x < kwOut; x++) {
            const src = ((o * inPer + i) * kShape[0] + y + strip[0].front) * kw +
              (rank === 2 ? x + strip[1].front : 0);
            const dst = depthwise
              ? ((y * kwOut + x) * cIn + Math.floor(o / mult)) * mult + (o % mult)
              : ((y * kwOut + x) * cIn + offset + i) * cOut + o;
            kernel[dst] = w[src];
          }
        }
      }
    }
    const bb = toFloat32(p.node.bias);
    for (let o = 0; o < cOut; o++) bias[o] += bb[o];
    offset += inPer;
  });
  let x = concatSources(b, preds[0].name, sources);
  if (explicit) {
    if (rank === 1) b.fail(preds[0].name, `padding ${explicit} is not TensorFlow's 'same' padding`);
    x = tf.layers.zeroPadding2d({
      padding: [[explicit[0], explicit[0]], [explicit[1], explicit[1]]],
      name: b.layerName(preds[0].name, "_pad"),
    }).apply(x) as SymbolicTensor;
  }
  const name = b.layerName(preds[0].name);
  const common = { padding: mode, activation: "relu" as const, name, useBias: true };
  let layer: tf.layers.Layer;
  if (depthwise) {
    layer = tf.layers.depthwiseConv2d({
      ...common,
      kernelSize: kOut as [number, number],
      strides: stride as [number, number],
      dilationRate: dil as [number, number],
      depthMultiplier: mult,
    });
  } else if (rank === 2) {
    layer = tf.layers.conv2d({
      ...common,
      filters: cOut,
      kernelSize: kOut,
      strides: stride,
      dilationRate: dil as [number, number],
    });
  } else {
    layer = tf.layers.conv1d({
      ...common,
      filters: cOut,
      kernelSize: kOut[0],
      strides: stride[0],
      dilationRate: dil[0],
    });
  }
  const tensor = layer.apply(x) as SymbolicTensor;
  const kShapeTf = depthwise ? [...kOut, cIn, mult] : [...kOut, cIn, cOut];
  setWeights(layer, [[kernel, kShapeTf], [bias, [cOut]]]);
  const shape = tensor.shape.slice(1) as number[];
  return { tensor, shape, index: standardIndex(shape) };
}

function pool(b: Builder, name: string, node: PoolNode, scale: NDArray | undefined): Value {
  const srcs = b.preds(name);
  if (srcs.length !== 1) b.fail(name, "a pooling node needs exactly one input");
  const v = b.value(srcs[0], name);
  if (v.shape.length !== 3) b.fail(name, `its input '${srcs[0]}' is not an image`);
  const [k, s, p] = [node.kernelSize, node.stride, node.padding];
  const windowScale = Math.fround(1 / (k[0] * k[1]));
  let mode: "valid" | "same" = "valid";
  let zeroPad = p[0] > 0 || p[1] > 0;
  if (node.type === "SumPool2d") {
    if (!scale) b.fail(name, "SumPool2d is simulated only followed by Scale (an average) and IF neurons");
    if (uniform(scale) !== windowScale) {
      // TensorFlow's 'same' average: scale = 1 / (number of unpadded inputs of each window).
      const [h, w] = v.shape;
      const same = [0, 1].every((a) => {
        const [bb, aa] = tfSame(v.shape[a], k[a], s[a], 1);
        return bb === p[a] && aa === p[a];
      });
      const oh = Math.ceil(h / s[0]), ow = Math.ceil(w / s[1]);
      const count = (o: number, a: number, n: number) =>
        Math.min(o * s[a] - p[a] + k[a], n) - Math.max(o * s[a] - p[a], 0);
      const d = toFloat32(scale);
      const matches = same && scale.shape.join() === [v.shape[2], oh, ow].join() &&
        d.every((val, i) => {
          const x = i % ow, y = Math.floor(i / ow) % oh;
          return val === Math.fround(1 / (count(y, 0, h) * count(x, 1, w)));
        });
      if (!matches) b.fail(name, "its Scale is neither 1 / window size nor TensorFlow's 'same' average");
      mode = "same";
      zeroPad = false;
    }
  }
  let x = v.tensor;
  if (zeroPad) {
    x = tf.layers.zeroPadding2d({
      padding: [[p[0], p[0]], [p[1], p[1]]],
      name: b.layerName(name, "_pad"),
    }).apply(x) as SymbolicTensor;
  }
  const tensor = tf.layers.averagePooling2d({
    poolSize: k,
    strides: s,
    padding: mode,
    name: b.layerName(name),
  }).apply(x) as SymbolicTensor;
  const shape = tensor.shape.slice(1) as number[];
  return { tensor, shape, index: standardIndex(shape) };
}

/** Options of {@linkcode simulateOutputCounts}. */
export interface OutputCountOptions {
  /** Simulated time per sample in ms. */
  duration: number;
  /** Time step in ms. */
  dt: number;
  /** Samples simulated together. */
  batchSize: number;
}

/**
 * Simulate each sample of `x` (channels-last, `[N, ...model input]`) as
 * the analog input current of `nir`'s network for `duration / dt` steps and
 * return the output neurons' spike counts, `[N, outputs]` in the graph's
 * (NIR) output order.
 */
export async function simulateOutputCounts(
  nir: NirSpikingModel,
  x: NDArray,
  options: OutputCountOptions,
): Promise<NDArray> {
  const sim = resolveSimulationOptions({
    duration: options.duration,
    dt: options.dt,
    batchSize: options.batchSize,
    cell: nir.cell,
  });
  const steps = Math.floor(sim.duration / sim.dt);
  const n = x.shape[0] ?? 0;
  const per = sizeOf(x.shape.slice(1));
  const data = toFloat32(x);
  const net = SpikingNetwork.fromModel(nir.model, sim);
  const classes = net.numClasses;
  const counts = new Float32Array(n * classes);
  try {
    for (let start = 0; start < n; start += sim.batchSize) {
      const size = Math.min(sim.batchSize, n - start);
      net.init(size);
      const input = tf.tidy(() =>
        tf.mul(
          tf.tensor(data.subarray(start * per, (start + size) * per), [size, ...x.shape.slice(1)]),
          sim.dt,
        )
      );
      try {
        for (let t = 0; t < steps; t++) {
          const out = net.step(input, t).output;
          const fired = await out.data();
          out.dispose();
          for (let i = 0; i < size * classes; i++) if (fired[i] > 0) counts[start * classes + i]++;
        }
      } finally {
        input.dispose();
      }
    }
  } finally {
    net.dispose();
  }
  const idx = nir.outputIndex;
  if (!idx) return { data: counts, shape: [n, classes], dtype: "float32" };
  const ordered = new Float32Array(n * classes);
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < classes; k++) ordered[s * classes + k] = counts[s * classes + idx[k]];
  }
  return { data: ordered, shape: [n, classes], dtype: "float32" };
}
