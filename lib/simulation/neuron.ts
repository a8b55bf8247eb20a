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
 * @module
 */
import { type Tensor, tf } from "../../deps.ts";
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
  /** Seed of the random draw of a softmax layer (vary it per step). */
  seed: number;
}

/** Output of {@linkcode integrateAndFire}: the new state, the spikes and where they occurred. */
export interface NeuronStepOutput extends NeuronState {
  /** Output spikes: 0 or ±v_thresh. */
  spikes: Tensor;
  /** 1 where a neuron spiked, else 0 (float32). */
  fired: Tensor;
}

/** Advance one layer of neurons by one time step; returns the output spikes (0 or ±v_thresh) and the new state. */
export function integrateAndFire(state: NeuronState, input: NeuronStepInput): NeuronStepOutput {
  const { cell, time, activation } = input;
  const vt = cell.vThresh;
  let current = input.current;
  if (cell.tauRefrac > 0 && state.refracUntil) {
    current = tf.where(tf.greater(state.refracUntil, time), tf.zerosLike(current), current);
  }
  let mem = tf.add(state.mem, current);
  if (cell.leak) mem = tf.where(tf.greater(mem, 0), tf.sub(mem, 0.1 * input.dt), mem);
  let fired: Tensor;
  let spikes: Tensor;
  if (activation === "softmax") {
    const u = tf.randomUniform(mem.shape, 0, 1, "float32", input.seed);
    fired = tf.cast(tf.lessEqual(u, tf.softmax(mem)), "float32");
  } else if (activation === "binary_sigmoid") {
    fired = tf.cast(tf.greater(mem, 0), "float32");
  } else if (activation === "binary_tanh") {
    const signed = tf.sub(tf.cast(tf.greater(mem, 0), "float32"), tf.cast(tf.less(mem, 0), "float32"));
    fired = tf.abs(signed);
    spikes = vt === 1 ? signed : tf.mul(signed, vt);
  } else {
    fired = tf.cast(tf.greaterEqual(mem, vt), "float32");
  }
  spikes ??= vt === 1 ? fired : tf.mul(fired, vt);
  let next = mem;
  if (activation !== "softmax") {
    if (cell.reset === "Reset by subtraction") {
      // mem - v_thresh where a positive spike, mem + v_thresh where a negative one, else mem.
      next = tf.sub(mem, spikes);
    } else if (cell.reset === "Reset by modulo") {
      next = tf.where(tf.cast(fired, "bool"), tf.mod(mem, tf.scalar(vt)), mem);
    } else {
      next = tf.where(tf.cast(fired, "bool"), tf.fill(mem.shape, cell.vReset), mem);
    }
  }
  const refracUntil = cell.tauRefrac > 0 && state.refracUntil
    ? tf.where(tf.cast(fired, "bool"), tf.fill(mem.shape, time + cell.tauRefrac), state.refracUntil)
    : undefined;
  return { spikes, fired, mem: next, refracUntil };
}
