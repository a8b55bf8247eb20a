/**
 * Adding up a simulation run: the {@linkcode BatchRecord}s of its batches
 * are folded into {@linkcode SimulationTotals} — counts and sums only
 * (samples right at every step, synaptic operations, correlation sums,
 * histogram counts) plus the per-sample lists — from which
 * {@linkcode simulationResult} derives every reported figure. Totals of
 * disjoint sets of samples (shards of a run) add up to the totals of their
 * union, so merged shards give exactly the result of one run.
 *
 * @module
 */
import type { BatchRecord } from "./batch.ts";

/** A spiking layer as the totals name it. */
export interface TallyLayer {
  /** Layer name. */
  name: string;
  /** Number of neurons. */
  neurons: number;
  /** Shape without the batch dimension. */
  shape: number[];
}

/** The sufficient statistics of a simulation run (see the module docs); counts are exact integers. */
export interface SimulationTotals {
  /** Samples simulated. */
  numSamples: number;
  /** Time steps per batch. */
  steps: number;
  /** Time step in ms. */
  dt: number;
  /** Simulated duration in ms (spike rates are counts / duration). */
  duration: number;
  /** The `k` of the top-k accuracies. */
  topK: number;
  /** Multiply-accumulates of one ANN forward pass per sample. */
  macs: number;
  /** The spiking layers, in network order. */
  layers: TallyLayer[];
  /** Samples classified right (top-1) at every step. */
  correctByTime: number[];
  /** Samples with the label among the top k at every step. */
  correctKByTime: number[];
  /** Synaptic operations of all samples in every step (empty when per-step statistics were not recorded). */
  sopsByTime: number[];
  /** Spikes of all layers and samples in every step (empty when not recorded). */
  spikesByTime: number[];
  /** Samples the ANN classifies right (top-1). */
  annCorrect: number;
  /** Samples with the label among the ANN's top k. */
  annCorrectK: number;
  /** Synaptic operations of all samples over the whole simulation. */
  sops: number;
  /** Per spiking layer: the sum of the finite per-sample rate/activation correlations … */
  correlationSum: number[];
  /** … and their number. */
  correlationCount: number[];
  /** Spikes of each spiking layer over all samples. */
  layerSpikes: number[];
  /** Histogram counts of the non-zero spike rates (bins on `[0, 1/dt]`). */
  histRates: number[];
  /** Histogram counts of the non-zero ANN activations. */
  histActivations: number[];
  /** Per sample, in simulation order: dataset index … */
  sampleIds: number[];
  /** … true class … */
  truth: number[];
  /** … final SNN guess (-1: no output spike) … */
  guesses: number[];
  /** … whether the ANN's top-1 guess is right … */
  annRight: boolean[];
  /** … and synaptic operations over the whole simulation. */
  sampleSops: number[];
}

/** Everything of a {@linkcode SimulationTotals} that is not a count: the run's settings. */
export type TallyMeta = Pick<SimulationTotals, "steps" | "dt" | "duration" | "topK" | "macs" | "layers">;

/** Empty totals of a run with `meta`'s settings and `bins` histogram bins. */
export function emptyTotals(meta: TallyMeta, bins: number, stepStats: boolean): SimulationTotals {
  const L = meta.layers.length;
  const zeros = (n: number) => new Array<number>(n).fill(0);
  return {
    ...meta,
    numSamples: 0,
    correctByTime: zeros(meta.steps),
    correctKByTime: zeros(meta.steps),
    sopsByTime: stepStats ? zeros(meta.steps) : [],
    spikesByTime: stepStats ? zeros(meta.steps) : [],
    annCorrect: 0,
    annCorrectK: 0,
    sops: 0,
    correlationSum: zeros(L),
    correlationCount: zeros(L),
    layerSpikes: zeros(L),
    histRates: zeros(bins),
    histActivations: zeros(bins),
    sampleIds: [],
    truth: [],
    guesses: [],
    annRight: [],
    sampleSops: [],
  };
}

/** Fold one batch's record into `totals` (in place). */
export function addRecord(totals: SimulationTotals, r: BatchRecord): void {
  const T = totals.steps;
  for (let b = 0; b < r.n; b++) {
    for (let t = 0; t < T; t++) {
      totals.correctByTime[t] += 1 - r.err1[b * T + t];
      totals.correctKByTime[t] += 1 - r.errK[b * T + t];
      if (r.sopsByStep && totals.sopsByTime.length) totals.sopsByTime[t] += r.sopsByStep[b * T + t];
      if (r.spikesByStep && totals.spikesByTime.length) totals.spikesByTime[t] += r.spikesByStep[b * T + t];
    }
    totals.annCorrect += r.annCorrect[b];
    totals.annCorrectK += r.annCorrectK[b];
    totals.sops += r.sops[b];
    totals.sampleIds.push(r.sampleIds[b]);
    totals.truth.push(r.truth[b]);
    totals.guesses.push(r.guesses[b]);
    totals.annRight.push(r.annCorrect[b] === 1);
    totals.sampleSops.push(r.sops[b]);
  }
  totals.layers.forEach((_, l) => {
    for (let b = 0; b < r.n; b++) {
      const v = r.correlations[l * r.n + b];
      if (Number.isFinite(v)) {
        totals.correlationSum[l] += v;
        totals.correlationCount[l]++;
      }
    }
    totals.layerSpikes[l] += r.layerSpikes[l];
  });
  r.histRates.forEach((v, i) => (totals.histRates[i] += v));
  r.histActivations.forEach((v, i) => (totals.histActivations[i] += v));
  totals.numSamples += r.n;
}

/** Add `b` into `a` (in place): totals of two disjoint sets of samples of runs with the same settings. */
export function mergeTotals(a: SimulationTotals, b: SimulationTotals): void {
  const add = (x: number[], y: number[]) => y.forEach((v, i) => (x[i] += v));
  add(a.correctByTime, b.correctByTime);
  add(a.correctKByTime, b.correctKByTime);
  add(a.sopsByTime, b.sopsByTime);
  add(a.spikesByTime, b.spikesByTime);
  add(a.correlationSum, b.correlationSum);
  add(a.correlationCount, b.correlationCount);
  add(a.layerSpikes, b.layerSpikes);
  add(a.histRates, b.histRates);
  add(a.histActivations, b.histActivations);
  a.annCorrect += b.annCorrect;
  a.annCorrectK += b.annCorrectK;
  a.sops += b.sops;
  a.numSamples += b.numSamples;
  a.sampleIds.push(...b.sampleIds);
  a.truth.push(...b.truth);
  a.guesses.push(...b.guesses);
  a.annRight.push(...b.annRight);
  a.sampleSops.push(...b.sampleSops);
}

/** Number of samples whose final SNN guess is right. */
export function finalCorrect(t: SimulationTotals): number {
  return t.truth.filter((v, i) => v === t.guesses[i]).length;
}

/** The line of `accuracy.txt` after the samples of `t`: samples, SNN top-1, top-k, ANN top-1, top-k. */
export function accuracyLine(t: SimulationTotals): string {
  const seen = t.numSamples;
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const finalK = t.correctKByTime[t.steps - 1] ?? 0;
  return `${seen} ${pct(finalCorrect(t) / seen)} ${pct(finalK / seen)} ${pct(t.annCorrect / seen)} ${
    pct(t.annCorrectK / seen)
  }`;
}

/** Correlation of one spiking layer's rates with the ANN activations. */
export interface LayerCorrelation {
  /** Layer name. */
  layer: string;
  /** Mean over samples of the per-sample Pearson coefficient (samples where it is undefined are skipped). */
  correlation: number;
}

/** The figures derived from totals (everything of a simulation result but its input sample and files). */
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
  /** Dataset index of every simulated sample. */
  sampleIds: number[];
  /** Spikes of the whole network per sample at every step (empty when not recorded). */
  spikeCountByTime: number[];
  /**
   * Histograms of the non-zero spike rates and ANN activations of all spiking
   * layers over all samples, on `[0, 1/dt]` (values above go to the last bin).
   */
  histogram: { edges: number[]; rates: number[]; activations: number[] };
  /** Mean spike rate (spikes per neuron per step) of each spiking layer, over all samples. */
  meanRateByLayer: { layer: string; rate: number }[];
  /** The sums and counts these figures come from (to merge runs over disjoint samples). */
  totals: SimulationTotals;
}

/** Every figure of a run from its totals. */
export function simulationFigures(t: SimulationTotals): SimulationFigures {
  const n = t.numSamples;
  const byTime = (a: number[]) => a.map((v) => v / n);
  let cum = 0;
  const sopsCum = t.sopsByTime.map((v) => (cum += v / n));
  const classCount = new Map<number, [number, number]>();
  t.truth.forEach((c, i) => {
    const e = classCount.get(c) ?? [0, 0];
    e[0]++;
    if (t.guesses[i] === c) e[1]++;
    classCount.set(c, e);
  });
  const perClass = [...classCount.values()].map(([cnt, ok]) => ok / cnt);
  const maxRate = 1 / t.dt;
  const bins = t.histRates.length;
  return {
    numSamples: n,
    times: Array.from({ length: t.steps }, (_, i) => (i + 1) * t.dt),
    topK: t.topK,
    snnAccuracy: finalCorrect(t) / n,
    snnTopKAccuracy: (t.correctKByTime[t.steps - 1] ?? 0) / n,
    snnAccuracyByTime: byTime(t.correctByTime),
    snnTopKAccuracyByTime: byTime(t.correctKByTime),
    annAccuracy: t.annCorrect / n,
    annTopKAccuracy: t.annCorrectK / n,
    snnAccuracyByClass: perClass.reduce((a, v) => a + v, 0) / Math.max(1, perClass.length),
    correlationByLayer: t.layers.map((l, i) => ({
      layer: l.name,
      correlation: t.correlationCount[i] ? t.correlationSum[i] / t.correlationCount[i] : NaN,
    })),
    sops: t.sops / n,
    sopsByTime: sopsCum,
    macs: t.macs,
    truth: t.truth,
    guesses: t.guesses,
    sampleIds: t.sampleIds,
    spikeCountByTime: byTime(t.spikesByTime),
    histogram: {
      edges: Array.from({ length: bins + 1 }, (_, i) => (i * maxRate) / bins),
      rates: [...t.histRates],
      activations: [...t.histActivations],
    },
    meanRateByLayer: t.layers.map((l, i) => ({
      layer: l.name,
      rate: t.layerSpikes[i] / (n * l.neurons * t.steps),
    })),
    totals: t,
  };
}
