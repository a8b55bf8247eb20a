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
 * @module
 */
import { type LayersModel, type Tensor, tf } from "../../deps.ts";
import { ConfigError, DatasetError } from "../errors.ts";
import { type NDArray, sizeOf, toFloat32 } from "../io/ndarray.ts";
import { writeNpz } from "../io/npz.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { labelIndices } from "../parsing/evaluate.ts";
import { decide, inTopK, sampleCorrelations } from "./metrics.ts";
import { SpikingNetwork } from "./network.ts";
import type { SimulationOptions } from "./options.ts";
import { poissonFrame } from "./poisson.ts";

/** The `[output] log_vars` the simulator can save (per batch, `<logDir>/log_vars/<batch>.npz`). */
export const LOG_VARS: readonly string[] = [
  "activations_n_b_l",
  "spiketrains_n_b_l_t",
  "input_b_l_t",
  "mem_n_b_l_t",
  "synaptic_operations_b_t",
  "neuron_operations_b_t",
];

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
  /** Called after every simulated time step: `(stepsDone, stepsTotal)` over all batches. */
  progress?: (done: number, total: number) => void;
}

/** Correlation of one spiking layer's rates with the ANN activations. */
export interface LayerCorrelation {
  /** Layer name. */
  layer: string;
  /** Mean over samples of the per-sample Pearson coefficient (samples where it is undefined are skipped). */
  correlation: number;
}

/** What a simulation run measured. */
export interface SimulationResult {
  /** Number of samples simulated. */
  numSamples: number;
  /** Simulation time of every step in ms (`dt, 2 dt, ...`). */
  times: number[];
  /** The `k` of the top-k accuracies. */
  topK: number;
  /** SNN top-1 accuracy at the end of the simulation. */
  snnAccuracy: number;
  /** SNN top-k accuracy at the end of the simulation. */
  snnTopKAccuracy: number;
  /** SNN top-1 accuracy at every step. */
  snnAccuracyByTime: number[];
  /** SNN top-k accuracy at every step. */
  snnTopKAccuracyByTime: number[];
  /** ANN top-1 accuracy on the same samples. */
  annAccuracy: number;
  /** ANN top-k accuracy on the same samples. */
  annTopKAccuracy: number;
  /** SNN top-1 accuracy averaged over classes (each class weighted equally). */
  snnAccuracyByClass: number;
  /** Spike-rate / activation correlation of every spiking layer, in network order. */
  correlationByLayer: LayerCorrelation[];
  /** Synaptic operations of the SNN per sample over the whole simulation. */
  sops: number;
  /** Cumulative synaptic operations per sample at every step. */
  sopsByTime: number[];
  /** Multiply-accumulates of one ANN forward pass per sample. */
  macs: number;
  /** True class of every simulated sample. */
  truth: number[];
  /** Final SNN guess of every simulated sample (-1: no output spike). */
  guesses: number[];
  /** Spikes of the whole network per sample at every step. */
  spikeCountByTime: number[];
  /**
   * Histograms of the non-zero spike rates and ANN activations of all spiking
   * layers over all samples, on `[0, 1/dt]` (values above go to the last bin).
   */
  histogram: { edges: number[]; rates: number[]; activations: number[] };
  /** Mean spike rate (spikes per neuron per step) of each spiking layer, over all samples. */
  meanRateByLayer: { layer: string; rate: number }[];
  /** First simulated input sample and its shape (for the report). */
  firstInput: { data: Float32Array; shape: number[] };
  /** Files written. */
  files: string[];
  /** The counts and per-sample values behind the figures above (what merging shards of a run needs). */
  tallies: SimulationTallies;
}

/**
 * Raw counts and per-sample values of a simulation run, from which every
 * figure of {@linkcode SimulationResult} follows (`lib/simulation/shards.ts`
 * merges the runs of sample shards with them). Counts are sums over samples.
 */
export interface SimulationTallies {
  /** Samples per batch. */
  batchSize: number;
  /** Test-set index of every simulated sample, in simulation order. */
  sampleIndices: number[];
  /** Samples the SNN classified correctly (top-1) at every step. */
  snnCorrectByTime: number[];
  /** Samples with the true class among the SNN's top k at every step. */
  snnTopKCorrectByTime: number[];
  /** Per sample: 1 when the true class is among the SNN's top k at the end, else 0. */
  snnTopKCorrect: number[];
  /** Per sample: 1 when the ANN's top-1 guess is right, else 0. */
  annCorrect: number[];
  /** Per sample: 1 when the true class is among the ANN's top k, else 0. */
  annTopKCorrect: number[];
  /** Per spiking layer, per sample: the Pearson coefficient of rates and activations (NaN when undefined). */
  correlations: number[][];
  /** Synaptic operations at every step, summed over samples. */
  sopsByTime: number[];
  /** Spikes of the whole network at every step, summed over samples. */
  spikesByTime: number[];
  /** Spikes of each spiking layer over the whole run. */
  spikeTotals: number[];
  /** Neurons of each spiking layer. */
  neurons: number[];
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

function gatherBatch(x: Float32Array, per: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * per);
  idx.forEach((i, k) => out.set(x.subarray(i * per, (i + 1) * per), k * per));
  return out;
}

function expandLogVars(vars: readonly string[] | undefined): Set<string> {
  const s = new Set(vars ?? []);
  if (s.has("all")) return new Set(LOG_VARS);
  return s;
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
  const n = data.x.shape[0] ?? 0;
  if ((data.y.shape[0] ?? 0) < n) {
    throw new DatasetError(`the test set has ${n} samples but only ${data.y.shape[0]} labels`);
  }
  const labels = labelIndices(data.y);
  const indices = selectSamples(n, options);
  const batchSize = Math.min(options.batchSize, indices.length);
  const numBatches = Math.floor(indices.length / batchSize);
  const numSamples = numBatches * batchSize;
  const sampleShape = data.x.shape.slice(1);
  const expected = model.inputs[0].shape.slice(1);
  if (sampleShape.length !== expected.length || expected.some((d, i) => d !== null && d !== sampleShape[i])) {
    throw new DatasetError(
      `test samples have shape [${sampleShape.join(", ")}], the model expects [${expected.join(", ")}]`,
    );
  }
  const per = sizeOf(sampleShape);
  const x = toFloat32(data.x);
  const steps = Math.floor(options.duration / options.dt);
  const logVars = expandLogVars(run.logVars);
  const files: string[] = [];

  const net = SpikingNetwork.fromModel(model, options);
  const layers = net.layers;
  const classes = net.numClasses;
  const topK = Math.min(options.topK, classes);
  const outName = model.outputs[0].sourceLayer.name;
  const probeOutputs = layers.map((l) => model.getLayer(l.name).output as tf.SymbolicTensor);
  const outputIsSpiking = layers.length > 0 && layers[layers.length - 1].name === outName;
  if (!outputIsSpiking) probeOutputs.push(model.outputs[0]);
  const probe = tf.model({ inputs: model.inputs, outputs: probeOutputs });

  const correct = new Float64Array(steps);
  const correctK = new Float64Array(steps);
  const sopsByTime = new Float64Array(steps);
  const spikesByTime = new Float64Array(steps);
  const hist = { bins: 40, rates: new Float64Array(40), activations: new Float64Array(40) };
  const corrSum = new Float64Array(layers.length);
  const corrN = new Float64Array(layers.length);
  const spikeTotals = new Float64Array(layers.length);
  let annCorrect = 0, annCorrectK = 0;
  const perSample = {
    annCorrect: [] as number[],
    annTopKCorrect: [] as number[],
    snnTopKCorrect: [] as number[],
    correlations: layers.map((): number[] => []),
  };
  const truth: number[] = [];
  const guesses: number[] = [];
  const accLines = [`# samples | SNN top-1 | top-${topK} | ANN top-1 | top-${topK}`];
  const maxRate = 1 / options.dt;
  const rescale = 1000 / (options.inputRate * options.dt);
  const totalSteps = numBatches * steps;
  let finalCorrectK = 0;

  if (run.logDir) await Deno.mkdir(`${run.logDir}/log_vars`, { recursive: true });
  try {
    net.init(batchSize);
    for (let b = 0; b < numBatches; b++) {
      const idx = indices.slice(b * batchSize, (b + 1) * batchSize);
      const truthB = idx.map((i) => labels[i]);
      const xbData = gatherBatch(x, per, idx);
      const xb = tf.tensor(xbData, [batchSize, ...sampleShape]);
      // ANN on the same batch: outputs and the activations of every spiking layer.
      const annOut = probe.predict(xb) as Tensor | Tensor[];
      const annList = Array.isArray(annOut) ? annOut : [annOut];
      const activations = annList.slice(0, layers.length).map((t) => t.dataSync() as Float32Array);
      const annPred = annList[annList.length - 1].dataSync() as Float32Array;
      tf.dispose(annList);
      truthB.forEach((t, k) => {
        const row = annPred.subarray(k * classes, (k + 1) * classes);
        let above = 0;
        for (let j = 0; j < classes; j++) if (row[j] > row[t]) above++;
        if (above === 0) annCorrect++;
        if (above < topK) annCorrectK++;
        perSample.annCorrect.push(above === 0 ? 1 : 0);
        perSample.annTopKCorrect.push(above < topK ? 1 : 0);
      });

      const maxX = options.poissonInput ? tf.tidy(() => tf.max(xb).dataSync()[0]) : 0;
      const analog = options.poissonInput ? undefined : tf.mul(xb, options.dt);
      const record = { spikes: logVars.has("spiketrains_n_b_l_t"), mem: logVars.has("mem_n_b_l_t") };
      const spiketrains = record.spikes
        ? layers.map((l) => new Float32Array(batchSize * l.neurons * steps))
        : [];
      const mems = record.mem ? layers.map((l) => new Float32Array(batchSize * l.neurons * steps)) : [];
      const inputT = logVars.has("input_b_l_t") ? new Float32Array(batchSize * per * steps) : undefined;
      const sopsBT = new Float32Array(batchSize * steps);
      const cum = new Float32Array(batchSize * classes);
      const err1 = new Uint8Array(batchSize * steps).fill(1);
      const errK = new Uint8Array(batchSize * steps).fill(1);
      let inputCount = 0;
      let t = 0;
      for (; t < steps; t++) {
        let input: Tensor;
        if (analog) input = analog;
        else if (options.numPoissonEventsPerSample >= 0 && inputCount >= options.numPoissonEventsPerSample) {
          input = tf.zerosLike(xb);
        } else input = tf.tensor(poissonFrame(xbData, idx, maxX, rescale, options.seed, t), xb.shape);
        const out = net.step(input, t, record);
        if (inputT) {
          const d = input.dataSync();
          for (let i = 0; i < batchSize * per; i++) inputT[i * steps + t] = d[i];
        }
        if (input !== analog) input.dispose();
        inputCount += out.inputEvents / batchSize;
        const time = (t + 1) * options.dt;
        out.spikes?.forEach((s, l) => {
          const d = s.dataSync();
          const arr = spiketrains[l];
          for (let i = 0; i < d.length; i++) if (d[i] !== 0) arr[i * steps + t] = time;
          s.dispose();
        });
        out.mem?.forEach((m, l) => {
          const d = m.dataSync();
          const arr = mems[l];
          for (let i = 0; i < d.length; i++) arr[i * steps + t] = d[i];
          m.dispose();
        });
        for (let i = 0; i < cum.length; i++) cum[i] += out.outputSpikes[i];
        for (let k = 0; k < batchSize; k++) {
          const row = cum.subarray(k * classes, (k + 1) * classes);
          if (decide(row) === truthB[k]) err1[k * steps + t] = 0;
          if (inTopK(row, truthB[k], topK)) errK[k * steps + t] = 0;
          sopsBT[k * steps + t] = out.sops[k];
          sopsByTime[t] += out.sops[k];
          spikesByTime[t] += out.spikeCount[k];
        }
        run.progress?.(b * steps + t + 1, totalSteps);
        if (options.earlyStopping && out.inputEvents === 0) {
          t++;
          break;
        }
      }
      // Early stop: the spike counts, hence the guesses, stay as they are for the remaining steps.
      for (let k = 0; k < batchSize; k++) {
        for (let r = t; r < steps; r++) {
          err1[k * steps + r] = err1[k * steps + t - 1];
          errK[k * steps + r] = errK[k * steps + t - 1];
        }
        for (let r = 0; r < steps; r++) {
          correct[r] += 1 - err1[k * steps + r];
          correctK[r] += 1 - errK[k * steps + r];
        }
      }
      analog?.dispose();
      for (let k = 0; k < batchSize; k++) {
        const g = decide(cum.subarray(k * classes, (k + 1) * classes));
        truth.push(truthB[k]);
        guesses.push(g);
        if (errK[k * steps + steps - 1] === 0) finalCorrectK++;
        perSample.snnTopKCorrect.push(errK[k * steps + steps - 1] === 0 ? 1 : 0);
      }

      // Spike-rate / activation correlation per layer.
      const counts = net.spikeCounts();
      counts.forEach((c, l) => {
        const rates = c.map((v) => v / options.duration);
        for (const v of c) spikeTotals[l] += v;
        addToHistogram(hist.rates, rates, maxRate);
        addToHistogram(hist.activations, activations[l], maxRate);
        const co = sampleCorrelations(rates, activations[l], batchSize, l < layers.length - 1, maxRate);
        perSample.correlations[l].push(...co);
        for (const v of co) {
          if (Number.isFinite(v)) {
            corrSum[l] += v;
            corrN[l]++;
          }
        }
      });

      const seen = (b + 1) * batchSize;
      const movingTop1 = truth.filter((v, i) => v === guesses[i]).length / seen;
      accLines.push(
        `${seen} ${pct(movingTop1)} ${pct(finalCorrectK / seen)} ${pct(annCorrect / seen)} ${
          pct(annCorrectK / seen)
        }`,
      );
      if (run.logDir) {
        const file = `${run.logDir}/log_vars/${b}.npz`;
        await writeNpz(
          file,
          batchLogVars({
            logVars,
            layers: layers.map((l) => ({ name: l.name, shape: l.shape })),
            batchSize,
            steps,
            sampleShape,
            err1,
            errK,
            annTop1Err: 1 - annCorrect / seen,
            annTopKErr: 1 - annCorrectK / seen,
            macs: net.macs,
            xb: xb.dataSync() as Float32Array,
            truth: truthB,
            activations,
            spiketrains,
            mems,
            inputT,
            sopsBT,
            neuronsWithBias: net.neuronsWithBias,
          }),
          { compressed: true },
        );
        if (!files.includes(`${run.logDir}/log_vars`)) files.push(`${run.logDir}/log_vars`);
      }
      xb.dispose();
      if (b < numBatches - 1) net.reset(b);
    }
  } finally {
    net.dispose(); // the probe model shares the model's layers and owns no tensors
  }
  if (run.logDir) {
    await writeFileAtomic(`${run.logDir}/accuracy.txt`, accLines.join("\n") + "\n");
    files.unshift(`${run.logDir}/accuracy.txt`);
  }
  const byTime = (a: Float64Array) => Array.from(a, (v) => v / numSamples);
  let cumSops = 0;
  const sopsCum = Array.from(sopsByTime, (v) => (cumSops += v / numSamples));
  const classCount = new Map<number, [number, number]>();
  truth.forEach((t, i) => {
    const c = classCount.get(t) ?? [0, 0];
    c[0]++;
    if (guesses[i] === t) c[1]++;
    classCount.set(t, c);
  });
  const perClass = [...classCount.values()].map(([cnt, ok]) => ok / cnt);
  return {
    numSamples,
    times: Array.from({ length: steps }, (_, t) => (t + 1) * options.dt),
    topK,
    snnAccuracy: truth.filter((v, i) => v === guesses[i]).length / numSamples,
    snnTopKAccuracy: finalCorrectK / numSamples,
    snnAccuracyByTime: byTime(correct),
    snnTopKAccuracyByTime: byTime(correctK),
    annAccuracy: annCorrect / numSamples,
    annTopKAccuracy: annCorrectK / numSamples,
    snnAccuracyByClass: perClass.reduce((a, v) => a + v, 0) / Math.max(1, perClass.length),
    correlationByLayer: layers.map((l, i) => ({
      layer: l.name,
      correlation: corrN[i] ? corrSum[i] / corrN[i] : NaN,
    })),
    sops: sopsCum[sopsCum.length - 1] ?? 0,
    sopsByTime: sopsCum,
    macs: net.macs,
    truth,
    guesses,
    spikeCountByTime: Array.from(spikesByTime, (v) => v / numSamples),
    histogram: {
      edges: Array.from({ length: hist.bins + 1 }, (_, i) => (i * maxRate) / hist.bins),
      rates: Array.from(hist.rates),
      activations: Array.from(hist.activations),
    },
    meanRateByLayer: layers.map((l, i) => ({
      layer: l.name,
      rate: spikeTotals[i] / (numSamples * l.neurons * steps),
    })),
    firstInput: { data: x.slice(indices[0] * per, (indices[0] + 1) * per), shape: sampleShape },
    files,
    tallies: {
      batchSize,
      sampleIndices: indices.slice(0, numSamples),
      snnCorrectByTime: Array.from(correct),
      snnTopKCorrectByTime: Array.from(correctK),
      ...perSample,
      sopsByTime: Array.from(sopsByTime),
      spikesByTime: Array.from(spikesByTime),
      spikeTotals: Array.from(spikeTotals),
      neurons: layers.map((l) => l.neurons),
    },
  };
}

/** Count the non-zero values of `values` into `counts` (equal bins on `[0, max]`, the last one open). */
function addToHistogram(counts: Float64Array, values: ArrayLike<number>, max: number): void {
  const n = counts.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > 0) counts[Math.min(n - 1, Math.floor((v / max) * n))]++;
  }
}

function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

interface BatchLog {
  logVars: Set<string>;
  layers: { name: string; shape: number[] }[];
  batchSize: number;
  steps: number;
  sampleShape: number[];
  err1: Uint8Array;
  errK: Uint8Array;
  annTop1Err: number;
  annTopKErr: number;
  macs: number;
  xb: Float32Array;
  truth: number[];
  activations: Float32Array[];
  spiketrains: Float32Array[];
  mems: Float32Array[];
  inputT?: Float32Array;
  sopsBT: Float32Array;
  neuronsWithBias: number;
}

/** The arrays of one batch's `log_vars/<batch>.npz`; per-layer variables are keyed `<var>/<layer name>`. */
function batchLogVars(l: BatchLog): Record<string, NDArray> {
  const f32 = (data: Float32Array, shape: number[]): NDArray => ({ data, shape, dtype: "float32" });
  const f64 = (v: number): NDArray => ({ data: Float64Array.of(v), shape: [], dtype: "float64" });
  const out: Record<string, NDArray> = {
    top1err_b_t: { data: l.err1, shape: [l.batchSize, l.steps], dtype: "bool" },
    top5err_b_t: { data: l.errK, shape: [l.batchSize, l.steps], dtype: "bool" },
    top1err_ann: f64(l.annTop1Err),
    top5err_ann: f64(l.annTopKErr),
    operations_ann: f64((2 * l.macs + l.neuronsWithBias) / 1e6),
    input_image_b_l: f32(l.xb, [l.batchSize, ...l.sampleShape]),
    true_classes_b: { data: Int32Array.from(l.truth), shape: [l.batchSize], dtype: "int32" },
  };
  l.layers.forEach((layer, i) => {
    if (l.logVars.has("activations_n_b_l")) {
      out[`activations_n_b_l/${layer.name}`] = f32(l.activations[i], [l.batchSize, ...layer.shape]);
    }
    if (l.spiketrains[i]) {
      out[`spiketrains_n_b_l_t/${layer.name}`] = f32(l.spiketrains[i], [
        l.batchSize,
        ...layer.shape,
        l.steps,
      ]);
    }
    if (l.mems[i]) out[`mem_n_b_l_t/${layer.name}`] = f32(l.mems[i], [l.batchSize, ...layer.shape, l.steps]);
  });
  if (l.inputT) out.input_b_l_t = f32(l.inputT, [l.batchSize, ...l.sampleShape, l.steps]);
  if (l.logVars.has("synaptic_operations_b_t")) {
    out.synaptic_operations_b_t = f32(l.sopsBT, [l.batchSize, l.steps]);
  }
  if (l.logVars.has("neuron_operations_b_t")) {
    out.neuron_operations_b_t = f32(new Float32Array(l.batchSize * l.steps).fill(l.neuronsWithBias), [
      l.batchSize,
      l.steps,
    ]);
  }
  return out;
}
