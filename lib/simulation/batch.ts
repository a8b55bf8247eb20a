/**
 * Simulating one batch (or one slice of a batch) on the active backend and
 * reducing it to a {@linkcode BatchRecord}: per-sample results (ANN and SNN
 * guesses, the error at every step, synaptic operations, the correlation of
 * spike rates with ANN activations) plus histogram counts, and the logged
 * variables when asked for. The same code runs in the main thread and in the
 * data-parallel workers (./parallel.ts); every random draw is keyed by the
 * sample (./kernels/noise.ts), so a record does not depend on how the batch
 * was split.
 *
 * Per time step nothing is read back unless a log variable or an option
 * that depends on it (`early_stopping`, `num_poisson_events_per_sample`)
 * asks for it: the output layer's spikes (and the step statistics when
 * asked for) stay on the backend and are read in chunks of steps.
 *
 * @module
 */
import { type LayersModel, type Tensor, tf } from "../../deps.ts";
import { assertFitsBuffer } from "../backend/webgpu.ts";
import { poissonInput } from "./poisson.ts";
import { decide, inTopK, sampleCorrelations } from "./metrics.ts";
import { type SpikingLayerInfo, SpikingNetwork } from "./network.ts";
import type { SimulationOptions } from "./options.ts";

/** Bins of the rate and activation histograms (on `[0, 1/dt]`). */
export const HISTOGRAM_BINS = 40;

/** What to record besides the per-sample results. */
export interface RecordOptions {
  /** Per-step synaptic operations and spike counts (plots `operations`/`spikecounts`, log var `synaptic_operations_b_t`). */
  stepStats?: boolean;
  /** Log each spiking layer's ANN activations (`activations_n_b_l`). */
  activations?: boolean;
  /** Log spike trains (`spiketrains_n_b_l_t`). */
  spiketrains?: boolean;
  /** Log membrane potentials (`mem_n_b_l_t`). */
  mem?: boolean;
  /** Log the input at every step (`input_b_l_t`). */
  input?: boolean;
  /** Use the fused neuron kernel where the backend has one (default true). */
  fused?: boolean;
}

/** One batch (slice) to simulate. */
export interface BatchJob {
  /** Index of the batch in the run (for the reset between batches). */
  batchIndex: number;
  /** Input samples, NHWC, `sampleIds.length` of them. */
  x: Float32Array;
  /** Dataset index of each sample (keys its random draws). */
  sampleIds: Int32Array;
  /** True class of each sample. */
  truth: Int32Array;
  /** Largest input value of the whole batch (Poisson input is scaled by it, as in the toolbox). */
  maxX: number;
}

/** Variables logged for a batch, sample-major (`[samples, ..., steps]`). */
export interface BatchLogs {
  /** ANN activations of each spiking layer. */
  activations?: Float32Array[];
  /** Spike times (`(t + 1) · dt` where a neuron spiked, else 0) of each spiking layer. */
  spiketrains?: Float32Array[];
  /** Membrane potentials of each spiking layer at every step. */
  mem?: Float32Array[];
  /** The input at every step. */
  input?: Float32Array;
}

/** What a batch (slice) of `n` samples gave; per-sample arrays are sample-major. */
export interface BatchRecord {
  /** Number of samples. */
  n: number;
  /** Dataset index of each sample. */
  sampleIds: Int32Array;
  /** True class of each sample. */
  truth: Int32Array;
  /** 1 where the ANN's top-1 guess is right. */
  annCorrect: Uint8Array;
  /** 1 where the label is among the ANN's top k. */
  annCorrectK: Uint8Array;
  /** Final SNN guess (-1: no output spike). */
  guesses: Int32Array;
  /** SNN top-1 error at every step, `[n, steps]` (1 = wrong). */
  err1: Uint8Array;
  /** SNN top-k error at every step, `[n, steps]`. */
  errK: Uint8Array;
  /** Synaptic operations of every sample at every step `[n, steps]` (when recorded). */
  sopsByStep?: Float32Array;
  /** Spikes of all layers of every sample at every step `[n, steps]` (when recorded). */
  spikesByStep?: Float32Array;
  /** Synaptic operations of every sample over the whole simulation (spike counts × fan-out). */
  sops: Float64Array;
  /** Spikes of each spiking layer summed over the samples. */
  layerSpikes: Float64Array;
  /** Pearson correlation of spike rates with ANN activations, `[layers, n]` (NaN where undefined). */
  correlations: Float64Array;
  /** Histogram counts of the non-zero spike rates of all spiking layers. */
  histRates: Float64Array;
  /** Histogram counts of the non-zero ANN activations of all spiking layers. */
  histActivations: Float64Array;
  /** Logged variables (only those asked for). */
  logs: BatchLogs;
}

/** Count the non-zero values of `values` into `counts` (equal bins on `[0, max]`, the last one open). */
export function addToHistogram(counts: Float64Array, values: ArrayLike<number>, max: number): void {
  const n = counts.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > 0) counts[Math.min(n - 1, Math.floor((v / max) * n))]++;
  }
}

/** Largest value of `x` (the batch's `np.max`); 0 for an empty array. */
export function maxOf(x: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  return x.length ? m : 0;
}

/** Output spikes and step statistics kept on the backend, read in chunks of steps. */
class StepBuffer {
  readonly #outputs: Tensor[] = [];
  readonly #stats: Tensor[] = [];
  readonly #cum: Float32Array;
  #t = 0;

  constructor(
    readonly n: number,
    readonly classes: number,
    readonly steps: number,
    readonly topK: number,
    readonly truth: Int32Array,
    readonly record: BatchRecord,
  ) {
    this.#cum = new Float32Array(n * classes);
  }

  /** Steps kept before a read: about 4M values. */
  get chunk(): number {
    return Math.max(1, Math.floor((1 << 22) / (this.n * (this.classes + 2))));
  }

  /** Keep one step's output (and statistics); reads back when a chunk is full. */
  async push(output: Tensor, stats?: Tensor): Promise<void> {
    this.#outputs.push(output);
    if (stats) this.#stats.push(stats);
    if (this.#outputs.length >= this.chunk) await this.flush();
  }

  /** Read the kept steps and fold them into the record. */
  async flush(): Promise<void> {
    if (this.#outputs.length === 0) return;
    const k = this.#outputs.length;
    const [out, stats] = tf.tidy(() => [
      tf.stack(this.#outputs),
      this.#stats.length ? tf.stack(this.#stats) : undefined,
    ]);
    tf.dispose([...this.#outputs, ...this.#stats]);
    this.#outputs.length = 0;
    this.#stats.length = 0;
    const o = (await out.data()) as Float32Array; // [k, n, classes]
    const s = stats ? ((await stats.data()) as Float32Array) : undefined; // [k, n, 2]
    tf.dispose([out, ...(stats ? [stats] : [])]);
    const { n, classes, steps, record } = this;
    for (let j = 0; j < k; j++, this.#t++) {
      const t = this.#t;
      for (let b = 0; b < n; b++) {
        const row = this.#cum.subarray(b * classes, (b + 1) * classes);
        const off = (j * n + b) * classes;
        for (let c = 0; c < classes; c++) if (o[off + c] > 0) row[c]++;
        if (decide(row) === this.truth[b]) record.err1[b * steps + t] = 0;
        if (inTopK(row, this.truth[b], this.topK)) record.errK[b * steps + t] = 0;
        if (s) {
          record.sopsByStep![b * steps + t] = s[(j * n + b) * 2];
          record.spikesByStep![b * steps + t] = s[(j * n + b) * 2 + 1];
        }
      }
    }
  }

  /** Steps folded in so far. */
  get stepsDone(): number {
    return this.#t;
  }

  /** Cumulative output spikes `[n, classes]`. */
  get cumulative(): Float32Array {
    return this.#cum;
  }

  dispose(): void {
    tf.dispose([...this.#outputs, ...this.#stats]);
  }
}

/**
 * Simulates batches of one size on one backend: the spiking network of a
 * parsed model and a probe of the ANN for the activations of every spiking
 * layer. Create once per run; free with `dispose()`.
 */
export class BatchSimulator {
  /** The spiking network (its state carries over from batch to batch). */
  readonly net: SpikingNetwork;
  /** Its spiking layers. */
  readonly layers: SpikingLayerInfo[];
  readonly #probe: LayersModel;
  readonly #options: SimulationOptions;
  readonly #record: RecordOptions;
  readonly #batch: number;
  readonly #sampleShape: number[];
  readonly #steps: number;
  readonly #topK: number;
  readonly #fanouts: Float32Array[];
  readonly #inputFanout: Float32Array;

  /** A simulator of `model` for batches of `batch` samples. */
  constructor(model: LayersModel, options: SimulationOptions, batch: number, record: RecordOptions = {}) {
    this.net = SpikingNetwork.fromModel(model, options, { fused: record.fused });
    this.layers = this.net.layers;
    this.#options = options;
    this.#record = record;
    this.#batch = batch;
    this.#sampleShape = this.net.inputShape;
    this.#steps = Math.floor(options.duration / options.dt);
    this.#topK = Math.min(options.topK, this.net.numClasses);
    this.#fanouts = this.layers.map((l) => this.net.fanout(l.name));
    this.#inputFanout = this.net.fanout("");
    this.#assertFits(batch);
    const outName = model.outputs[0].sourceLayer.name;
    const outputs = this.layers.map((l) => model.getLayer(l.name).output as tf.SymbolicTensor);
    if (this.layers.at(-1)?.name !== outName) outputs.push(model.outputs[0]);
    this.#probe = tf.model({ inputs: model.inputs, outputs });
    this.net.init(batch);
  }

  /** The largest tensor of a batch must fit the WebGPU adapter's buffer limit. */
  #assertFits(batch: number): void {
    const rows = 2 + (this.#options.cell.tauRefrac > 0 ? 1 : 0);
    let biggest = { size: this.#sampleShape.reduce((a, b) => a * b, 1), what: "the input" };
    for (const l of this.layers) {
      if (rows * l.neurons > biggest.size) {
        biggest = { size: rows * l.neurons, what: `the state of spiking layer '${l.name}'` };
      }
    }
    for (const l of this.net.allLayers) {
      const size = l.shape.reduce((a, b) => a * b, 1);
      if (size > biggest.size) biggest = { size, what: `the output of layer '${l.name}'` };
    }
    assertFitsBuffer(biggest.size, batch, biggest.what, "[simulation] batch_size");
  }

  /** Number of time steps of a batch. */
  get steps(): number {
    return this.#steps;
  }

  /** The `k` of the top-k accuracy (clipped to the number of classes). */
  get topK(): number {
    return this.#topK;
  }

  /** Simulate one batch (slice); `progress` is called after every step with the steps done. */
  async simulate(job: BatchJob, progress?: (stepsDone: number) => void): Promise<BatchRecord> {
    const n = job.sampleIds.length;
    if (n !== this.#batch) {
      throw new RangeError(`batch of ${n} samples, the simulator was made for ${this.#batch}`);
    }
    const record = this.#emptyRecord(job);
    const xb = tf.tensor(job.x, [n, ...this.#sampleShape], "float32");
    try {
      const activations = await this.#annPass(xb, job, record);
      if (job.batchIndex > 0) this.net.reset(job.batchIndex - 1);
      this.net.setSampleIds(job.sampleIds);
      await this.#run(xb, job, record, progress);
      await this.#summarize(record, activations);
      if (this.#record.activations) record.logs.activations = activations;
      return record;
    } finally {
      xb.dispose();
    }
  }

  #emptyRecord(job: BatchJob): BatchRecord {
    const n = job.sampleIds.length;
    const T = this.#steps;
    const L = this.layers.length;
    const stats = this.#record.stepStats;
    return {
      n,
      sampleIds: job.sampleIds,
      truth: job.truth,
      annCorrect: new Uint8Array(n),
      annCorrectK: new Uint8Array(n),
      guesses: new Int32Array(n),
      err1: new Uint8Array(n * T).fill(1),
      errK: new Uint8Array(n * T).fill(1),
      sopsByStep: stats ? new Float32Array(n * T) : undefined,
      spikesByStep: stats ? new Float32Array(n * T) : undefined,
      sops: new Float64Array(n),
      layerSpikes: new Float64Array(L),
      correlations: new Float64Array(L * n),
      histRates: new Float64Array(HISTOGRAM_BINS),
      histActivations: new Float64Array(HISTOGRAM_BINS),
      logs: {},
    };
  }

  /** The ANN on the batch: its top-1/top-k correctness into `record`; returns each spiking layer's activations. */
  async #annPass(xb: Tensor, job: BatchJob, record: BatchRecord): Promise<Float32Array[]> {
    const out = this.#probe.predict(xb) as Tensor | Tensor[];
    const list = Array.isArray(out) ? out : [out];
    try {
      const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
      const pred = values[values.length - 1];
      const classes = this.net.numClasses;
      for (let k = 0; k < record.n; k++) {
        const row = pred.subarray(k * classes, (k + 1) * classes);
        const t = job.truth[k];
        let above = 0;
        for (let j = 0; j < classes; j++) if (row[j] > row[t]) above++;
        record.annCorrect[k] = above === 0 ? 1 : 0;
        record.annCorrectK[k] = above < this.#topK ? 1 : 0;
      }
      return values.slice(0, this.layers.length);
    } finally {
      tf.dispose(list);
    }
  }

  /** The time steps of a batch. */
  async #run(
    xb: Tensor,
    job: BatchJob,
    record: BatchRecord,
    progress?: (stepsDone: number) => void,
  ): Promise<void> {
    const o = this.#options;
    const T = this.#steps;
    const n = record.n;
    const rec = this.#record;
    const buffer = new StepBuffer(n, this.net.numClasses, T, this.#topK, job.truth, record);
    const logs = this.#stepLogs(n);
    const countEvents = o.earlyStopping || (o.poissonInput && o.numPoissonEventsPerSample >= 0);
    const analog = o.poissonInput ? undefined : tf.mul(xb, o.dt);
    const rescale = 1000 / (o.inputRate * o.dt);
    // Poisson input spikes per input neuron, for their synaptic operations.
    let inputSpikes = o.poissonInput ? tf.zeros(xb.shape) : undefined;
    let inputCount = 0;
    let t = 0;
    try {
      for (; t < T; t++) {
        let input: Tensor;
        if (analog) input = analog;
        else if (o.numPoissonEventsPerSample >= 0 && inputCount >= o.numPoissonEventsPerSample) {
          input = tf.zerosLike(xb);
        } else {
          const { frame, mask } = poissonInput(xb, job.sampleIds, job.maxX, rescale, o.seed, t);
          const acc = tf.add(inputSpikes!, mask);
          tf.dispose([mask, inputSpikes!]);
          inputSpikes = acc;
          input = frame;
        }
        const out = this.net.step(input, t, { stats: rec.stepStats, spikes: rec.spiketrains, mem: rec.mem });
        await this.#logStep(t, input, out.spikes, out.mem, logs);
        const events = countEvents ? await this.#events(input) : 1;
        if (input !== analog) input.dispose();
        await buffer.push(out.output, out.stats);
        progress?.(t + 1);
        inputCount += events / n;
        if (o.earlyStopping && events === 0) {
          t++;
          break;
        }
      }
      await buffer.flush();
      if (inputSpikes) await this.#addInputSops(record, (await inputSpikes.data()) as Float32Array);
    } finally {
      buffer.dispose();
      tf.dispose([...(analog ? [analog] : []), ...(inputSpikes ? [inputSpikes] : [])]);
    }
    // Early stop: the spike counts, hence the guesses, stay as they are for the remaining steps.
    for (let b = 0; b < n; b++) {
      for (let r = t; r < T; r++) {
        record.err1[b * T + r] = record.err1[b * T + t - 1];
        record.errK[b * T + r] = record.errK[b * T + t - 1];
      }
      record.guesses[b] = decide(
        buffer.cumulative.subarray(b * this.net.numClasses, (b + 1) * this.net.numClasses),
      );
    }
    Object.assign(record.logs, logs);
  }

  /** Number of non-zero values of this step's input (whole batch). */
  async #events(input: Tensor): Promise<number> {
    const e = tf.tidy(() => tf.sum(tf.abs(tf.sign(input))));
    const v = (await e.data())[0];
    e.dispose();
    return v;
  }

  #stepLogs(n: number): BatchLogs {
    const T = this.#steps;
    const rec = this.#record;
    const per = this.#sampleShape.reduce((a, b) => a * b, 1);
    return {
      ...(rec.spiketrains
        ? { spiketrains: this.layers.map((l) => new Float32Array(n * l.neurons * T)) }
        : {}),
      ...(rec.mem ? { mem: this.layers.map((l) => new Float32Array(n * l.neurons * T)) } : {}),
      ...(rec.input ? { input: new Float32Array(n * per * T) } : {}),
    };
  }

  /** Copy this step's logged variables into `logs` (`[..., steps]` layout) and free their tensors. */
  async #logStep(
    t: number,
    input: Tensor,
    spikes: Tensor[] | undefined,
    mem: Tensor[] | undefined,
    logs: BatchLogs,
  ) {
    const T = this.#steps;
    const time = (t + 1) * this.#options.dt;
    if (logs.input) {
      const d = await input.data();
      for (let i = 0; i < d.length; i++) logs.input[i * T + t] = d[i];
    }
    for (const [l, s] of (spikes ?? []).entries()) {
      const d = await s.data();
      const arr = logs.spiketrains![l];
      for (let i = 0; i < d.length; i++) if (d[i] !== 0) arr[i * T + t] = time;
    }
    for (const [l, m] of (mem ?? []).entries()) {
      const d = await m.data();
      const arr = logs.mem![l];
      for (let i = 0; i < d.length; i++) arr[i * T + t] = d[i];
    }
    tf.dispose([...(spikes ?? []), ...(mem ?? [])]);
  }

  /** Spike counts → synaptic operations, spike totals, rate/activation correlations and histograms. */
  async #summarize(record: BatchRecord, activations: Float32Array[]): Promise<void> {
    const counts = await this.net.spikeCounts();
    const o = this.#options;
    const maxRate = 1 / o.dt;
    const n = record.n;
    counts.forEach((c, l) => {
      const neurons = this.layers[l].neurons;
      const fan = this.#fanouts[l];
      let total = 0;
      for (let b = 0; b < n; b++) {
        let sops = 0;
        for (let j = 0; j < neurons; j++) {
          const v = c[b * neurons + j];
          total += v;
          sops += v * fan[j];
        }
        record.sops[b] += sops;
      }
      record.layerSpikes[l] = total;
      const rates = new Float32Array(c.length); // a loop: TypedArray.map with a callback is ten times slower
      for (let i = 0; i < c.length; i++) rates[i] = c[i] / o.duration;
      addToHistogram(record.histRates, rates, maxRate);
      addToHistogram(record.histActivations, activations[l], maxRate);
      const co = sampleCorrelations(rates, activations[l], n, l < this.layers.length - 1, maxRate);
      record.correlations.set(co, l * n);
    });
  }

  /** Poisson input: each input spike counts its fan-out in synaptic operations. */
  #addInputSops(record: BatchRecord, counts: Float32Array): void {
    const fan = this.#inputFanout;
    const per = fan.length;
    for (let b = 0; b < record.n; b++) {
      let s = 0;
      for (let j = 0; j < per; j++) s += counts[b * per + j] * fan[j];
      record.sops[b] += s;
    }
  }

  /** Free the network (the probe shares the model's layers and owns no tensors). */
  dispose(): void {
    this.net.dispose();
  }
}
