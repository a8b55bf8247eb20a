/**
 * A spiking network built from a parsed (channels-last) TF.js model: the
 * layers' synaptic ops (with biases scaled by `dt`), integrate-and-fire
 * neurons on every spiking layer, and the per-neuron fan-out used to count
 * synaptic operations. A whole batch is advanced one time step per
 * {@linkcode SpikingNetwork.step}; every temporary tensor of a step is freed
 * (the state tensors are replaced, so memory does not grow with time).
 *
 * Everything stays on the backend: a step returns tensors (the output
 * layer's spikes, and per-sample counts of synaptic operations and spikes
 * only when asked for), so a caller reads back once per batch, not per step.
 *
 * @module
 */
import { type Layer, type LayersModel, type Tensor, tf } from "../../deps.ts";
import { ModelFormatError, UnsupportedLayerError } from "../errors.ts";
import { type LayerOp, layerOp } from "./layers.ts";
import { createNeuronLayer, type NeuronLayer } from "./neuron.ts";
import type { SimulationOptions } from "./options.ts";

interface Node {
  op: LayerOp | undefined; // undefined: an input layer
  inputs: number[];
  name: string;
  shape: number[];
}

/** A spiking layer of the network, as reported to callers. */
export interface SpikingLayerInfo {
  /** Layer name of the parsed model. */
  name: string;
  /** Layer class name. */
  type: string;
  /** Output shape without the batch dimension. */
  shape: number[];
  /** Number of neurons. */
  neurons: number;
}

/** What one time step produced: tensors of the current `tf.tidy` scope, which the caller disposes. */
export interface StepOutput {
  /** The output layer's values, `[batch, classes]`: `> 0` where an output neuron fired. */
  output: Tensor;
  /**
   * Per sample, `[batch, 2]`: synaptic operations of this step and spikes of all
   * spiking layers in this step (only when {@linkcode StepRecording.stats}).
   */
  stats?: Tensor;
  /** Spikes of each spiking layer (only when requested). */
  spikes?: Tensor[];
  /** Membrane potentials of each spiking layer after the step (only when requested). */
  mem?: Tensor[];
}

/** One step's values read back ({@linkcode SpikingNetwork.stepAndRead}). */
export interface SteppedValues {
  /** Output neurons that fired (1) or not (0), `[batch, classes]`. */
  outputSpikes: Float32Array;
  /** Synaptic operations of this step per sample, `[batch]`. */
  sops: Float32Array;
  /** Spikes of all spiking layers in this step per sample, `[batch]`. */
  spikeCount: Float32Array;
}

/** Options of {@linkcode SpikingNetwork.step}. */
export interface StepRecording {
  /** Also return each spiking layer's spikes. */
  spikes?: boolean;
  /** Also return each spiking layer's membrane potentials. */
  mem?: boolean;
  /** Also return the per-sample synaptic operations and spike count of the step. */
  stats?: boolean;
}

/** Options of {@linkcode SpikingNetwork.fromModel}. */
export interface NetworkOptions {
  /** Use the fused neuron kernel where the backend has one (default true; false: element-wise ops). */
  fused?: boolean;
}

function producerIndex(layer: Layer, byName: Map<string, number>, of: string): number {
  const idx = byName.get(layer.name);
  if (idx === undefined) {
    throw new ModelFormatError(`layer '${of}' has inbound layer '${layer.name}' outside the model`);
  }
  return idx;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The spiking network of a parsed model. Create with {@linkcode SpikingNetwork.fromModel}; free with `dispose()`. */
export class SpikingNetwork {
  readonly #nodes: Node[];
  readonly #options: SimulationOptions;
  readonly #fused: boolean | undefined;
  readonly #spiking: number[];
  readonly #output: number;
  /** Fan-out of the input and of every spiking layer (flat, CPU). */
  readonly #fanout: Map<number, Float32Array>;
  /** `[neurons, 2]` weights turning a layer's spikes into (synaptic operations, spikes) per sample. */
  readonly #statWeights = new Map<number, Tensor>();
  /**
   * The fan-out of a spiking layer as an int32 tensor (zeros where it feeds no spiking layer), for the
   * fused statistics; `null` where the kernel cannot sum it exactly (not whole numbers, or 2³¹ or more).
   */
  readonly #statFanouts = new Map<number, Tensor | null>();
  #neurons = new Map<number, NeuronLayer>();
  /** Accumulated input of each spiking max-pool (its gate). */
  #gates = new Map<number, Tensor>();
  #batch = 0;
  #sampleIds = new Int32Array(0);
  /** Nodes computed from the network input alone (through pass-through layers). */
  readonly #inputOnly: Set<number>;
  /** Input currents of spiking layers fed by the input alone, for the input tensor `#cacheFor`. */
  #currentCache = new Map<number, Tensor>();
  #cacheFor = -1;

  private constructor(nodes: Node[], options: SimulationOptions, output: number, fused?: boolean) {
    this.#nodes = nodes;
    this.#options = options;
    this.#output = output;
    this.#fused = fused;
    this.#spiking = nodes.flatMap((n, i) => (n.op?.spiking ? [i] : []));
    if (this.#spiking.length === 0) {
      throw new UnsupportedLayerError(
        "the model has no layer that can hold spiking neurons (Dense, Conv, Pooling)",
      );
    }
    this.#fanout = this.#computeFanouts();
    this.#inputOnly = new Set([0]);
    nodes.forEach((n, i) => {
      if (i > 0 && !n.op?.spiking && n.inputs.every((j) => this.#inputOnly.has(j))) this.#inputOnly.add(i);
    });
  }

  /** Drop cached input currents. */
  #clearCache(): void {
    tf.dispose([...this.#currentCache.values()]);
    this.#currentCache.clear();
    this.#cacheFor = -1;
  }

  /** Build the spiking network of `model` (its current weights are copied). */
  static fromModel(
    model: LayersModel,
    options: SimulationOptions,
    networkOptions: NetworkOptions = {},
  ): SpikingNetwork {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new UnsupportedLayerError(
        `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the simulator needs one of each`,
      );
    }
    const byName = new Map<string, number>();
    const nodes: Node[] = [];
    for (const input of model.inputs.map((t) => t.sourceLayer)) {
      byName.set(input.name, nodes.length);
      nodes.push({
        op: undefined,
        inputs: [],
        name: input.name,
        shape: input.outputShape.slice(1).map((d) => Number(d ?? 1)),
      });
    }
    for (const layer of model.layers) {
      if (byName.has(layer.name)) continue;
      if (layer.getClassName() === "InputLayer") continue;
      const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
      const op = layerOp(layer, options.dt, options.max2avgPool);
      byName.set(layer.name, nodes.length);
      nodes.push({
        op,
        inputs: inbound.map((l) => producerIndex(l, byName, layer.name)),
        name: layer.name,
        shape: op.shape,
      });
    }
    const outLayer = model.outputs[0].sourceLayer;
    const output = byName.get(outLayer.name);
    if (output === undefined) {
      throw new ModelFormatError(`output layer '${outLayer.name}' not found among the model's layers`);
    }
    return new SpikingNetwork(nodes, options, output, networkOptions.fused);
  }

  /** The spiking layers, in network order. */
  get layers(): SpikingLayerInfo[] {
    return this.#spiking.map((i) => {
      const n = this.#nodes[i];
      return { name: n.name, type: n.op!.type, shape: n.shape, neurons: sizeOf(n.shape) };
    });
  }

  /** Name and output shape (without the batch) of every layer after the input, spiking or not, in network order. */
  get allLayers(): { name: string; shape: number[] }[] {
    return this.#nodes.slice(1).map((n) => ({ name: n.name, shape: n.shape }));
  }

  /** Number of output neurons (classes). */
  get numClasses(): number {
    return sizeOf(this.#nodes[this.#output].shape);
  }

  /** Input shape without the batch dimension. */
  get inputShape(): number[] {
    return this.#nodes[0].shape;
  }

  /** Whether the spiking layers run the fused neuron kernel (decided by {@linkcode SpikingNetwork.init}). */
  get fused(): boolean {
    return [...this.#neurons.values()].some((l) => l.fused);
  }

  /** Multiply-accumulates of one ANN forward pass of one sample (exact connection count of Dense/Conv layers). */
  get macs(): number {
    return this.#nodes.reduce((s, n) => s + (n.op?.macs ?? 0), 0);
  }

  /** Number of neurons with a non-zero bias (one update each per step in the SNN, one add in the ANN). */
  get neuronsWithBias(): number {
    return this.#nodes.reduce((s, n) => s + (n.op?.neuronsWithBias ?? 0), 0);
  }

  /**
   * Fan-out (outgoing synapses) of every neuron of the input (`""`) or of a
   * spiking layer, flat in the layer's shape; zeros when it feeds no spiking layer.
   */
  fanout(layerName: string): Float32Array {
    const i = layerName === "" ? 0 : this.#nodes.findIndex((n) => n.name === layerName);
    if (i < 0) throw new RangeError(`no layer '${layerName}' in the spiking network`);
    return this.#fanout.get(i)?.slice() ?? new Float32Array(sizeOf(this.#nodes[i].shape));
  }

  /** Number of synapses (connections) leaving each neuron, summed over the network. */
  get numSynapses(): number {
    let total = 0;
    for (const f of this.#fanout.values()) for (const v of f) total += v;
    return total;
  }

  /**
   * Fan-out of every neuron of each spiking layer and of the input, keyed by
   * node: a reverse pass summing, over the spiking layers each neuron reaches
   * through pass-through layers, its number of synapses into them.
   */
  #computeFanouts(): Map<number, Float32Array> {
    const fan: (Float32Array | undefined)[] = this.#nodes.map(() => undefined);
    const add = (j: number, a: Float32Array) => {
      const cur = fan[j];
      if (!cur) fan[j] = a.slice();
      else for (let k = 0; k < a.length; k++) cur[k] += a[k];
    };
    for (let i = this.#nodes.length - 1; i >= 1; i--) {
      const node = this.#nodes[i];
      const op = node.op!;
      const inShapes = node.inputs.map((j) => this.#nodes[j].shape);
      if (op.spiking) {
        op.fanout(inShapes, new Float32Array(0)).forEach((a, k) => add(node.inputs[k], a));
      } else {
        const own = fan[i];
        if (own) op.fanout(inShapes, own).forEach((a, k) => add(node.inputs[k], a));
      }
    }
    const out = new Map<number, Float32Array>();
    for (const i of [0, ...this.#spiking]) {
      const a = fan[i];
      if (a && a.some((v) => v !== 0)) out.set(i, a);
    }
    return out;
  }

  /**
   * The fan-out of spiking node `i` as a kept int32 tensor, for {@linkcode NeuronLayer.stepWithStats};
   * `null` unless its values are whole numbers summing to less than 2³¹ (the kernel's integer sums).
   */
  #statFanout(i: number): Tensor | null {
    let f = this.#statFanouts.get(i);
    if (f === undefined) {
      const fan = this.#fanout.get(i) ?? new Float32Array(sizeOf(this.#nodes[i].shape));
      let total = 0;
      for (const v of fan) total += v;
      f = fan.every((v) => Number.isInteger(v) && v >= 0) && total < 2 ** 31
        ? tf.keep(tf.tensor1d(Int32Array.from(fan), "int32"))
        : null;
      this.#statFanouts.set(i, f);
    }
    return f;
  }

  /** The `[neurons, 2]` weights of node `i` for the step statistics: (fan-out, 1), or (fan-out, 0) for the input. */
  #statWeight(i: number): Tensor {
    let w = this.#statWeights.get(i);
    if (!w) {
      const n = sizeOf(this.#nodes[i].shape);
      const fan = this.#fanout.get(i);
      const data = new Float32Array(2 * n);
      for (let k = 0; k < n; k++) {
        data[2 * k] = fan?.[k] ?? 0;
        data[2 * k + 1] = i === 0 ? 0 : 1;
      }
      w = tf.keep(tf.tensor2d(data, [n, 2]));
      this.#statWeights.set(i, w);
    }
    return w;
  }

  /**
   * Allocate zero state for a batch of `batchSize` samples (frees any previous
   * state). The samples' ids (for their random draws) are `0 … batchSize-1`
   * until {@linkcode SpikingNetwork.setSampleIds} says otherwise.
   */
  init(batchSize: number): void {
    this.#disposeState();
    this.#clearCache();
    this.#batch = batchSize;
    this.#sampleIds = Int32Array.from({ length: batchSize }, (_, i) => i);
    this.#spiking.forEach((i, k) => {
      const node = this.#nodes[i];
      this.#neurons.set(
        i,
        createNeuronLayer([batchSize, ...node.shape], {
          cell: this.#options.cell,
          dt: this.#options.dt,
          activation: node.op!.activation,
          seed: this.#options.seed,
          stream: 1 + k,
        }, this.#fused ?? true),
      );
      if (node.op!.gatedMaxPool) {
        this.#gates.set(i, tf.zeros([batchSize, ...this.#nodes[node.inputs[0]].shape]));
      }
    });
  }

  /** The ids of the samples of the batch (dataset indices): a sample's random draws depend on its id only. */
  setSampleIds(ids: ArrayLike<number>): void {
    if (ids.length !== this.#batch) {
      throw new RangeError(`setSampleIds: ${ids.length} ids for a batch of ${this.#batch}`);
    }
    this.#sampleIds = Int32Array.from(ids);
  }

  /**
   * Reset after batch `batchIdx` as the toolbox does: membrane potentials
   * are zeroed when `batchIdx % reset_between_nth_sample == 0` (with 0
   * meaning `batchIdx + 1`); refractory times, max-pool gates and spike
   * counts always.
   */
  reset(batchIdx: number): void {
    const mod = this.#options.resetBetweenNthSample || batchIdx + 1;
    const resetMem = batchIdx % mod === 0;
    for (const layer of this.#neurons.values()) layer.reset(resetMem);
    for (const [i, g] of this.#gates) {
      this.#gates.set(i, tf.zerosLike(g));
      g.dispose();
    }
  }

  /** Advance the whole batch by one time step (`stepIdx` from 0) with input `input` (`[batch, ...inputShape]`). */
  step(input: Tensor, stepIdx: number, record: StepRecording = {}): StepOutput {
    if (this.#neurons.size === 0 || input.shape[0] !== this.#batch) {
      throw new RangeError(
        `step(): input batch ${input.shape[0]} does not match the initialised batch ${this.#batch}`,
      );
    }
    return tf.tidy(() => {
      const v: Tensor[] = [input];
      const stats: Tensor[] | undefined = record.stats ? [] : undefined;
      const spikes: Tensor[] = [];
      const mems: Tensor[] = [];
      if (stats && this.#options.poissonInput && this.#fanout.has(0)) {
        stats.push(this.#statsOf(0, tf.abs(tf.sign(input))));
      }
      for (let i = 1; i < this.#nodes.length; i++) {
        const node = this.#nodes[i];
        const op = node.op!;
        const ins = node.inputs.map((j) => v[j]);
        if (!op.spiking) {
          v[i] = op.apply(ins);
          continue;
        }
        const s = this.#spikingStep(i, ins, input, stepIdx, stats);
        v[i] = s;
        if (record.spikes) spikes.push(s);
        if (record.mem) mems.push(this.#neurons.get(i)!.membrane());
      }
      return {
        output: tf.reshape(v[this.#output], [this.#batch, -1]),
        ...(stats ? { stats: stats.length > 1 ? tf.addN(stats) : stats[0] } : {}),
        ...(record.spikes ? { spikes } : {}),
        ...(record.mem ? { mem: mems } : {}),
      };
    });
  }

  /** `[batch, 2]`: (synaptic operations, spikes) of each sample, from node `i`'s `fired` (1 where a neuron fired). */
  #statsOf(i: number, fired: Tensor): Tensor {
    return tf.matMul(tf.reshape(fired, [this.#batch, -1]) as tf.Tensor2D, this.#statWeight(i) as tf.Tensor2D);
  }

  /**
   * One step as {@linkcode SpikingNetwork.step}, read back at once (for
   * tools and tests that look at every step; the simulator itself reads
   * back once per batch): per sample, the output neurons that fired (1/0),
   * the synaptic operations and the spikes of all spiking layers.
   */
  async stepAndRead(input: Tensor, stepIdx: number): Promise<SteppedValues> {
    const out = this.step(input, stepIdx, { stats: true });
    try {
      const [o, s] = await Promise.all([out.output.data(), out.stats!.data()]);
      const b = this.#batch;
      return {
        outputSpikes: Float32Array.from(o, (v) => (v > 0 ? 1 : 0)),
        sops: Float32Array.from({ length: b }, (_, k) => s[2 * k]),
        spikeCount: Float32Array.from({ length: b }, (_, k) => s[2 * k + 1]),
      };
    } finally {
      tf.dispose([out.output, out.stats!]);
    }
  }

  /** 1 where a neuron of a layer with `activation` fired, from its spikes (0 or ±v_thresh). */
  #firedOf(s: Tensor, activation: string): Tensor {
    const vt = this.#options.cell.vThresh;
    const a = activation === "binary_tanh" ? tf.abs(s) : s;
    return vt === 1 ? a : tf.div(a, vt);
  }

  /**
   * The spikes of spiking node `i` in this step, from its inputs `ins`; with
   * `stats`, its step statistics ({@linkcode SpikingNetwork.#statsOf}) are
   * added to that list — summed in the neurons' own pass where the layer can.
   */
  #spikingStep(i: number, ins: Tensor[], input: Tensor, stepIdx: number, stats?: Tensor[]): Tensor {
    const node = this.#nodes[i];
    const op = node.op!;
    let gate = this.#gates.get(i);
    if (gate) {
      gate = tf.keep(tf.add(gate, ins[0]));
      this.#gates.get(i)!.dispose();
      this.#gates.set(i, gate);
    }
    // A layer fed by the input alone gets the same current as long as the input tensor is the same.
    const cacheable = !gate && node.inputs.every((j) => this.#inputOnly.has(j));
    let current = cacheable && input.id === this.#cacheFor ? this.#currentCache.get(i) : undefined;
    if (!current) {
      current = op.apply(ins, gate);
      if (cacheable) {
        if (input.id !== this.#cacheFor) this.#clearCache();
        this.#currentCache.set(i, tf.keep(current));
        this.#cacheFor = input.id;
      }
    }
    const neurons = this.#neurons.get(i)!;
    const fanout = stats && neurons.stepWithStats ? this.#statFanout(i) : null;
    if (stats && neurons.stepWithStats && fanout) {
      const out = neurons.stepWithStats(current, stepIdx, fanout);
      stats.push(out.stats);
      return out.spikes;
    }
    const spikes = neurons.step(current, stepIdx, this.#sampleIds);
    if (stats) stats.push(this.#statsOf(i, this.#firedOf(spikes, op.activation)));
    return spikes;
  }

  /** Spike counts of each spiking layer since the last reset (`[batch, ...shape]`), as tensors the caller disposes. */
  spikeCountTensors(): Tensor[] {
    return this.#spiking.map((i) => this.#neurons.get(i)!.counts());
  }

  /** Spike counts of each spiking layer since the last reset (`[batch, ...shape]`), downloaded. */
  async spikeCounts(): Promise<Float32Array[]> {
    const counts = this.spikeCountTensors();
    try {
      return await Promise.all(counts.map(async (c) => (await c.data()) as Float32Array));
    } finally {
      tf.dispose(counts);
    }
  }

  #disposeState(): void {
    for (const l of this.#neurons.values()) l.dispose();
    this.#neurons.clear();
    tf.dispose([...this.#gates.values()]);
    this.#gates.clear();
  }

  /** Free every tensor the network holds. */
  dispose(): void {
    this.#disposeState();
    this.#clearCache();
    tf.dispose([...this.#statWeights.values(), ...[...this.#statFanouts.values()].filter((f) => f !== null)]);
    this.#statWeights.clear();
    this.#statFanouts.clear();
    for (const n of this.#nodes) if (n.op) tf.dispose(n.op.owned);
  }
}
