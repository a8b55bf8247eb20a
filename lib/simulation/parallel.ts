/**
 * Where batches are simulated: in this thread ({@linkcode LocalRunner}), or
 * by data-parallel workers ({@linkcode ParallelRunner}), each with a
 * single-threaded backend of its own:
 *
 * - when batches are independent (the network is reset after every batch,
 *   `reset_between_nth_sample = 1`, the default), whole batches go to the
 *   workers in turn, several in flight at once;
 * - otherwise (state carried from batch to batch) every batch is split by
 *   sample, each worker simulating the same contiguous slice of every batch.
 *
 * Every random draw is keyed by the sample, and the batch-wide quantities
 * (the largest input value that scales Poisson input) are computed here for
 * the whole batch, so either way the records equal those of one worker.
 * Records are handed on in batch order.
 *
 * @module
 */
import { type LayersModel, tf } from "../../deps.ts";
import type { BackendName } from "../backend/mod.ts";
import { type HandlerResult, transferables, WorkerPool } from "../backend/pool.ts";
import { artifactsOf, splitBatch } from "../backend/workers.ts";
import { SnnToolboxError } from "../errors.ts";
import { type BatchJob, type BatchRecord, BatchSimulator, type RecordOptions } from "./batch.ts";
import type { SimulationOptions } from "./options.ts";

/** Simulates the batches of a run. */
export interface BatchRunner {
  /** Number of workers (1: this thread). */
  readonly workers: number;
  /**
   * Simulate batches `0 … count-1` (`job(b)` makes batch `b`); `onRecord`
   * receives each batch's record in batch order; `progress` the time steps
   * done over all batches.
   */
  run(
    count: number,
    job: (b: number) => BatchJob,
    onRecord: (job: BatchJob, record: BatchRecord) => Promise<void>,
    progress?: (stepsDone: number) => void,
  ): Promise<void>;
  /** Free the runner (stop its workers). */
  close(): Promise<void>;
}

/** Batches simulated in this thread, on the active backend. */
export class LocalRunner implements BatchRunner {
  readonly workers = 1;
  readonly #sim: BatchSimulator;

  constructor(model: LayersModel, options: SimulationOptions, batch: number, record: RecordOptions) {
    this.#sim = new BatchSimulator(model, options, batch, record);
  }

  async run(
    count: number,
    job: (b: number) => BatchJob,
    onRecord: (job: BatchJob, record: BatchRecord) => Promise<void>,
    progress?: (stepsDone: number) => void,
  ): Promise<void> {
    const steps = this.#sim.steps;
    for (let b = 0; b < count; b++) {
      const j = job(b);
      await onRecord(j, await this.#sim.simulate(j, progress && ((s) => progress(b * steps + s))));
    }
  }

  close(): Promise<void> {
    this.#sim.dispose();
    return Promise.resolve();
  }
}

/** A request to a simulation worker (internal protocol). */
export type SimWorkerRequest =
  | { kind: "backend"; backend: "wasm" | "cpu" }
  | {
    kind: "init";
    artifacts: tf.io.ModelArtifacts;
    options: SimulationOptions;
    batch: number;
    record: RecordOptions;
    backend: "wasm" | "cpu";
  }
  | { kind: "batch"; job: BatchJob; progress: boolean };

/** A reply of a simulation worker (internal protocol). */
export type SimWorkerReply = { kind: "ready" } | { kind: "record"; record: BatchRecord };

const SIM_WORKER = new URL("./batch_worker.ts", import.meta.url);

/** The pool of each {@linkcode SimulationWorkers}, once every worker's backend runs (module-internal). */
const readyPools = new WeakMap<SimulationWorkers, Promise<WorkerPool<SimWorkerRequest, SimWorkerReply>>>();

/**
 * Simulation workers started ahead of the run (or runs: a parameter sweep)
 * that will use them, so that their start-up — loading the toolbox's
 * modules and the backend, about half a second on two cores — overlaps
 * the work before the simulation. A run borrows them
 * ({@linkcode ParallelRunner.start}); their owner closes them.
 */
export class SimulationWorkers {
  readonly #pool: WorkerPool<SimWorkerRequest, SimWorkerReply>;
  /** Backend of the workers. */
  readonly backend: "wasm" | "cpu";

  private constructor(count: number, backend: "wasm" | "cpu") {
    this.backend = backend;
    this.#pool = WorkerPool.spawn(SIM_WORKER, count);
    const all = Array.from({ length: count }, (_, i) => i);
    const backendReady = this.#pool.requestAll(() => ({ kind: "backend", backend }), all);
    backendReady.catch(() => {}); // reported by the run that uses the workers
    readyPools.set(this, backendReady.then(() => this.#pool));
  }

  /** Start `count` workers on `backend` (each starts its backend as soon as it has loaded). */
  static spawn(count: number, backend: "wasm" | "cpu"): SimulationWorkers {
    return new SimulationWorkers(count, backend);
  }

  /** Number of workers. */
  get size(): number {
    return this.#pool.size;
  }

  /** Stop the workers. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** The slice `[start, start + n)` of a job's samples. */
function sliceJob(job: BatchJob, start: number, n: number, per: number): BatchJob {
  return {
    batchIndex: job.batchIndex,
    x: job.x.slice(start * per, (start + n) * per),
    sampleIds: job.sampleIds.slice(start, start + n),
    truth: job.truth.slice(start, start + n),
    maxX: job.maxX,
  };
}

/** How a {@linkcode ParallelRunner} shares the work: whole batches, or a slice of every batch. */
export type ParallelMode = "batches" | "slices";

/** Batches simulated by data-parallel workers (see the module docs). */
export class ParallelRunner implements BatchRunner {
  readonly #pool: WorkerPool<SimWorkerRequest, SimWorkerReply>;
  readonly #mode: ParallelMode;
  /** Samples of each worker's slice (mode `slices`). */
  readonly #sizes: number[];
  readonly #steps: number;
  /** Whether closing the runner stops the workers (false: borrowed {@linkcode SimulationWorkers}). */
  readonly #owned: boolean;

  private constructor(
    pool: WorkerPool<SimWorkerRequest, SimWorkerReply>,
    mode: ParallelMode,
    sizes: number[],
    steps: number,
    owned: boolean,
  ) {
    this.#pool = pool;
    this.#mode = mode;
    this.#sizes = sizes;
    this.#steps = steps;
    this.#owned = owned;
  }

  /**
   * Start `workers` workers simulating `model` on `backend` in `mode` (in
   * mode `slices` at most one per sample of a batch), or borrow the first
   * `workers` of `started` (closing the runner leaves those running).
   */
  static async start(
    model: LayersModel,
    options: SimulationOptions,
    batch: number,
    record: RecordOptions,
    workers: number,
    backend: "wasm" | "cpu",
    mode: ParallelMode,
    started?: SimulationWorkers,
  ): Promise<ParallelRunner> {
    const sizes = mode === "slices" ? splitBatch(batch, workers) : new Array<number>(workers).fill(batch);
    const artifacts = await artifactsOf(model);
    const init = (i: number): SimWorkerRequest => ({
      kind: "init",
      artifacts,
      options,
      batch: sizes[i],
      record,
      backend,
    });
    const steps = Math.floor(options.duration / options.dt);
    if (!started || started.size < sizes.length || started.backend !== backend) {
      const { pool } = await WorkerPool.start<SimWorkerRequest, SimWorkerReply>(
        SIM_WORKER,
        sizes.length,
        init,
      );
      return new ParallelRunner(pool, mode, sizes, steps, true);
    }
    const pool = await readyPools.get(started)!;
    await pool.requestAll(init, sizes.map((_, i) => i));
    return new ParallelRunner(pool, mode, sizes, steps, false);
  }

  get workers(): number {
    return this.#sizes.length;
  }

  /** Worker `i` simulates `job` (its buffers moved there when `move`, else copied). */
  async #simulate(
    i: number,
    job: BatchJob,
    move: boolean,
    onEvent?: (e: unknown) => void,
  ): Promise<BatchRecord> {
    const reply = await this.#pool.request(
      i,
      { kind: "batch", job, progress: onEvent !== undefined },
      move ? transferables(job) : [],
      onEvent,
    );
    if (reply.kind !== "record") {
      throw new SnnToolboxError(`simulation worker: unexpected reply '${reply.kind}'`);
    }
    return reply.record;
  }

  run(
    count: number,
    job: (b: number) => BatchJob,
    onRecord: (job: BatchJob, record: BatchRecord) => Promise<void>,
    progress?: (stepsDone: number) => void,
  ): Promise<void> {
    return this.#mode === "slices"
      ? this.#runSlices(count, job, onRecord, progress)
      : this.#runBatches(count, job, onRecord, progress);
  }

  /** Every batch split over the workers; one batch at a time. */
  async #runSlices(
    count: number,
    job: (b: number) => BatchJob,
    onRecord: (job: BatchJob, record: BatchRecord) => Promise<void>,
    progress?: (stepsDone: number) => void,
  ): Promise<void> {
    for (let b = 0; b < count; b++) {
      const j = job(b);
      const per = j.x.length / j.sampleIds.length;
      let start = 0;
      const parts = await Promise.all(this.#sizes.map((n, i) => {
        const slice = sliceJob(j, start, n, per);
        start += n;
        const onEvent = i === 0 && progress
          ? (e: unknown) => progress(b * this.#steps + (e as number))
          : undefined;
        return this.#simulate(i, slice, true, onEvent);
      }));
      await onRecord(j, concatRecords(parts));
    }
  }

  /**
   * Whole batches to the workers: each takes the next batch as soon as it is
   * free; records are handed on in batch order.
   */
  async #runBatches(
    count: number,
    job: (b: number) => BatchJob,
    onRecord: (job: BatchJob, record: BatchRecord) => Promise<void>,
    progress?: (stepsDone: number) => void,
  ): Promise<void> {
    const done = new Map<number, [BatchJob, BatchRecord]>();
    let next = 0;
    let handed = 0;
    let chain = Promise.resolve();
    // Hand on every finished batch whose predecessors were handed on (one at a time, in order).
    const handOn = () => {
      chain = chain.then(async () => {
        while (done.has(handed)) {
          const [j, r] = done.get(handed)!;
          done.delete(handed);
          handed++;
          progress?.(handed * this.#steps);
          await onRecord(j, r);
        }
      });
      return chain;
    };
    const worker = async (i: number) => {
      while (next < count) {
        const b = next++;
        const j = job(b);
        // The job is copied: its input stays here for the log variables.
        done.set(b, [j, await this.#simulate(i, j, false)]);
        void handOn(); // the worker goes on; a failure surfaces in the last handOn()
      }
    };
    await Promise.all(this.#sizes.map((_, i) => worker(i)));
    await handOn();
  }

  close(): Promise<void> {
    return this.#owned ? this.#pool.close() : Promise.resolve();
  }
}

function concatTyped<T extends Float32Array | Float64Array | Int32Array | Uint8Array>(parts: T[]): T {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new (parts[0].constructor as { new (n: number): T })(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function concatLists(parts: (Float32Array[] | undefined)[]): Float32Array[] | undefined {
  const first = parts[0];
  if (!first) return undefined;
  return first.map((_, l) => concatTyped(parts.map((p) => p![l])));
}

/** The record of a batch from the records of its slices, in order. */
export function concatRecords(parts: BatchRecord[]): BatchRecord {
  if (parts.length === 1) return parts[0];
  const layers = parts[0].layerSpikes.length;
  const n = parts.reduce((s, p) => s + p.n, 0);
  const sum = (get: (p: BatchRecord) => Float64Array) => {
    const out = new Float64Array(get(parts[0]).length);
    for (const p of parts) get(p).forEach((v, i) => (out[i] += v));
    return out;
  };
  const correlations = new Float64Array(layers * n);
  let off = 0;
  for (const p of parts) {
    for (let l = 0; l < layers; l++) {
      correlations.set(p.correlations.subarray(l * p.n, (l + 1) * p.n), l * n + off);
    }
    off += p.n;
  }
  const opt = (get: (p: BatchRecord) => Float32Array | undefined) =>
    get(parts[0]) ? concatTyped(parts.map((p) => get(p)!)) : undefined;
  return {
    n,
    sampleIds: concatTyped(parts.map((p) => p.sampleIds)),
    truth: concatTyped(parts.map((p) => p.truth)),
    annCorrect: concatTyped(parts.map((p) => p.annCorrect)),
    annCorrectK: concatTyped(parts.map((p) => p.annCorrectK)),
    guesses: concatTyped(parts.map((p) => p.guesses)),
    err1: concatTyped(parts.map((p) => p.err1)),
    errK: concatTyped(parts.map((p) => p.errK)),
    sopsByStep: opt((p) => p.sopsByStep),
    spikesByStep: opt((p) => p.spikesByStep),
    sops: concatTyped(parts.map((p) => p.sops)),
    layerSpikes: sum((p) => p.layerSpikes),
    correlations,
    histRates: sum((p) => p.histRates),
    histActivations: sum((p) => p.histActivations),
    logs: {
      activations: concatLists(parts.map((p) => p.logs.activations)),
      spiketrains: concatLists(parts.map((p) => p.logs.spiketrains)),
      mem: concatLists(parts.map((p) => p.logs.mem)),
      input: opt((p) => p.logs.input),
    },
  };
}

/** A simulation worker's answer to a batch: its record, transferred. */
export function recordReply(record: BatchRecord): HandlerResult<SimWorkerReply> {
  return { reply: { kind: "record", record }, transfer: transferables(record) };
}

/** How a run's batches are shared: whole batches when the network is reset after every batch, else slices. */
function parallelMode(options: SimulationOptions): ParallelMode {
  return options.resetBetweenNthSample === 1 ? "batches" : "slices";
}

/**
 * How many of `workers` a run of `numBatches` batches of `batch` samples
 * can use: at most one per batch (mode `batches`) or per sample of a batch
 * (mode `slices`); 1 unless the active backend is a CPU one (`wasm`, `cpu`).
 */
export function usefulWorkers(
  workers: number,
  options: SimulationOptions,
  batch: number,
  numBatches: number,
): number {
  const backend = tf.getBackend() as BackendName;
  if (backend !== "wasm" && backend !== "cpu") return 1;
  return Math.max(
    1,
    parallelMode(options) === "batches" ? Math.min(workers, numBatches) : Math.min(workers, batch),
  );
}

/**
 * The runner for a run: data-parallel workers when more than one is useful
 * (see {@linkcode usefulWorkers}; `workers` a count, or workers started
 * beforehand), else this thread. Batches go whole to the workers when the
 * network is reset after every batch; otherwise they are split by sample
 * (which needs batches of at least two samples).
 */
export async function openRunner(
  model: LayersModel,
  options: SimulationOptions,
  batch: number,
  record: RecordOptions,
  workers: number | SimulationWorkers,
  numBatches: number,
): Promise<BatchRunner> {
  const count = typeof workers === "number" ? workers : workers.size;
  const useful = usefulWorkers(count, options, batch, numBatches);
  if (useful > 1) {
    const backend = tf.getBackend() as "wasm" | "cpu";
    const mode = parallelMode(options);
    const started = typeof workers === "number" ? undefined : workers;
    return await ParallelRunner.start(model, options, batch, record, useful, backend, mode, started);
  }
  return new LocalRunner(model, options, batch, record);
}
