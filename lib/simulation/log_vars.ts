/**
 * The `[output] log_vars` of the INI simulator: per batch, one compressed
 * `<logDir>/log_vars/<batch>.npz` with the toolbox's variable names
 * (`top1err_b_t`, `spiketrains_n_b_l_t/<layer>`, ...); per-layer variables
 * are keyed `<var>/<layer name>`.
 *
 * @module
 */
import type { NDArray } from "../io/ndarray.ts";
import type { BatchRecord, RecordOptions } from "./batch.ts";
import type { RunTotals } from "./tally.ts";

/** The `[output] log_vars` the simulator can save (per batch, `<logDir>/log_vars/<batch>.npz`). */
export const LOG_VARS: readonly string[] = [
  "activations_n_b_l",
  "spiketrains_n_b_l_t",
  "input_b_l_t",
  "mem_n_b_l_t",
  "synaptic_operations_b_t",
  "neuron_operations_b_t",
];

/** The log variables asked for (`all` expands to every one). */
export function expandLogVars(vars: readonly string[] | undefined): Set<string> {
  const s = new Set(vars ?? []);
  return s.has("all") ? new Set(LOG_VARS) : s;
}

/** What the simulation must record for the log variables `logVars`. */
export function recordOptionsFor(logVars: Set<string>): RecordOptions {
  return {
    activations: logVars.has("activations_n_b_l"),
    spiketrains: logVars.has("spiketrains_n_b_l_t"),
    mem: logVars.has("mem_n_b_l_t"),
    input: logVars.has("input_b_l_t"),
    stepStats: logVars.has("synaptic_operations_b_t"),
  };
}

/** What a batch's file needs besides its record. */
export interface BatchLogContext {
  /** The log variables asked for. */
  logVars: Set<string>;
  /** The spiking layers (name and shape without the batch). */
  layers: { name: string; shape: number[] }[];
  /** Steps per batch. */
  steps: number;
  /** Shape of one input sample. */
  sampleShape: number[];
  /** The batch's input samples. */
  x: Float32Array;
  /** Totals of the run up to and including this batch (for the ANN's running error). */
  totals: RunTotals;
  /** Multiply-accumulates of one ANN forward pass per sample. */
  macs: number;
  /** Neurons with a non-zero bias (their updates are the neuron operations). */
  neuronsWithBias: number;
}

/** The arrays of one batch's `log_vars/<batch>.npz`. */
export function batchLogVars(r: BatchRecord, c: BatchLogContext): Record<string, NDArray> {
  const n = r.n;
  const T = c.steps;
  const f32 = (data: Float32Array, shape: number[]): NDArray => ({ data, shape, dtype: "float32" });
  const f64 = (v: number): NDArray => ({ data: Float64Array.of(v), shape: [], dtype: "float64" });
  const t = c.totals.tallies;
  const seen = t.annCorrect.length;
  const sum = (a: number[]) => a.reduce((p, q) => p + q, 0);
  const out: Record<string, NDArray> = {
    top1err_b_t: { data: r.err1, shape: [n, T], dtype: "bool" },
    top5err_b_t: { data: r.errK, shape: [n, T], dtype: "bool" },
    top1err_ann: f64(1 - sum(t.annCorrect) / seen),
    top5err_ann: f64(1 - sum(t.annTopKCorrect) / seen),
    operations_ann: f64((2 * c.macs + c.neuronsWithBias) / 1e6),
    input_image_b_l: f32(c.x, [n, ...c.sampleShape]),
    true_classes_b: { data: Int32Array.from(r.truth), shape: [n], dtype: "int32" },
  };
  c.layers.forEach((layer, i) => {
    if (c.logVars.has("activations_n_b_l") && r.logs.activations) {
      out[`activations_n_b_l/${layer.name}`] = f32(r.logs.activations[i], [n, ...layer.shape]);
    }
    if (r.logs.spiketrains) {
      out[`spiketrains_n_b_l_t/${layer.name}`] = f32(r.logs.spiketrains[i], [n, ...layer.shape, T]);
    }
    if (r.logs.mem) out[`mem_n_b_l_t/${layer.name}`] = f32(r.logs.mem[i], [n, ...layer.shape, T]);
  });
  if (r.logs.input) out.input_b_l_t = f32(r.logs.input, [n, ...c.sampleShape, T]);
  if (c.logVars.has("synaptic_operations_b_t") && r.sopsByStep) {
    out.synaptic_operations_b_t = f32(r.sopsByStep, [n, T]);
  }
  if (c.logVars.has("neuron_operations_b_t")) {
    out.neuron_operations_b_t = f32(new Float32Array(n * T).fill(c.neuronsWithBias), [n, T]);
  }
  return out;
}
