/**
 * Adding up a simulation run: the {@linkcode BatchRecord}s of its batches
 * are folded into {@linkcode SimulationTallies} — counts over samples
 * (right guesses at every step, synaptic operations and spikes at every
 * step, spikes per layer) and per-sample values (test-set index, ANN and
 * SNN correctness, correlations, synaptic operations) — plus the run's
 * histogram counts, truths and guesses. Every figure of a result derives
 * from those by {@linkcode simulationResult}, for one run and for shards of
 * a run merged (./shards.ts) alike, so both give exactly the same result.
 *
 * @module
 */
import type { BatchRecord } from "./batch.ts";

/**
 * Raw counts and per-sample values of a simulation run, from which every
 * figure of a result follows (`lib/simulation/shards.ts` merges the runs of
 * sample shards with them). Counts are sums over samples.
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
  /**
   * Synaptic operations at every step, summed over samples (empty when the
   * per-step statistics were not recorded: no plot or log variable asked for them).
   */
  sopsByTime: number[];
  /** Spikes of the whole network at every step, summed over samples (empty when not recorded). */
  spikesByTime: number[];
  /** Per sample: synaptic operations over the whole simulation. */
  sampleSops: number[];
  /** Spikes of each spiking layer over the whole run. */
  spikeTotals: number[];
  /** Neurons of each spiking layer. */
  neurons: number[];
}

/** The settings of a run that its figures depend on besides the tallies. */
export interface RunMeta {
  /** Time steps per batch. */
  steps: number;
  /** Time step in ms. */
  dt: number;
  /** The `k` of the top-k accuracies. */
  topK: number;
  /** Multiply-accumulates of one ANN forward pass per sample. */
  macs: number;
  /** The spiking layers, in network order. */
  layers: { name: string; neurons: number }[];
}

/** What a run accumulates: its tallies, and the per-sample guesses and histogram counts. */
export interface RunTotals {
  /** The tallies. */
  tallies: SimulationTallies;
  /** True class of every sample. */
  truth: number[];
  /** Final SNN guess of every sample (-1: no output spike). */
  guesses: number[];
  /** Histogram counts of the non-zero spike rates of all spiking layers. */
  histRates: number[];
  /** Histogram counts of the non-zero ANN activations of all spiking layers. */
  histActivations: number[];
}

/** Empty totals of a run with `meta`'s settings, `bins` histogram bins and batches of `batchSize`. */
export function emptyTotals(meta: RunMeta, batchSize: number, bins: number, stepStats: boolean): RunTotals {
  const zeros = (n: number) => new Array<number>(n).fill(0);
  return {
    tallies: {
      batchSize,
      sampleIndices: [],
      snnCorrectByTime: zeros(meta.steps),
      snnTopKCorrectByTime: zeros(meta.steps),
      snnTopKCorrect: [],
      annCorrect: [],
      annTopKCorrect: [],
      correlations: meta.layers.map((): number[] => []),
      sopsByTime: stepStats ? zeros(meta.steps) : [],
      spikesByTime: stepStats ? zeros(meta.steps) : [],
      sampleSops: [],
      spikeTotals: zeros(meta.layers.length),
      neurons: meta.layers.map((l) => l.neurons),
    },
    truth: [],
    guesses: [],
    histRates: zeros(bins),
    histActivations: zeros(bins),
  };
}

/** Fold one batch's record into `totals` (in place). */
export function addRecord(totals: RunTotals, r: BatchRecord): void {
  const t = totals.tallies;
  const T = t.snnCorrectByTime.length;
  for (let b = 0; b < r.n; b++) {
    for (let s = 0; s < T; s++) {
      t.snnCorrectByTime[s] += 1 - r.err1[b * T + s];
      t.snnTopKCorrectByTime[s] += 1 - r.errK[b * T + s];
      if (r.sopsByStep && t.sopsByTime.length) t.sopsByTime[s] += r.sopsByStep[b * T + s];
      if (r.spikesByStep && t.spikesByTime.length) t.spikesByTime[s] += r.spikesByStep[b * T + s];
    }
    t.sampleIndices.push(r.sampleIds[b]);
    t.snnTopKCorrect.push(1 - r.errK[b * T + T - 1]);
    t.annCorrect.push(r.annCorrect[b]);
    t.annTopKCorrect.push(r.annCorrectK[b]);
    t.sampleSops.push(r.sops[b]);
    totals.truth.push(r.truth[b]);
    totals.guesses.push(r.guesses[b]);
  }
  t.correlations.forEach((list, l) => {
    for (let b = 0; b < r.n; b++) list.push(r.correlations[l * r.n + b]);
    t.spikeTotals[l] += r.layerSpikes[l];
  });
  r.histRates.forEach((v, i) => (totals.histRates[i] += v));
  r.histActivations.forEach((v, i) => (totals.histActivations[i] += v));
}

function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

/**
 * The lines of a run's `accuracy.txt` (running accuracies after every batch:
 * samples, SNN top-1, top-k, ANN top-1, top-k), from its tallies and guesses.
 */
export function accuracyLines(
  r: { topK: number; numSamples: number; truth: number[]; guesses: number[]; tallies: SimulationTallies },
): string[] {
  const t = r.tallies;
  const lines = [`# samples | SNN top-1 | top-${r.topK} | ANN top-1 | top-${r.topK}`];
  let top1 = 0, topK = 0, ann = 0, annK = 0;
  for (let i = 0; i < r.numSamples; i++) {
    if (r.truth[i] === r.guesses[i]) top1++;
    topK += t.snnTopKCorrect[i];
    ann += t.annCorrect[i];
    annK += t.annTopKCorrect[i];
    const seen = i + 1;
    if (seen % t.batchSize === 0) {
      lines.push(`${seen} ${pct(top1 / seen)} ${pct(topK / seen)} ${pct(ann / seen)} ${pct(annK / seen)}`);
    }
  }
  return lines;
}

/** Correlation of one spiking layer's rates with the ANN activations. */
export interface LayerCorrelation {
  /** Layer name. */
  layer: string;
  /** Mean over samples of the per-sample Pearson coefficient (samples where it is undefined are skipped). */
  correlation: number;
}

/** The figures of a run (everything of a simulation result but its first input and files). */
export interface SimulationFigures {
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
  /** Cumulative synaptic operations per sample at every step (empty when per-step statistics were not recorded). */
  sopsByTime: number[];
  /** Multiply-accumulates of one ANN forward pass per sample. */
  macs: number;
  /** True class of every simulated sample. */
  truth: number[];
  /** Final SNN guess of every simulated sample (-1: no output spike). */
  guesses: number[];
  /** Spikes of the whole network per sample at every step (empty when not recorded). */
  spikeCountByTime: number[];
  /**
   * Histograms of the non-zero spike rates and ANN activations of all spiking
   * layers over all samples, on `[0, 1/dt]` (values above go to the last bin).
   */
  histogram: { edges: number[]; rates: number[]; activations: number[] };
  /** Mean spike rate (spikes per neuron per step) of each spiking layer, over all samples. */
  meanRateByLayer: { layer: string; rate: number }[];
  /** The counts and per-sample values behind the figures above (what merging shards of a run needs). */
  tallies: SimulationTallies;
}

/** Every figure of a run from its totals (the one place they are computed; see the module docs). */
export function simulationFigures(meta: RunMeta, totals: RunTotals): SimulationFigures {
  const t = totals.tallies;
  const { truth, guesses } = totals;
  const n = truth.length;
  const count = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const byTime = (a: number[]) => a.map((v) => v / n);
  let cum = 0;
  const sopsCum = t.sopsByTime.map((v) => (cum += v / n));
  const classCount = new Map<number, [number, number]>();
  truth.forEach((c, i) => {
    const e = classCount.get(c) ?? [0, 0];
    e[0]++;
    if (guesses[i] === c) e[1]++;
    classCount.set(c, e);
  });
  const perClass = [...classCount.values()].map(([cnt, ok]) => ok / cnt);
  const maxRate = 1 / meta.dt;
  const bins = totals.histRates.length;
  return {
    numSamples: n,
    times: Array.from({ length: meta.steps }, (_, i) => (i + 1) * meta.dt),
    topK: meta.topK,
    snnAccuracy: truth.filter((v, i) => v === guesses[i]).length / n,
    snnTopKAccuracy: count(t.snnTopKCorrect) / n,
    snnAccuracyByTime: byTime(t.snnCorrectByTime),
    snnTopKAccuracyByTime: byTime(t.snnTopKCorrectByTime),
    annAccuracy: count(t.annCorrect) / n,
    annTopKAccuracy: count(t.annTopKCorrect) / n,
    snnAccuracyByClass: perClass.reduce((a, v) => a + v, 0) / Math.max(1, perClass.length),
    correlationByLayer: meta.layers.map(({ name }, l) => {
      let s = 0, k = 0;
      for (const v of t.correlations[l]) {
        if (Number.isFinite(v)) {
          s += v;
          k++;
        }
      }
      return { layer: name, correlation: k ? s / k : NaN };
    }),
    sops: count(t.sampleSops) / n,
    sopsByTime: sopsCum,
    macs: meta.macs,
    truth,
    guesses,
    spikeCountByTime: byTime(t.spikesByTime),
    histogram: {
      edges: Array.from({ length: bins + 1 }, (_, i) => (i * maxRate) / bins),
      rates: [...totals.histRates],
      activations: [...totals.histActivations],
    },
    meanRateByLayer: meta.layers.map((l, i) => ({
      layer: l.name,
      rate: t.spikeTotals[i] / (n * t.neurons[i] * meta.steps),
    })),
    tallies: t,
  };
}
