/**
 * The converted network as a NIR graph: each spiking layer of the parsed,
 * normalized (channels-last) model becomes its synaptic op — `Affine` /
 * `Linear` (Dense), `Conv2d` / `Conv1d` (convolutions), `AvgPool2d` or
 * `SumPool2d` + `Scale` (average pooling) — followed by an `IF` node with
 * the toolbox's threshold; `Flatten`, `Concatenate` and `ZeroPadding2D`
 * become NIR structure. What the INI simulator computes and how it maps:
 *
 * - Time: NIR nodes are continuous-time equations. The toolbox integrates
 *   `v += dt · (W x + b)` for the analog input current `x` and `v += W s`
 *   for input spikes `s` (each spike a Dirac pulse), which is NIR's IF
 *   (`dv/dt = R I`) with `R = 1`, time in ms, and the bias as a constant
 *   current. `dt`, the duration and the number of steps go into the
 *   graph's metadata.
 * - Spikes: NIR's IF outputs 1 per spike; the toolbox's spikes carry the
 *   threshold `v_thresh`. With `v_thresh ≠ 1` every IF node is followed by
 *   `Scale(v_thresh)`.
 * - Reset: NIR's IF resets to `v_reset` (the toolbox's `Reset to zero`).
 *   `Reset by subtraction` (the toolbox default) has no NIR form: the graph
 *   is written with reset to `v_reset`, and the difference is stated in the
 *   metadata and returned as a warning. `Reset by modulo`, refractory
 *   periods and the toolbox's leak are refused.
 * - Threshold: the toolbox fires at `v ≥ v_thresh`, NIR at `v > v_threshold`.
 *   Potentials hit the threshold exactly more often than one would think
 *   (an average pooling's input moves in quarters of a spike), so
 *   `v_threshold` is written as the float32 number just below `v_thresh`:
 *   in float32 arithmetic `v > v_threshold` is then exactly `v ≥ v_thresh`.
 * - Layout: NIR tensors are channels-first. Kernels are transposed to
 *   `[C_out, C_in, k...]`, and an Affine weight after a Flatten gets its
 *   columns in NIR's channels-first flatten order.
 * - Padding: TensorFlow's `same` padding and `ZeroPadding2D` before a
 *   convolution become the convolution's symmetric padding; where TensorFlow
 *   pads one side more (even kernels, strides), the kernel gets zero taps on
 *   the shorter side so the symmetric form computes the same values.
 *   Average pooling over zero padding is `AvgPool2d` with padding (the zeros
 *   count, as NIR's sum-then-scale definition implies); TensorFlow's `same`
 *   average pooling, which leaves the padding out of the count, is
 *   `SumPool2d` + `Scale` (one over the count of each output position).
 * - Branches: a `Concatenate` feeding a weighted layer becomes one synaptic
 *   node per branch (the kernel split along its input channels; bias on the
 *   first), all feeding the layer's IF node, which sums its inputs.
 * - Not expressible, refused with an error naming the layer: spiking
 *   max-pooling (use `[conversion] max2avg_pool`, the toolbox's own
 *   approximation), a softmax output layer (use `[conversion]
 *   softmax_to_relu`), binary activations, transposed convolutions,
 *   upsampling.
 *
 * @module
 */
import type { Layer, LayersModel } from "../../deps.ts";
import { UnsupportedLayerError } from "../errors.ts";
import { type NDArray, sizeOf } from "../io/ndarray.ts";
import type { NirGraph, NirMetadata, NirNode, NirPool2d } from "../io/nir.ts";
import { writeNir } from "../io/nir_write.ts";
import { VERSION } from "../version.ts";

/** Neuron parameters of the export (the `[cell]` settings; structurally the simulator's cell options). */
export interface NirCellParams {
  /** Threshold and spike amplitude. */
  vThresh: number;
  /** Potential after a spike with `Reset to zero`. */
  vReset: number;
  /** The toolbox's reset mode. */
  reset: string;
  /** Refractory period in ms (must be 0). */
  tauRefrac: number;
  /** The toolbox's leak (must be off). */
  leak: boolean;
}

/** Options of {@linkcode toNirGraph}. */
export interface NirExportOptions {
  /** Neuron parameters. */
  cell: NirCellParams;
  /** Time step in ms (metadata; the bias is a current per ms either way). */
  dt: number;
  /** Simulated duration in ms (metadata). */
  duration: number;
  /** `[conversion] max2avg_pool`: max pooling was simulated as average pooling. */
  max2avgPool?: boolean;
  /** `[input] poisson_input`: the input was presented as Poisson spike trains (metadata). */
  poissonInput?: boolean;
  /** Extra graph metadata (e.g. the source model file, whether it was normalized). */
  metadata?: NirMetadata;
  /** The model's file, named in the errors of what NIR cannot express. */
  source?: string;
}

/** The NIR graph of a network and what the export could not carry over exactly. */
export interface NirExport {
  /** The graph. */
  graph: NirGraph;
  /** Differences between the toolbox's simulation and the graph's NIR semantics (also in the metadata). */
  warnings: string[];
}

/** Which part of a value one NIR node carries. */
interface Part {
  /** The NIR node whose output this is. */
  node: string;
  /** Its shape, NIR layout (channels first). */
  shape: number[];
  /** For each element in NIR order, its position in the value's channels-last layout. */
  index: Int32Array;
}

/** A tensor of the parsed model as NIR nodes: channel-wise parts (more than one after a Concatenate). */
interface Value {
  parts: Part[];
  /** Channels-last shape without batch. */
  shape: number[];
  /** Zero padding `[before, after]` per spatial axis not yet applied (a ZeroPadding2D awaiting its consumer). */
  pad?: [number, number][];
}

type Config = Record<string, unknown>;

/** Channels-last `[...spatial, C]` → NIR `[C, ...spatial]`. */
export function nirShapeOf(shape: readonly number[]): number[] {
  return shape.length >= 2 ? [shape[shape.length - 1], ...shape.slice(0, -1)] : [...shape];
}

/** Channels-last positions of the channels `c0 .. c0 + count` of a `[...spatial, C]` tensor, in NIR order. */
function channelIndex(shape: readonly number[], c0: number, count: number): Int32Array {
  if (shape.length < 2) return Int32Array.from({ length: count }, (_, i) => c0 + i);
  const c = shape[shape.length - 1];
  const spatial = sizeOf(shape.slice(0, -1));
  const out = new Int32Array(count * spatial);
  for (let k = 0; k < count; k++) {
    for (let s = 0; s < spatial; s++) out[k * spatial + s] = s * c + c0 + k;
  }
  return out;
}

/** First channel of a spatial part. */
function firstChannel(part: Part, shape: readonly number[]): number {
  return part.index[0] % shape[shape.length - 1];
}

function nums(v: unknown, n: number, fallback: number): number[] {
  if (typeof v === "number") return new Array(n).fill(v);
  if (Array.isArray(v)) return v.map(Number);
  return new Array(n).fill(fallback);
}

function f32(data: Float32Array, shape: number[]): NDArray {
  return { data, shape, dtype: "float32" };
}

function filled(shape: number[], v: number): NDArray {
  return f32(new Float32Array(sizeOf(shape)).fill(v), shape);
}

/** The largest float32 number below the positive number `v` (as float32). */
export function float32Below(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Int32Array(f.buffer);
  bits[0] -= 1;
  return f[0];
}

/** TensorFlow's padding `[before, after]` of one axis. */
function tfPadding(n: number, k: number, s: number, d: number, mode: string): [number, number] {
  if (mode !== "same") return [0, 0];
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Builds the graph while walking the model's layers. */
class GraphBuilder {
  readonly nodes: Record<string, NirNode> = {};
  readonly edges: [string, string][] = [];
  readonly notes: string[] = [];

  constructor(readonly options: NirExportOptions) {}

  add(name: string, node: NirNode, from: string[]): string {
    let unique = name;
    for (let i = 1; unique in this.nodes; i++) unique = `${name}_${i}`;
    this.nodes[unique] = node;
    for (const f of from) this.edges.push([f, unique]);
    return unique;
  }

  /** IF neurons (and Scale(v_thresh) when spikes carry the threshold) after `from`; returns the last node. */
  neurons(layer: string, shape: number[], from: string[], suffix = ""): string {
    const { vThresh, vReset } = this.options.cell;
    const node = this.add(`${layer}_IF${suffix}`, {
      type: "IF",
      r: filled(shape, 1),
      vThreshold: filled(shape, float32Below(vThresh)),
      vReset: filled(shape, vReset),
    }, from);
    if (vThresh === 1) return node;
    return this.add(`${layer}_spikes${suffix}`, { type: "Scale", scale: filled(shape, vThresh) }, [node]);
  }
}

function fail(layer: Layer, what: string): never {
  throw new UnsupportedLayerError(
    `layer '${layer.name}' (${layer.getClassName()}) cannot be exported to NIR: ${what}`,
  );
}

function checkActivation(layer: Layer): void {
  const act = (layer.getConfig() as Config).activation;
  if (act === "softmax") {
    fail(
      layer,
      "the toolbox simulates a softmax layer with random spikes, which NIR has no node for; " +
        "set [conversion] softmax_to_relu = True (export: --softmax-to-relu) to simulate and export it as IF neurons",
    );
  }
  if (act === "binary_sigmoid" || act === "binary_tanh") {
    fail(
      layer,
      `the binary activation '${act}' spikes on the sign of the potential, which NIR's IF cannot express`,
    );
  }
}

function checkCell(cell: NirCellParams): string[] {
  if (cell.tauRefrac > 0) {
    throw new UnsupportedLayerError(
      `[cell] tau_refrac = ${cell.tauRefrac}: NIR's IF neuron has no refractory period; export with tau_refrac = 0`,
    );
  }
  if (cell.leak) {
    throw new UnsupportedLayerError(
      "[cell] leak = True: the toolbox's leak (0.1·dt off positive potentials) is not a NIR neuron; export without it",
    );
  }
  if (cell.reset === "Reset by modulo") {
    throw new UnsupportedLayerError(
      "[cell] reset = Reset by modulo has no NIR form (NIR's IF resets to v_reset); use 'Reset to zero'",
    );
  }
  if (cell.reset === "Reset by subtraction") {
    return [
      "[cell] reset = Reset by subtraction has no NIR form: the graph's IF neurons reset to v_reset " +
      `(${cell.vReset}) after a spike, where the toolbox subtracts the threshold; simulate with ` +
      "[cell] reset = Reset to zero for a graph that computes exactly what the toolbox simulates",
    ];
  }
  return [];
}

function inboundLayers(layer: Layer): Layer[] {
  return layer.inboundNodes[0]?.inboundLayers ?? [];
}

/**
 * The NIR graph of `model` (a parsed, normalized, channels-last model, as
 * the INI simulator runs it) with the neuron parameters of `options`. The
 * model is only read. Throws {@linkcode UnsupportedLayerError} naming the
 * layer for what NIR cannot express (see the module docs).
 */
export function toNirGraph(model: LayersModel, options: NirExportOptions): NirExport {
  try {
    return buildNirGraph(model, options);
  } catch (err) {
    if (!(err instanceof UnsupportedLayerError) || options.source === undefined) throw err;
    throw new UnsupportedLayerError(`${options.source}: ${err.message}`, {
      file: options.source,
      cause: err,
    });
  }
}

function buildNirGraph(model: LayersModel, options: NirExportOptions): NirExport {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedLayerError(
      `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; NIR export needs one of each`,
    );
  }
  const warnings = checkCell(options.cell);
  const b = new GraphBuilder(options);
  const values = new Map<string, Value>();
  const inputLayer = model.inputs[0].sourceLayer;
  const inShape = (model.inputs[0].shape.slice(1) as (number | null)[]).map((d) => d ?? 1);
  const inNir = nirShapeOf(inShape);
  const inputNode = b.add("input", { type: "Input", shape: inNir }, []);
  values.set(inputLayer.name, {
    parts: [{ node: inputNode, shape: inNir, index: channelIndex(inShape, 0, inNir[0]) }],
    shape: inShape,
  });
  for (const layer of model.layers) {
    if (values.has(layer.name)) continue;
    const inputs = inboundLayers(layer).map((l) => {
      const v = values.get(l.name);
      if (!v) fail(layer, `its input '${l.name}' is not part of the exported graph`);
      return v;
    });
    values.set(layer.name, exportLayer(b, layer, inputs, options));
  }
  if (options.max2avgPool && model.layers.some((l) => l.getClassName() === "MaxPooling2D")) {
    warnings.push(
      "max pooling is exported as average pooling, as the toolbox simulates it with [conversion] max2avg_pool",
    );
  }
  const out = values.get(model.outputs[0].sourceLayer.name)!;
  if (out.parts.length !== 1 || out.pad) {
    throw new UnsupportedLayerError(
      `the output layer '${
        model.outputs[0].sourceLayer.name
      }' is a concatenation or padding; NIR export needs one output tensor`,
    );
  }
  const part = out.parts[0];
  b.add("output", { type: "Output", shape: part.shape }, [part.node]);
  const metadata = graphMetadata(model, options, warnings, b.notes, part);
  return { graph: { type: "NIRGraph", nodes: b.nodes, edges: b.edges, metadata }, warnings };
}

function isIdentity(index: Int32Array): boolean {
  return index.every((v, i) => v === i);
}

function graphMetadata(
  model: LayersModel,
  options: NirExportOptions,
  warnings: string[],
  notes: string[],
  out: Part,
): NirMetadata {
  const steps = Math.floor(options.duration / options.dt);
  const m: NirMetadata = {
    producer: `snntoolbox for Deno ${VERSION}`,
    source_model: model.name,
    time_unit: "ms",
    dt: options.dt,
    duration: options.duration,
    num_steps: BigInt(steps),
    input_encoding: options.poissonInput
      ? "poisson: the toolbox presented each sample as Poisson spike trains (rate proportional to the value)"
      : "analog: each sample is a constant input current for the whole simulation (v += dt·(W·x + b) per step)",
    neuron_model: "IF with R = 1; spikes are Dirac pulses (one step: v += W·s); the toolbox fires at " +
      "v >= v_thresh, so v_threshold is the float32 number just below v_thresh (v > v_threshold in float32)",
    toolbox_reset: options.cell.reset,
    v_thresh: options.cell.vThresh,
    readout: "class = index of the output neuron with the most spikes",
  };
  if (!isIdentity(out.index)) {
    m.output_order = "NIR (channels-first) order; the toolbox's own output is channels-last";
  }
  if (warnings.length) m.differences = warnings.join("\n");
  if (notes.length) m.notes = notes.join("\n");
  return { ...m, ...options.metadata };
}

function exportLayer(b: GraphBuilder, layer: Layer, inputs: Value[], options: NirExportOptions): Value {
  const type = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  const df = cfg.dataFormat;
  if (df !== undefined && df !== null && df !== "channels_last" && df !== "channelsLast") {
    fail(layer, `data format '${df}'; the parsed model must be channels_last`);
  }
  const shape = ((layer.outputShape as (number | null)[]).slice(1)).map((d) => d ?? 1);
  const single = () => {
    if (inputs.length !== 1) fail(layer, `expected one input, found ${inputs.length}`);
    return inputs[0];
  };
  switch (type) {
    case "Dense":
    case "Conv1D":
    case "Conv2D":
    case "DepthwiseConv2D":
      checkActivation(layer);
      return weightedLayer(b, layer, single(), shape);
    case "AveragePooling2D":
    case "MaxPooling2D":
      if (type === "MaxPooling2D" && !options.max2avgPool) {
        fail(
          layer,
          "the toolbox's spiking max-pooling passes on the spikes of the neuron with the largest accumulated " +
            "input, which NIR cannot express; set [conversion] max2avg_pool = True (export: --max2avg-pool) " +
            "to simulate and export it as average pooling",
        );
      }
      checkActivation(layer);
      return poolingLayer(b, layer, single(), shape);
    case "Flatten":
      return flattenLayer(b, layer, single(), shape);
    case "Reshape":
      if (shape.length !== 1) fail(layer, `only a reshape to one dimension (a flatten) is expressible`);
      return flattenLayer(b, layer, single(), shape);
    case "Concatenate":
      return concatenate(layer, inputs, shape);
    case "ZeroPadding2D": {
      const v = single();
      const p = cfg.padding;
      const pads: [number, number][] = Array.isArray(p) && Array.isArray(p[0])
        ? (p as number[][]).map((q) => [Number(q[0]), Number(q[1])])
        : nums(p, 2, 1).map((q) => [q, q]);
      const prev = v.pad ?? [[0, 0], [0, 0]];
      return { ...v, pad: pads.map(([a, c], i) => [a + prev[i][0], c + prev[i][1]]) };
    }
    case "Dropout":
    case "Activation":
      return single();
    case "Conv2DTranspose":
    case "UpSampling2D":
      fail(layer, "NIR has no transposed convolution or upsampling node");
  }
  fail(layer, "no NIR node for this layer type");
}

function noPad(layer: Layer, v: Value): void {
  if (v.pad && v.pad.some(([a, c]) => a !== 0 || c !== 0)) {
    fail(
      layer,
      "its input is zero-padded (ZeroPadding2D), which NIR can only express inside a convolution or pooling",
    );
  }
}

/** The weights of a layer as float32 arrays (kernel first). */
function weightsOf(layer: Layer): { data: Float32Array; shape: number[] }[] {
  return layer.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape }));
}

function weightedLayer(b: GraphBuilder, layer: Layer, input: Value, shape: number[]): Value {
  const type = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  const [kernel, biasW] = weightsOf(layer);
  const bias = biasW?.data;
  const outNir = nirShapeOf(shape);
  const synapses: string[] = [];
  const meta = { toolbox_layer: layer.name, toolbox_type: type };
  if (type === "Dense") {
    noPad(layer, input);
    if (input.shape.length !== 1) {
      fail(layer, `its input has shape [${input.shape}]; NIR's Affine needs a vector`);
    }
    const [, nOut] = kernel.shape;
    input.parts.forEach((part, p) => {
      const n = part.index.length;
      const w = new Float32Array(nOut * n);
      for (let o = 0; o < nOut; o++) {
        for (let k = 0; k < n; k++) w[o * n + k] = kernel.data[part.index[k] * nOut + o];
      }
      const weight = f32(w, [nOut, n]);
      const node: NirNode = bias && p === 0
        ? { type: "Affine", weight, bias: f32(bias.slice(), [nOut]), metadata: meta }
        : { type: "Linear", weight, metadata: meta };
      synapses.push(b.add(p === 0 ? layer.name : `${layer.name}_${p}`, node, [part.node]));
    });
  } else {
    const rank = type === "Conv1D" ? 1 : 2;
    if (input.shape.length !== rank + 1) fail(layer, `its input has shape [${input.shape}]`);
    if (rank === 1) noPad(layer, input);
    const depthwise = type === "DepthwiseConv2D";
    if (depthwise && input.parts.length > 1) fail(layer, "a depthwise convolution of concatenated branches");
    const k = kernel.shape.slice(0, rank);
    const strides = nums(cfg.strides, rank, 1);
    const dil = nums(cfg.dilationRate, rank, 1);
    const mode = String(cfg.padding ?? "valid");
    if (mode !== "valid" && mode !== "same") fail(layer, `padding '${mode}'`);
    const pad = input.pad ?? [[0, 0], [0, 0]];
    // Per axis: symmetric padding and the zero taps to add before / after the kernel.
    const geo = k.map((kk, a) => {
      const n = input.shape[a] + pad[a][0] + pad[a][1];
      const [tb, ta] = tfPadding(n, kk, strides[a], dil[a], mode);
      const before = tb + pad[a][0], after = ta + pad[a][1];
      const diff = Math.abs(after - before);
      if (diff % dil[a] !== 0) {
        fail(layer, `asymmetric padding (${before}, ${after}) with dilation ${dil[a]} has no symmetric form`);
      }
      const extra = diff / dil[a];
      return {
        pad: Math.max(before, after),
        front: after > before ? extra : 0,
        back: before > after ? extra : 0,
      };
    });
    if (geo.some((g) => g.front || g.back)) {
      b.notes.push(
        `${layer.name}: TensorFlow pads asymmetrically; written as symmetric padding [${
          geo.map((g) => g.pad)
        }] with zero kernel taps added (before, after) per axis: ${
          geo.map((g) => `(${g.front}, ${g.back})`).join(" ")
        }`,
      );
    }
    const kOut = k.map((kk, a) => kk + geo[a].front + geo[a].back);
    const cIn = input.shape[rank];
    const mult = depthwise ? kernel.shape[3] : 1;
    const cOut = depthwise ? cIn * mult : kernel.shape[rank + 1];
    input.parts.forEach((part, p) => {
      const c0 = firstChannel(part, input.shape);
      const cnt = part.shape[0];
      const inPerGroup = depthwise ? 1 : cnt;
      const w = new Float32Array(cOut * inPerGroup * sizeOf(kOut));
      const kw = rank === 2 ? k[1] : 1, kwOut = rank === 2 ? kOut[1] : 1;
      for (let o = 0; o < cOut; o++) {
        for (let i = 0; i < inPerGroup; i++) {
          for (let y = 0; y < k[0]; y++) {
            for (let x = 0; x < kw; x++) {
              const ty = y + geo[0].front, tx = rank === 2 ? x + geo[1].front : 0;
              const dst = ((o * inPerGroup + i) * kOut[0] + ty) * kwOut + tx;
              // TF kernels: [k..., C_in, C_out] (depthwise: [kH, kW, C_in, multiplier]).
              const src = depthwise
                ? ((y * kw + x) * cIn + Math.floor(o / mult)) * mult + (o % mult)
                : ((y * kw + x) * cIn + c0 + i) * cOut + o;
              w[dst] = kernel.data[src];
            }
          }
        }
      }
      const biasArr = f32(bias && p === 0 ? bias.slice() : new Float32Array(cOut), [cOut]);
      const weight = f32(w, [cOut, inPerGroup, ...kOut]);
      const spatialIn = part.shape.slice(1);
      const node: NirNode = rank === 2
        ? {
          type: "Conv2d",
          inputShape: [spatialIn[0], spatialIn[1]],
          weight,
          stride: [strides[0], strides[1]],
          padding: [geo[0].pad, geo[1].pad],
          dilation: [dil[0], dil[1]],
          groups: depthwise ? cIn : 1,
          bias: biasArr,
          metadata: meta,
        }
        : {
          type: "Conv1d",
          inputShape: spatialIn[0],
          weight,
          stride: strides[0],
          padding: geo[0].pad,
          dilation: dil[0],
          groups: 1,
          bias: biasArr,
          metadata: meta,
        };
      // NIR's output size (PyTorch's formula) must be the layer's.
      const outSpatial = spatialIn.map((n, a) =>
        Math.floor((n + 2 * geo[a].pad - dil[a] * (kOut[a] - 1) - 1) / strides[a]) + 1
      );
      if (outSpatial.join() !== outNir.slice(1).join()) {
        fail(layer, `NIR's convolution output [${outSpatial}] differs from the layer's [${outNir.slice(1)}]`);
      }
      synapses.push(b.add(p === 0 ? layer.name : `${layer.name}_${p}`, node, [part.node]));
    });
  }
  const last = b.neurons(layer.name, outNir, synapses);
  return { parts: [{ node: last, shape: outNir, index: channelIndex(shape, 0, outNir[0]) }], shape };
}

function poolingLayer(b: GraphBuilder, layer: Layer, input: Value, shape: number[]): Value {
  const cfg = layer.getConfig() as Config;
  if (input.shape.length !== 3) fail(layer, `its input has shape [${input.shape}]`);
  const k = nums(cfg.poolSize, 2, 2);
  const s = nums(cfg.strides ?? cfg.poolSize, 2, 2);
  const mode = String(cfg.padding ?? "valid");
  const zp = input.pad;
  if (zp && mode === "same") fail(layer, "'same' pooling of a zero-padded input");
  const pads = [0, 1].map((a) => zp ? zp[a] : tfPadding(input.shape[a], k[a], s[a], 1, mode));
  if (pads.some(([x, y]) => x !== y)) {
    fail(layer, `asymmetric padding [${pads.map((p) => `(${p})`)}] of an average pooling has no NIR form`);
  }
  const padding: [number, number] = [pads[0][0], pads[1][0]];
  const [oh, ow] = shape;
  const excluded = mode === "same" && (padding[0] > 0 || padding[1] > 0);
  const meta = { toolbox_layer: layer.name, toolbox_type: layer.getClassName() };
  const parts = input.parts.map((part, p) => {
    const c0 = firstChannel(part, input.shape);
    const cnt = part.shape[0];
    const outNir = [cnt, oh, ow];
    const suffix = p === 0 ? "" : `_${p}`;
    const window: Omit<NirPool2d, "type"> = {
      kernelSize: [k[0], k[1]],
      stride: [s[0], s[1]],
      padding,
      metadata: meta,
    };
    let node: string;
    if (!excluded) {
      node = b.add(`${layer.name}${suffix}`, { type: "AvgPool2d", ...window }, [part.node]);
    } else {
      // TensorFlow's 'same' average leaves the padding out of the count: sum, then scale by 1 / count.
      const sum = b.add(`${layer.name}${suffix}`, { type: "SumPool2d", ...window }, [part.node]);
      const [h, w] = input.shape;
      const count = (o: number, a: number, n: number) => {
        const start = o * s[a] - padding[a];
        return Math.min(start + k[a], n) - Math.max(start, 0);
      };
      const scale = new Float32Array(cnt * oh * ow);
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const v = 1 / (count(y, 0, h) * count(x, 1, w));
          for (let c = 0; c < cnt; c++) scale[(c * oh + y) * ow + x] = v;
        }
      }
      node = b.add(`${layer.name}_average${suffix}`, { type: "Scale", scale: f32(scale, outNir) }, [sum]);
    }
    const last = b.neurons(layer.name, outNir, [node], suffix);
    return { node: last, shape: outNir, index: channelIndex(shape, c0, cnt) };
  });
  return { parts, shape };
}

function flattenLayer(b: GraphBuilder, layer: Layer, input: Value, shape: number[]): Value {
  noPad(layer, input);
  if (input.shape.length === 1) return { ...input, shape };
  const parts = input.parts.map((part, p) => {
    const node = b.add(p === 0 ? layer.name : `${layer.name}_${p}`, {
      type: "Flatten",
      inputType: part.shape,
      startDim: 0,
      endDim: -1,
      metadata: { toolbox_layer: layer.name, toolbox_type: layer.getClassName() },
    }, [part.node]);
    // The NIR flatten keeps NIR's order, ours the channels-last order: the index maps one onto the other.
    return { node, shape: [part.index.length], index: part.index };
  });
  return { parts, shape };
}

function concatenate(layer: Layer, inputs: Value[], shape: number[]): Value {
  const cfg = layer.getConfig() as Config;
  const rank = shape.length;
  const axis = Number(cfg.axis ?? -1);
  const ax = axis < 0 ? rank + axis : axis - 1;
  if (ax !== rank - 1) fail(layer, `concatenation along axis ${axis}; only the channel axis is expressible`);
  let offset = 0;
  const parts: Part[] = [];
  for (const v of inputs) {
    noPad(layer, v);
    for (const part of v.parts) {
      const index = rank >= 2
        ? channelIndex(shape, offset + firstChannel(part, v.shape), part.shape[0])
        : part.index.map((i) => i + offset);
      parts.push({ ...part, index });
    }
    offset += v.shape[rank - 1];
  }
  return { parts, shape };
}

/**
 * Write the NIR graph of `model` (see {@linkcode toNirGraph}) to `path`,
 * atomically; returns the graph and the differences the export states.
 */
export async function exportNir(
  model: LayersModel,
  options: NirExportOptions,
  path: string,
): Promise<NirExport> {
  const result = toNirGraph(model, options);
  await writeNir(path, result.graph);
  return result;
}
