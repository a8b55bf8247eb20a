/**
 * A spiking network built from a parsed (channels-last) TF.js model: the
 * layers' synaptic ops (with biases scaled by `dt`), integrate-and-fire
 * neurons on every spiking layer, and the per-neuron fan-out used to count
 * synaptic operations. A whole batch is advanced one time step per
 * {@linkcode SpikingNetwork.step}; every temporary tensor of a step is freed
 * (the state tensors are replaced, so memory does not grow with time).
 *
 * @module
 */
import { type Layer, type LayersModel, type Tensor, tf } from "../../deps.ts";
import { ModelFormatError, UnsupportedLayerError } from "../errors.ts";
import { type LayerOp, layerOp } from "./layers.ts";
import { integrateAndFire } from "./neuron.ts";
import type { SimulationOptions } from "./options.ts";

interface Node {
  op: LayerOp | undefined; // undefined: an input layer
  inputs: number[];
  name: string;
  shape: number[];
}

interface LayerState {
  mem: Tensor;
  refracUntil?: Tensor;
  memInput?: Tensor;
  counts: Tensor;
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

/** What one time step produced. */
export interface StepOutput {
  /** Output-layer spikes (`1` where a neuron fired), `[batch, classes]`, downloaded. */
  outputSpikes: Float32Array;
  /** Synaptic operations of this step per sample, `[batch]`. */
  sops: Float32Array;
  /** Spikes of all spiking layers in this step per sample, `[batch]`. */
  spikeCount: Float32Array;
  /** Number of non-zero input values of this step (whole batch). */
  inputEvents: number;
  /** Spikes of each spiking layer (only when requested); the caller disposes them. */
  spikes?: Tensor[];
  /** Membrane potentials of each spiking layer after the step (only when requested); the caller disposes them. */
  mem?: Tensor[];
}

/** Options of {@linkcode SpikingNetwork.step}. */
export interface StepRecording {
  /** Also return each spiking layer's spikes. */
  spikes?: boolean;
  /** Also return each spiking layer's membrane potentials. */
  mem?: boolean;
}

function producerIndex(layer: Layer, byName: Map<string, number>, of: string): number {
  const idx = byName.get(layer.name);
  if (idx === undefined) {
    throw new ModelFormatError(`layer '${of}' has inbound layer '${layer.name}' outside the model`);
  }
  return idx;
}

/** The spiking network of a parsed model. Create with {@linkcode SpikingNetwork.fromModel}; free with `dispose()`. */
export class SpikingNetwork {
  readonly #nodes: Node[];
  readonly #options: SimulationOptions;
  readonly #spiking: number[];
  readonly #output: number;
  readonly #fanout: Map<number, Tensor>;
  #state = new Map<number, LayerState>();
  #batch = 0;
  /** Nodes computed from the network input alone (through pass-through layers). */
  readonly #inputOnly: Set<number>;
  /** Input currents of spiking layers fed by the input alone, for the input tensor `#cacheFor`. */
  #currentCache = new Map<number, Tensor>();
  #cacheFor = -1;

  private constructor(nodes: Node[], options: SimulationOptions, output: number) {
    this.#nodes = nodes;
    this.#options = options;
    this.#output = output;
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
  static fromModel(model: LayersModel, options: SimulationOptions): SpikingNetwork {
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
    return new SpikingNetwork(nodes, options, output);
  }

  /** The spiking layers, in network order. */
  get layers(): SpikingLayerInfo[] {
    return this.#spiking.map((i) => {
      const n = this.#nodes[i];
      return { name: n.name, type: n.op!.type, shape: n.shape, neurons: n.shape.reduce((a, b) => a * b, 1) };
    });
  }

  /** Number of output neurons (classes). */
  get numClasses(): number {
    return this.#nodes[this.#output].shape.reduce((a, b) => a * b, 1);
  }

  /** Input shape without the batch dimension. */
  get inputShape(): number[] {
    return this.#nodes[0].shape;
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
    const f = this.#fanout.get(i);
    return f
      ? (f.dataSync() as Float32Array).slice()
      : new Float32Array(this.#nodes[i].shape.reduce((a, b) => a * b, 1));
  }

  /** Number of synapses (connections) leaving each neuron, summed over the network. */
  get numSynapses(): number {
    let total = 0;
    for (const f of this.#fanout.values()) total += tf.tidy(() => tf.sum(f).dataSync()[0]);
    return total;
  }

  /**
   * Fan-out of every neuron of each spiking layer and of the input, as
   * `[1, ...shape]` tensors keyed by node: a reverse pass summing, over the
   * spiking layers each neuron reaches through pass-through layers, its
   * number of synapses into them.
   */
  #computeFanouts(): Map<number, Tensor> {
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
    const out = new Map<number, Tensor>();
    for (const i of [0, ...this.#spiking]) {
      const a = fan[i];
      if (a && a.some((v) => v !== 0)) out.set(i, tf.tensor(a, [1, ...this.#nodes[i].shape]));
    }
    return out;
  }

  /** Allocate zero state for a batch of `batchSize` samples (frees any previous state). */
  init(batchSize: number): void {
    this.#disposeState();
    this.#clearCache();
    this.#batch = batchSize;
    for (const i of this.#spiking) {
      const shape = [batchSize, ...this.#nodes[i].shape];
      const inputShape = this.#nodes[i].op!.gatedMaxPool
        ? [batchSize, ...this.#nodes[this.#nodes[i].inputs[0]].shape]
        : undefined;
      this.#state.set(i, {
        mem: tf.zeros(shape),
        counts: tf.zeros(shape),
        refracUntil: this.#options.cell.tauRefrac > 0 ? tf.zeros(shape) : undefined,
        memInput: inputShape ? tf.zeros(inputShape) : undefined,
      });
    }
  }

  /**
   * Reset after batch `batchIdx` as the toolbox does: membrane potentials
   * are zeroed when `batchIdx % reset_between_nth_sample == 0` (with 0
   * meaning `batchIdx + 1`); refractory times, max-pool gates and spike
   * counts always.
   */
  reset(batchIdx: number): void {
    const mod = this.#options.resetBetweenNthSample || batchIdx + 1;
    const doReset = batchIdx % mod === 0;
    for (const [i, s] of this.#state) {
      const shape = [this.#batch, ...this.#nodes[i].shape];
      const next: LayerState = {
        mem: doReset ? tf.zeros(shape) : s.mem,
        counts: tf.zeros(shape),
        refracUntil: s.refracUntil ? tf.zerosLike(s.refracUntil) : undefined,
        memInput: s.memInput ? tf.zerosLike(s.memInput) : undefined,
      };
      tf.dispose([s.counts, s.refracUntil, s.memInput].filter((t): t is Tensor => t !== undefined));
      if (doReset) s.mem.dispose();
      this.#state.set(i, next);
    }
  }

  /** Advance the whole batch by one time step (`stepIdx` from 0) with input `input` (`[batch, ...inputShape]`). */
  step(input: Tensor, stepIdx: number, record: StepRecording = {}): StepOutput {
    if (this.#state.size === 0 || input.shape[0] !== this.#batch) {
      throw new RangeError(
        `step(): input batch ${input.shape[0]} does not match the initialised batch ${this.#batch}`,
      );
    }
    const time = (stepIdx + 1) * this.#options.dt;
    const states: Record<number, LayerState> = {};
    const spikes: Tensor[] = [];
    const mems: Tensor[] = [];
    const packed = tf.tidy(() => {
      const v: Tensor[] = [input];
      let sops = tf.zeros([this.#batch]);
      let fired = tf.zeros([this.#batch]);
      const countSops = (fired: Tensor, fanout: Tensor | undefined) => {
        if (!fanout) return;
        const axes = fired.shape.map((_, a) => a).slice(1);
        sops = tf.add(sops, tf.sum(tf.mul(fired, fanout), axes));
      };
      if (this.#options.poissonInput) {
        countSops(tf.cast(tf.notEqual(input, 0), "float32"), this.#fanout.get(0));
      }
      for (let i = 1; i < this.#nodes.length; i++) {
        const node = this.#nodes[i];
        const op = node.op!;
        const ins = node.inputs.map((j) => v[j]);
        if (!op.spiking) {
          v[i] = op.apply(ins);
          continue;
        }
        const s = this.#state.get(i)!;
        const memInput = s.memInput ? tf.add(s.memInput, ins[0]) : undefined;
        // A layer fed by the input alone gets the same current as long as the input tensor is the same.
        const cacheable = !memInput && node.inputs.every((j) => this.#inputOnly.has(j));
        let current = cacheable && input.id === this.#cacheFor ? this.#currentCache.get(i) : undefined;
        if (!current) {
          current = op.apply(ins, memInput);
          if (cacheable) {
            if (input.id !== this.#cacheFor) this.#clearCache();
            this.#currentCache.set(i, tf.keep(current));
            this.#cacheFor = input.id;
          }
        }
        const out = integrateAndFire(s, {
          current,
          time,
          dt: this.#options.dt,
          activation: op.activation,
          cell: this.#options.cell,
          seed: this.#options.seed * 1_000_003 + stepIdx * 7919 + i,
        });
        countSops(out.fired, this.#fanout.get(i));
        fired = tf.add(fired, tf.sum(out.fired, out.fired.shape.map((_, a) => a).slice(1)));
        const counts = tf.add(s.counts, out.fired);
        states[i] = { mem: out.mem, refracUntil: out.refracUntil, memInput, counts };
        for (const t of [out.mem, out.refracUntil, memInput, counts]) if (t) tf.keep(t);
        v[i] = out.spikes;
        if (record.spikes) spikes.push(tf.keep(out.spikes));
        if (record.mem) mems.push(tf.keep(out.mem.clone()));
      }
      const outSpikes = tf.cast(tf.greater(tf.reshape(v[this.#output], [this.#batch, -1]), 0), "float32");
      const perSample = tf.concat([
        outSpikes,
        tf.reshape(sops, [this.#batch, 1]),
        tf.reshape(fired, [this.#batch, 1]),
      ], 1);
      const events = tf.sum(tf.cast(tf.notEqual(input, 0), "float32"));
      return tf.concat([tf.reshape(perSample, [-1]), tf.reshape(events, [1])]);
    });
    for (const i of this.#spiking) {
      const old = this.#state.get(i)!;
      tf.dispose(
        [old.mem, old.counts, old.refracUntil, old.memInput].filter((t): t is Tensor => t !== undefined),
      );
      this.#state.set(i, states[i]);
    }
    const flat = packed.dataSync() as Float32Array;
    packed.dispose();
    const c = this.numClasses;
    const outputSpikes = new Float32Array(this.#batch * c);
    const sops = new Float32Array(this.#batch);
    const spikeCount = new Float32Array(this.#batch);
    for (let b = 0; b < this.#batch; b++) {
      outputSpikes.set(flat.subarray(b * (c + 2), b * (c + 2) + c), b * c);
      sops[b] = flat[b * (c + 2) + c];
      spikeCount[b] = flat[b * (c + 2) + c + 1];
    }
    return {
      outputSpikes,
      sops,
      spikeCount,
      inputEvents: flat[flat.length - 1],
      spikes: record.spikes ? spikes : undefined,
      mem: record.mem ? mems : undefined,
    };
  }

  /** Spike counts of each spiking layer since the last reset (`[batch, ...shape]`), downloaded. */
  spikeCounts(): Float32Array[] {
    return this.#spiking.map((i) => this.#state.get(i)!.counts.dataSync() as Float32Array);
  }

  #disposeState(): void {
    for (const s of this.#state.values()) {
      tf.dispose([s.mem, s.counts, s.refracUntil, s.memInput].filter((t): t is Tensor => t !== undefined));
    }
    this.#state.clear();
  }

  /** Free every tensor the network holds. */
  dispose(): void {
    this.#disposeState();
    this.#clearCache();
    for (const f of this.#fanout.values()) f.dispose();
    this.#fanout.clear();
    for (const n of this.#nodes) if (n.op) tf.dispose(n.op.owned);
  }
}
