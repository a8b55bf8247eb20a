/**
 * Data-parallel inference: a batch is split into contiguous slices, one per
 * worker, each worker running its own single-threaded WASM backend and its
 * own copy of the model; the outputs are concatenated in order, so the
 * result equals a single-threaded run of the whole batch.
 *
 * Unlike the threaded backend (threads synchronise inside every operation)
 * the workers synchronise once per batch, which pays off for small
 * operations and on busy machines. Idle workers never keep the process alive.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { ConfigError, SnnToolboxError } from "../errors.ts";
import type { Float32NDArray } from "../io/ndarray.ts";
import type { BackendInfo } from "./mod.ts";
import { WorkerPool, workersAvailable } from "./pool.ts";

/** A request to a data-parallel worker (internal protocol). */
export type WorkerRequest =
  | { kind: "init"; artifacts: tf.io.ModelArtifacts; backend?: "wasm" | "cpu" }
  | { kind: "predict"; data: Float32Array; shape: number[]; outputLayer?: string };

/** A reply of a data-parallel worker (internal protocol). */
export type WorkerReply =
  | { kind: "ready"; info: BackendInfo }
  | { kind: "output"; data: Float32Array; shape: number[] };

/** Options of {@linkcode DataParallelModel.create}. */
export interface DataParallelOptions {
  /** Number of workers; default `navigator.hardwareConcurrency`. */
  workers?: number;
  /** Backend of the workers; default `"wasm"` (single-threaded each). */
  backend?: "wasm" | "cpu";
  /**
   * URLs of modules each worker imports before loading the model, e.g. the
   * ones that register custom layers (`tf.serialization.registerClass`).
   */
  modules?: (string | URL)[];
}

/** The model's topology and weights, as `tf.io` artifacts. */
export async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  if (!artifacts) throw new SnnToolboxError("data-parallel: the model could not be serialised");
  return artifacts;
}

/** Contiguous slice sizes of `batch` rows over at most `parts` workers (larger slices first). */
export function splitBatch(batch: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, batch));
  const base = Math.floor(batch / n);
  return Array.from({ length: n }, (_, i) => base + (i < batch % n ? 1 : 0));
}

function expectKind<K extends WorkerReply["kind"]>(r: WorkerReply, kind: K, what: string) {
  if (r.kind !== kind) {
    throw new SnnToolboxError(`data-parallel worker: ${what}: unexpected reply '${r.kind}'`);
  }
  return r as Extract<WorkerReply, { kind: K }>;
}

/** Prefix a worker's error with what it was doing. */
async function labelled<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof SnnToolboxError && !/^data-parallel worker/.test(err.message)) {
      throw new SnnToolboxError(`data-parallel worker: ${what} failed: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * A single-input, single-output layers model replicated in worker threads;
 * {@linkcode DataParallelModel.predict} splits each batch across them.
 *
 * @example
 * ```ts
 * import { DataParallelModel } from "./workers.ts";
 * import { tf } from "../../deps.ts";
 * declare const model: tf.LayersModel;
 * const pool = await DataParallelModel.create(model, { workers: 2 });
 * try {
 *   const y = await pool.predict({ data: new Float32Array(32 * 784), shape: [32, 28, 28, 1], dtype: "float32" });
 *   console.log(y.shape);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class DataParallelModel {
  /** Backend each worker runs. */
  readonly info: BackendInfo;
  readonly #pool: WorkerPool<WorkerRequest, WorkerReply>;

  private constructor(pool: WorkerPool<WorkerRequest, WorkerReply>, info: BackendInfo) {
    this.#pool = pool;
    this.info = info;
  }

  /** Number of workers. */
  get workers(): number {
    return this.#pool.size;
  }

  /** Start the workers and load a copy of `model` in each. */
  static async create(model: tf.LayersModel, options: DataParallelOptions = {}): Promise<DataParallelModel> {
    const count = options.workers ?? navigator.hardwareConcurrency ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new ConfigError(`DataParallelModel: option 'workers' must be a positive integer, found ${count}`);
    }
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new ConfigError(
        `DataParallelModel: model '${model.name}' has ${model.inputs.length} inputs and ` +
          `${model.outputs.length} outputs; only single-input, single-output models are supported`,
      );
    }
    const artifacts = await artifactsOf(model);
    const { pool, replies } = await labelled(
      "loading the model",
      WorkerPool.start<WorkerRequest, WorkerReply>(
        new URL("./data_parallel_worker.ts", import.meta.url),
        count,
        () => ({ kind: "init", artifacts, backend: options.backend }),
        options.modules,
      ),
    );
    return new DataParallelModel(pool, expectKind(replies[0], "ready", "loading the model").info);
  }

  /**
   * The model's output for a batch (first dimension), computed in slices by
   * the workers and concatenated in order; with `outputLayer`, the output
   * of that layer instead (e.g. the activations normalization collects).
   */
  async predict(x: Float32NDArray, outputLayer?: string): Promise<Float32NDArray> {
    const [batch, ...rest] = x.shape;
    if (x.shape.length < 1 || batch < 1) {
      throw new ConfigError(
        `DataParallelModel.predict: expected a batch of at least 1, found shape [${x.shape}]`,
      );
    }
    const rowSize = rest.reduce((a, b) => a * b, 1);
    const sizes = splitBatch(batch, this.#pool.size);
    let start = 0;
    const parts = await Promise.all(sizes.map(async (rows, i) => {
      const data = x.data.slice(start * rowSize, (start + rows) * rowSize);
      start += rows;
      const reply = await labelled(
        "predict",
        this.#pool.request(i, { kind: "predict", data, shape: [rows, ...rest], outputLayer }, [
          data.buffer as ArrayBuffer,
        ]),
      );
      return expectKind(reply, "output", "predict");
    }));
    const outRow = parts[0].shape.slice(1);
    const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p.data, offset);
      offset += p.data.length;
    }
    return { data: out, shape: [batch, ...outRow], dtype: "float32" };
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/**
 * Multiply-accumulates of one forward pass of one sample through `model`,
 * estimated from its layers with weights: kernel size × output positions
 * (exact for Dense and convolutions).
 */
export function estimateMacs(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const kernel = layer.weights[0];
    if (!kernel) continue;
    const out =
      (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as (number | null)[];
    const dims = out.slice(1).map((d) => d ?? 1);
    const positions = dims.slice(0, -1).reduce((a, b) => a * b, 1);
    total += kernel.shape.reduce((a: number, b) => a * (b ?? 1), 1) * positions;
  }
  return total;
}

/**
 * Single-thread speed the worker count is planned with: multiply-accumulates
 * per second of a TF.js WASM forward pass on one core (measured on the demo
 * model: about 7 GMAC/s; docs/benchmarks.md).
 */
export const WASM_MACS_PER_SECOND = 7e9;

/**
 * Below this many seconds of estimated single-thread work, one worker:
 * starting a pool costs 0.3–0.6 s (measured on 2 cores), which work this
 * short does not pay back.
 */
export const MIN_PARALLEL_SECONDS = 2;

/**
 * Workers for `macs` multiply-accumulates of work: `requested` when given
 * (a positive integer), else `SNNTOOLBOX_WORKERS`, else as many as cores
 * when the estimated single-thread time reaches
 * {@linkcode MIN_PARALLEL_SECONDS}, else 1. Throws {@linkcode ConfigError}
 * on a value that is not a positive integer or `auto`. Always 1 in a
 * single-file bundle, which cannot start worker programs (see `workersAvailable`).
 */
export function workerCount(macs: number, requested?: number | "auto"): number {
  let choice: number | "auto" = requested ?? "auto";
  if (requested === undefined) {
    let env: string | undefined;
    try {
      env = Deno.env.get("SNNTOOLBOX_WORKERS")?.trim();
    } catch {
      env = undefined;
    }
    if (env && env !== "auto") {
      const n = Number(env);
      if (!Number.isInteger(n) || n < 1) {
        throw new ConfigError(
          `environment variable SNNTOOLBOX_WORKERS must be a positive integer or 'auto', found '${env}'`,
        );
      }
      choice = n;
    }
  }
  if (choice !== "auto") {
    if (!Number.isInteger(choice) || choice < 1) {
      throw new ConfigError(`the number of workers must be a positive integer or 'auto', found ${choice}`);
    }
    return workersAvailable() ? choice : 1;
  }
  if (!workersAvailable()) return 1;
  const cores = navigator.hardwareConcurrency ?? 1;
  return cores > 1 && macs / WASM_MACS_PER_SECOND >= MIN_PARALLEL_SECONDS ? cores : 1;
}
