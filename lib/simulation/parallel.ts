/**
 * Where batches are simulated: in this thread ({@linkcode LocalRunner}), or
 * split by sample over data-parallel workers ({@linkcode ParallelRunner}),
 * each worker simulating the same contiguous slice of every batch on a
 * single-threaded backend of its own. Every random draw is keyed by the
 * sample, and the batch-wide quantities (the largest input value that
 * scales Poisson input) are computed here for the whole batch, so the
 * records of the slices put together equal the record of one worker.
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

/** Simulates the batches of a run, one at a time. */
export interface BatchRunner {
  /** Number of workers (1: this thread). */
  readonly workers: number;
  /** Simulate one batch; `progress` receives the steps done. */
  simulate(job: BatchJob, progress?: (stepsDone: number) => void): Promise<BatchRecord>;
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

  simulate(job: BatchJob, progress?: (stepsDone: number) => void): Promise<BatchRecord> {
    return this.#sim.simulate(job, progress);
  }

  close(): Promise<void> {
    this.#sim.dispose();
    return Promise.resolve();
  }
}

/** A request to a simulation worker (internal protocol). */
export type SimWorkerRequest =
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

/** Batches split by sample over workers (see the module docs). */
export class ParallelRunner implements BatchRunner {
  readonly #pool: WorkerPool<SimWorkerRequest, SimWorkerReply>;
  readonly #sizes: number[];

  private constructor(pool: WorkerPool<SimWorkerRequest, SimWorkerReply>, sizes: number[]) {
    this.#pool = pool;
    this.#sizes = sizes;
  }

  /** Start `workers` workers (at most one per sample of a batch) simulating `model` on `backend`. */
  static async start(
    model: LayersModel,
    options: SimulationOptions,
    batch: number,
    record: RecordOptions,
    workers: number,
    backend: "wasm" | "cpu",
  ): Promise<ParallelRunner> {
    const sizes = splitBatch(batch, workers);
    const artifacts = await artifactsOf(model);
    const { pool } = await WorkerPool.start<SimWorkerRequest, SimWorkerReply>(
      new URL("./batch_worker.ts", import.meta.url),
      sizes.length,
      (i) => ({ kind: "init", artifacts, options, batch: sizes[i], record, backend }),
    );
    return new ParallelRunner(pool, sizes);
  }

  get workers(): number {
    return this.#sizes.length;
  }

  async simulate(job: BatchJob, progress?: (stepsDone: number) => void): Promise<BatchRecord> {
    const per = job.x.length / job.sampleIds.length;
    let start = 0;
    const parts = await Promise.all(this.#sizes.map(async (n, i) => {
      const slice = sliceJob(job, start, n, per);
      start += n;
      const onEvent = i === 0 && progress ? (e: unknown) => progress(e as number) : undefined;
      const reply = await this.#pool.request(
        i,
        { kind: "batch", job: slice, progress: onEvent !== undefined },
        transferables(slice),
        onEvent,
      );
      if (reply.kind !== "record") {
        throw new SnnToolboxError(`simulation worker: unexpected reply '${reply.kind}'`);
      }
      return reply.record;
    }));
    return concatRecords(parts);
  }

  close(): Promise<void> {
    return this.#pool.close();
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

/**
 * The runner for a run: `workers` data-parallel workers when more than one
 * is asked for and the backend is a CPU one (`wasm`, `cpu`), else this thread.
 */
export async function openRunner(
  model: LayersModel,
  options: SimulationOptions,
  batch: number,
  record: RecordOptions,
  workers: number,
): Promise<BatchRunner> {
  const backend = tf.getBackend() as BackendName;
  if (workers > 1 && batch > 1 && (backend === "wasm" || backend === "cpu")) {
    return await ParallelRunner.start(model, options, batch, record, workers, backend);
  }
  return new LocalRunner(model, options, batch, record);
}
