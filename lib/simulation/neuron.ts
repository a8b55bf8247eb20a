/**
 * One time step of the toolbox's integrate-and-fire neuron (INI simulator,
 * temporal mean rate code), on whole tensors:
 *
 * 1. input current ignored where the neuron is refractory (`tau_refrac > 0`);
 * 2. `mem += current`; with `leak`, positive potentials lose `0.1 · dt`;
 * 3. spikes of amplitude `v_thresh` where `mem >= v_thresh`; a softmax layer
 *    instead spikes at random with probability `softmax(mem)` and is never
 *    reset (the toolbox's choice: better top-1 error); `binary_sigmoid` /
 *    `binary_tanh` layers spike on the sign of `mem`;
 * 4. reset where a spike occurred: `Reset by subtraction` (mem − v_thresh),
 *    `Reset by modulo` (mem mod v_thresh, floored as Python's `%`),
 *    `Reset to zero` (to `v_reset`, 0 by default as in the toolbox);
 * 5. refractory until `time + tau_refrac` after a spike.
 *
 * {@linkcode integrateAndFire} is that step as element-wise TF.js operations
 * (every backend); {@linkcode createNeuronLayer} keeps a layer's state on the
 * backend and updates it with one fused kernel where the backend has one
 * (./kernels/integrate_fire.ts: WebGPU, WASM), computing the same float32 values.
 *
 * @module
 */
import { type Tensor, tf } from "../../deps.ts";
import { uniformNoise } from "./kernels/noise.ts";
import {
  hasFusedIntegrateFire,
  hasFusedStepStats,
  type IntegrateFireAttrs,
  integrateFireFused,
  integrateFireFusedWithStats,
  type ResetKind,
  type SpikeMode,
} from "./kernels/integrate_fire.ts";
import type { CellOptions } from "./options.ts";

/** Membrane state of one layer of neurons. */
export interface NeuronState {
  /** Membrane potentials. */
  mem: Tensor;
  /** Time until which each neuron is refractory (only when `tau_refrac > 0`). */
  refracUntil?: Tensor;
}

/** Inputs of {@linkcode integrateAndFire} besides the state. */
export interface NeuronStepInput {
  /** Input current of this step (synaptic input plus bias · dt). */
  current: Tensor;
  /** Simulation time of this step (`(step + 1) · dt`). */
  time: number;
  /** Time step. */
  dt: number;
  /** The layer's activation string (`softmax`, `binary_sigmoid`, `binary_tanh`, anything else: threshold). */
  activation: string;
  /** Neuron parameters. */
  cell: CellOptions;
  /** Uniform numbers in [0, 1) shaped like the layer, for the random draw of a softmax layer. */
  noise?: Tensor;
  /** Without `noise`: seed of a `tf.randomUniform` draw for a softmax layer (vary it per step). */
  seed?: number;
}

/** Output of {@linkcode integrateAndFire}: the new state, the spikes and where they occurred. */
export interface NeuronStepOutput extends NeuronState {
  /** Output spikes: 0 or ±v_thresh. */
  spikes: Tensor;
  /** 1 where a neuron spiked, else 0 (float32). */
  fired: Tensor;
}

/** `1` where `x > 0`, else `0` (float32, without a boolean tensor: WASM casts booleans slowly). */
function positive(x: Tensor): Tensor {
  return tf.step(x);
}

/**
 * Advance one layer of neurons by one time step with element-wise TF.js
 * operations (any backend); returns the output spikes (0 or ±v_thresh) and
 * the new state. Comparisons are written as `step` of a difference, which
 * is exact in float32 (a difference of two floats is 0 only when they are
 * equal, and has the sign of the true difference).
 */
export function integrateAndFire(state: NeuronState, input: NeuronStepInput): NeuronStepOutput {
  const { cell, time, activation } = input;
  const vt = cell.vThresh;
  let current = input.current;
  if (cell.tauRefrac > 0 && state.refracUntil) {
    // Input ignored while refractory (refracUntil > time).
    current = tf.mul(current, tf.sub(1, positive(tf.sub(state.refracUntil, time))));
  }
  let mem = tf.add(state.mem, current);
  if (cell.leak) mem = tf.sub(mem, tf.mul(positive(mem), 0.1 * input.dt));
  let fired: Tensor;
  let spikes: Tensor | undefined;
  if (activation === "softmax") {
    const u = input.noise ?? tf.randomUniform(mem.shape, 0, 1, "float32", input.seed);
    fired = tf.sub(1, positive(tf.sub(u, tf.softmax(mem)))); // u <= p
  } else if (activation === "binary_sigmoid") {
    fired = positive(mem);
  } else if (activation === "binary_tanh") {
    const signed = tf.sub(positive(mem), positive(tf.neg(mem)));
    fired = tf.abs(signed);
    spikes = vt === 1 ? signed : tf.mul(signed, vt);
  } else {
    fired = tf.sub(1, positive(tf.sub(vt, mem))); // mem >= v_thresh
  }
  spikes ??= vt === 1 ? fired : tf.mul(fired, vt);
  let next = mem;
  if (activation !== "softmax") {
    if (cell.reset === "Reset by subtraction") {
      // mem - v_thresh where a positive spike, mem + v_thresh where a negative one, else mem.
      next = tf.sub(mem, spikes);
    } else if (cell.reset === "Reset by modulo") {
      next = tf.where(tf.greater(fired, 0), tf.mod(mem, tf.scalar(vt)), mem);
    } else {
      next = tf.where(tf.greater(fired, 0), tf.fill(mem.shape, cell.vReset), mem);
    }
  }
  const refracUntil = cell.tauRefrac > 0 && state.refracUntil
    ? tf.where(tf.greater(fired, 0), tf.fill(mem.shape, time + cell.tauRefrac), state.refracUntil)
    : undefined;
  return { spikes, fired, mem: next, refracUntil };
}

/** What a layer of neurons needs besides its input. */
export interface NeuronLayerParams {
  /** Neuron parameters. */
  cell: CellOptions;
  /** Time step in ms. */
  dt: number;
  /** The layer's activation string (see {@linkcode NeuronStepInput.activation}). */
  activation: string;
  /** `[simulation] seed`. */
  seed: number;
  /** Random stream of the layer's draws (a softmax layer's): distinct per layer. */
  stream: number;
}

/**
 * The state of one layer of integrate-and-fire neurons over a batch, kept
 * on the backend, and its update. {@linkcode createNeuronLayer} picks the
 * fused kernel where the backend has one (WebGPU, WASM), else element-wise ops.
 */
export interface NeuronLayer {
  /** `[batch, ...layer shape]`. */
  readonly shape: number[];
  /** Whether the update runs as one fused kernel. */
  readonly fused: boolean;
  /**
   * Advance by one step with input `current` (shaped like the layer); `stepIdx` from 0,
   * `sampleIds` the samples of the batch (for a softmax layer's draws). Returns the
   * spikes, a tensor of the current `tf.tidy` scope; the state is kept.
   */
  step(current: Tensor, stepIdx: number, sampleIds: Int32Array): Tensor;
  /**
   * Where the layer computes them in the same pass (the fused kernel on
   * WASM): the step, and each sample's statistics `[batch, 2]` — its
   * synaptic operations (`fanout`: the fan-out of each neuron of a sample,
   * int32, less than 2³¹ in all) and its spikes in this step.
   */
  readonly stepWithStats?: (
    current: Tensor,
    stepIdx: number,
    fanout: Tensor,
  ) => { spikes: Tensor; stats: Tensor };
  /** Spike counts since the last reset (a new tensor). */
  counts(): Tensor;
  /** Membrane potentials (a new tensor). */
  membrane(): Tensor;
  /** Zero the spike counts and refractory times, and the potentials when `resetMem`. */
  reset(resetMem: boolean): void;
  /** Free the state. */
  dispose(): void;
}

function replace<T extends Tensor | undefined>(old: T, next: T): T {
  if (next) tf.keep(next);
  if (old && old !== next) old.dispose();
  return next;
}

/** A layer updated with {@linkcode integrateAndFire}: state in separate tensors. */
class ComposedNeuronLayer implements NeuronLayer {
  readonly fused = false;
  #mem: Tensor;
  #counts: Tensor;
  #refrac: Tensor | undefined;

  constructor(readonly shape: number[], readonly params: NeuronLayerParams) {
    this.#mem = tf.zeros(shape);
    this.#counts = tf.zeros(shape);
    this.#refrac = params.cell.tauRefrac > 0 ? tf.zeros(shape) : undefined;
  }

  step(current: Tensor, stepIdx: number, sampleIds: Int32Array): Tensor {
    const p = this.params;
    const noise = p.activation === "softmax"
      ? uniformNoise(this.shape, sampleIds, { seed: p.seed, stream: p.stream, step: stepIdx })
      : undefined;
    const out = integrateAndFire(
      { mem: this.#mem, refracUntil: this.#refrac },
      { current, time: (stepIdx + 1) * p.dt, dt: p.dt, activation: p.activation, cell: p.cell, noise },
    );
    this.#counts = replace(this.#counts, tf.add(this.#counts, out.fired));
    this.#mem = replace(this.#mem, out.mem);
    this.#refrac = replace(this.#refrac, out.refracUntil);
    return out.spikes;
  }

  counts(): Tensor {
    return this.#counts.clone();
  }

  membrane(): Tensor {
    return this.#mem.clone();
  }

  reset(resetMem: boolean): void {
    if (resetMem) this.#mem = replace(this.#mem, tf.zeros(this.shape));
    this.#counts = replace(this.#counts, tf.zeros(this.shape));
    if (this.#refrac) this.#refrac = replace(this.#refrac, tf.zeros(this.shape));
  }

  dispose(): void {
    tf.dispose([this.#mem, this.#counts, ...(this.#refrac ? [this.#refrac] : [])]);
  }
}

const SPIKE_MODES: Record<string, SpikeMode> = {
  binary_sigmoid: "binary_sigmoid",
  binary_tanh: "binary_tanh",
};
const RESETS: Record<string, ResetKind> = { "Reset by subtraction": "subtract", "Reset by modulo": "modulo" };

/** A layer updated by the fused kernel: state packed `[rows, n]` (potential, count, refractory end). */
class FusedNeuronLayer implements NeuronLayer {
  readonly fused = true;
  readonly #n: number;
  readonly #rows: number;
  #state: Tensor;

  constructor(readonly shape: number[], readonly params: NeuronLayerParams) {
    this.#n = shape.reduce((a, b) => a * b, 1);
    this.#rows = params.cell.tauRefrac > 0 ? 3 : 2;
    this.#state = tf.zeros([this.#rows, this.#n]);
    if (hasFusedStepStats(RESETS[params.cell.reset] ?? "zero", this.#n / shape[0])) {
      this.stepWithStats = (current, stepIdx, fanout) => {
        const [spikes, next, stats] = integrateFireFusedWithStats(
          this.#state,
          current,
          fanout,
          this.#attrs(stepIdx),
        );
        this.#state = replace(this.#state, next);
        return { spikes, stats };
      };
    }
  }

  readonly stepWithStats?: (
    current: Tensor,
    stepIdx: number,
    fanout: Tensor,
  ) => { spikes: Tensor; stats: Tensor };

  /** The kernel's attributes at step `stepIdx`. */
  #attrs(stepIdx: number): IntegrateFireAttrs {
    const { cell, dt, activation } = this.params;
    const time = (stepIdx + 1) * dt;
    return {
      mode: SPIKE_MODES[activation] ?? "threshold",
      reset: RESETS[cell.reset] ?? "zero",
      leak: cell.leak,
      refractory: this.#rows === 3,
      vThresh: cell.vThresh,
      vReset: cell.vReset,
      leakStep: 0.1 * dt,
      time,
      refracUntil: time + cell.tauRefrac,
    };
  }

  step(current: Tensor, stepIdx: number): Tensor {
    const [spikes, next] = integrateFireFused(this.#state, current, this.#attrs(stepIdx));
    this.#state = replace(this.#state, next);
    return spikes;
  }

  #row(r: number): Tensor {
    return tf.tidy(() => tf.reshape(tf.slice(this.#state, [r, 0], [1, this.#n]), this.shape));
  }

  counts(): Tensor {
    return this.#row(1);
  }

  membrane(): Tensor {
    return this.#row(0);
  }

  reset(resetMem: boolean): void {
    const next = tf.tidy(() =>
      resetMem
        ? tf.zeros([this.#rows, this.#n])
        : tf.concat([tf.slice(this.#state, [0, 0], [1, this.#n]), tf.zeros([this.#rows - 1, this.#n])])
    );
    this.#state = replace(this.#state, next);
  }

  dispose(): void {
    this.#state.dispose();
  }
}

/**
 * A layer of neurons of `shape` (`[batch, ...]`): fused on a backend with
 * the fused kernel unless `fused` is false; softmax layers (random draws
 * from a row-wise softmax) always use the composed form.
 */
export function createNeuronLayer(shape: number[], params: NeuronLayerParams, fused = true): NeuronLayer {
  return fused && params.activation !== "softmax" &&
      hasFusedIntegrateFire(RESETS[params.cell.reset] ?? "zero")
    ? new FusedNeuronLayer(shape, params)
    : new ComposedNeuronLayer(shape, params);
}
