/**
 * The simulation run of the INI simulator, as the toolbox's
 * `AbstractSNN.run` + `SNN.simulate`: the selected test samples are split
 * into batches of `batch_size` (an incomplete last batch is dropped, as in
 * the toolbox), each batch is simulated for `int(duration / dt)` steps, and
 * the run reports the SNN's top-1 / top-k accuracy at every step, the ANN's
 * accuracy on the same samples, per-layer spike-rate/activation
 * correlations, and the synaptic operations of the SNN against the MACs of
 * the ANN.
 *
 * Classification: the output layer's spikes are counted from the start;
 * the guess at step t is the class with most spikes so far (undecided, thus
 * wrong, while no output neuron has spiked).
 *
 * The run is made of small parts: the samples and batches are planned here,
 * each batch is simulated by a {@linkcode BatchRunner} (./parallel.ts: in
 * this thread, or split over data-parallel workers) into a per-sample
 * record (./batch.ts), records are added up into the run's totals
 * (./tally.ts), from which every figure of the result derives; the log
 * variables are written per batch (./log_vars.ts).
 *
 * @module
 */
import type { LayersModel } from "../../deps.ts";
import { ConfigError, DatasetError } from "../errors.ts";
import { type NDArray, sizeOf, toFloat32 } from "../io/ndarray.ts";
import { writeNpz } from "../io/npz.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { labelIndices } from "../parsing/evaluate.ts";
import { type BatchJob, HISTOGRAM_BINS, maxOf, type RecordOptions } from "./batch.ts";
import { batchLogVars, expandLogVars, LOG_VARS, recordOptionsFor } from "./log_vars.ts";
import { SpikingNetwork } from "./network.ts";
import type { SimulationOptions } from "./options.ts";
import { type BatchRunner, openRunner, type SimulationWorkers } from "./parallel.ts";
import {
  accuracyLines,
  addRecord,
  emptyTotals,
  type LayerCorrelation,
  type RunMeta,
  type SimulationFigures,
  simulationFigures,
  type SimulationTallies,
} from "./tally.ts";

export { LOG_VARS };
export type { LayerCorrelation, SimulationTallies };

/** Test data: inputs (NHWC, samples first) and labels (one-hot `[N, C]` or class indices `[N]`). */
export interface TestData {
  /** Inputs. */
  x: NDArray;
  /** Labels. */
  y: NDArray;
}

/** Options of {@linkcode runSimulation} beyond the simulation parameters. */
export interface RunOptions {
  /** Run log directory (`accuracy.txt`, `log_vars/<batch>.npz`); nothing is written without it. */
  logDir?: string;
  /** `[output] log_vars` (names from {@linkcode LOG_VARS}, or `all`). */
  logVars?: readonly string[];
  /**
   * `[output] plot_vars`: per-step synaptic operations and spike counts are
   * recorded only when a plot (`operations`, `spikecounts`, `all`) or the log
   * variable `synaptic_operations_b_t` needs them (or {@linkcode RunOptions.stepStats}).
   */
  plotVars?: readonly string[];
  /** Record the per-step statistics whatever the plots and logs ask for. */
  stepStats?: boolean;
  /**
   * Data-parallel workers (default 1: this thread), or workers started
   * beforehand (the run borrows them); used on the WASM and CPU backends only.
   */
  workers?: number | SimulationWorkers;
  /** Use the fused neuron kernel where the backend has one (default true). */
  fused?: boolean;
  /** Called after every simulated time step: `(stepsDone, stepsTotal)` over all batches. */
  progress?: (done: number, total: number) => void;
}

/** What a simulation run measured (see {@linkcode SimulationFigures}; `tallies` are its counts, for merging runs). */
export interface SimulationResult extends SimulationFigures {
  /** First simulated input sample and its shape (for the report). */
  firstInput: { data: Float32Array; shape: number[] };
  /** Files written. */
  files: string[];
}

/**
 * Test-set indices a run simulates, in order: `sample_idxs_to_test`, or the
 * first `num_to_test` (validated against the `numAvailable` samples).
 */
export function selectSamples(numAvailable: number, options: SimulationOptions): number[] {
  const idx = options.sampleIdxsToTest.length
    ? options.sampleIdxsToTest
    : Array.from({ length: options.numToTest }, (_, i) => i);
  const bad = idx.find((i) => !Number.isInteger(i) || i < 0 || i >= numAvailable);
  if (bad !== undefined) {
    const what = options.sampleIdxsToTest.length
      ? `[simulation] sample_idxs_to_test holds ${bad}`
      : `[simulation] num_to_test = ${options.numToTest}`;
    throw new ConfigError(`${what}, but the test set has ${numAvailable} samples`);
  }
  return idx;
}

/** The batches of a run: sample indices split into full batches (an incomplete last batch is dropped). */
export interface RunPlan {
  /** Samples per batch. */
  batchSize: number;
  /** Sample indices of each batch. */
  batches: number[][];
  /** Shape of one sample. */
  sampleShape: number[];
}

/** Plan the batches of a run of `model` on `data` (checks the labels and the sample shape). */
export function planRun(model: LayersModel, data: TestData, options: SimulationOptions): RunPlan {
  const n = data.x.shape[0] ?? 0;
  if ((data.y.shape[0] ?? 0) < n) {
    throw new DatasetError(`the test set has ${n} samples but only ${data.y.shape[0]} labels`);
  }
  const indices = selectSamples(n, options);
  const batchSize = Math.min(options.batchSize, indices.length);
  const numBatches = Math.floor(indices.length / batchSize);
  const sampleShape = data.x.shape.slice(1);
  const expected = model.inputs[0].shape.slice(1);
  if (sampleShape.length !== expected.length || expected.some((d, i) => d !== null && d !== sampleShape[i])) {
    throw new DatasetError(
      `test samples have shape [${sampleShape.join(", ")}], the model expects [${expected.join(", ")}]`,
    );
  }
  const batches = Array.from(
    { length: numBatches },
    (_, b) => indices.slice(b * batchSize, (b + 1) * batchSize),
  );
  return { batchSize, batches, sampleShape };
}

/** The job of batch `b`: its samples gathered from `x`, their labels, and the batch's largest input. */
function batchJob(b: number, idx: number[], x: Float32Array, per: number, labels: Int32Array): BatchJob {
  const xb = new Float32Array(idx.length * per);
  idx.forEach((i, k) => xb.set(x.subarray(i * per, (i + 1) * per), k * per));
  return {
    batchIndex: b,
    x: xb,
    sampleIds: Int32Array.from(idx),
    truth: Int32Array.from(idx, (i) => labels[i]),
    maxX: maxOf(xb),
  };
}

const STEP_STAT_PLOTS = ["operations", "spikecounts", "all"];

/** What to record in a run with `run`'s log and plot variables. */
export function recordOptions(run: RunOptions): RecordOptions {
  const fromLogs = recordOptionsFor(expandLogVars(run.logVars));
  const plots = run.plotVars ?? [];
  return {
    ...fromLogs,
    stepStats: run.stepStats || fromLogs.stepStats || plots.some((p) => STEP_STAT_PLOTS.includes(p)),
    fused: run.fused,
  };
}

/** The settings of a run's figures, from its spiking network (with the layers' shapes, for the logs). */
function tallyMeta(model: LayersModel, options: SimulationOptions): {
  meta: RunMeta & { layers: { name: string; neurons: number; shape: number[] }[] };
  neuronsWithBias: number;
} {
  const net = SpikingNetwork.fromModel(model, options);
  try {
    return {
      meta: {
        steps: Math.floor(options.duration / options.dt),
        dt: options.dt,
        topK: Math.min(options.topK, net.numClasses),
        macs: net.macs,
        layers: net.layers.map((l) => ({ name: l.name, neurons: l.neurons, shape: l.shape })),
      },
      neuronsWithBias: net.neuronsWithBias,
    };
  } finally {
    net.dispose();
  }
}

/**
 * Simulate `model` (a parsed, normalized, channels-last model) as a spiking
 * network on the test data and measure it (see the module docs). The model
 * itself is only read.
 */
export async function runSimulation(
  model: LayersModel,
  data: TestData,
  options: SimulationOptions,
  run: RunOptions = {},
): Promise<SimulationResult> {
  const plan = planRun(model, data, options);
  const labels = labelIndices(data.y);
  const x = toFloat32(data.x);
  const per = sizeOf(plan.sampleShape);
  const record = recordOptions(run);
  const { meta, neuronsWithBias } = tallyMeta(model, options);
  const totals = emptyTotals(meta, plan.batchSize, HISTOGRAM_BINS, record.stepStats ?? false);
  const files: string[] = [];
  const totalSteps = plan.batches.length * meta.steps;
  if (run.logDir) await Deno.mkdir(`${run.logDir}/log_vars`, { recursive: true });
  const runner: BatchRunner = await openRunner(
    model,
    options,
    plan.batchSize,
    record,
    run.workers ?? 1,
    plan.batches.length,
  );
  const logVars = expandLogVars(run.logVars);
  try {
    await runner.run(
      plan.batches.length,
      (b) => batchJob(b, plan.batches[b], x, per, labels),
      async (job, rec) => {
        addRecord(totals, rec);
        if (!run.logDir) return;
        await writeNpz(
          `${run.logDir}/log_vars/${job.batchIndex}.npz`,
          batchLogVars(rec, {
            logVars,
            layers: meta.layers,
            steps: meta.steps,
            sampleShape: plan.sampleShape,
            x: job.x,
            totals,
            macs: meta.macs,
            neuronsWithBias,
          }),
          { compressed: true },
        );
        if (!files.includes(`${run.logDir}/log_vars`)) files.push(`${run.logDir}/log_vars`);
      },
      run.progress && ((s) => run.progress!(s, totalSteps)),
    );
  } finally {
    await runner.close();
  }
  const figures = simulationFigures(meta, totals);
  if (run.logDir) {
    await writeFileAtomic(`${run.logDir}/accuracy.txt`, accuracyLines(figures).join("\n") + "\n");
    files.unshift(`${run.logDir}/accuracy.txt`);
  }
  const first = plan.batches[0]?.[0] ?? 0;
  return {
    ...figures,
    firstInput: { data: x.slice(first * per, (first + 1) * per), shape: plan.sampleShape },
    files,
  };
}
