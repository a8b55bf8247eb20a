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
import { Worker as NodeWorker } from "node:worker_threads";
import { tf } from "../../deps.ts";
import { ConfigError, SnnToolboxError } from "../errors.ts";
import type { Float32NDArray } from "../io/ndarray.ts";
import type { BackendInfo } from "./mod.ts";

/** A request to a data-parallel worker (internal protocol). */
export type WorkerRequest =
  | {
    kind: "init";
    id: number;
    artifacts: tf.io.ModelArtifacts;
    backend?: "wasm" | "cpu";
  }
  | { kind: "predict"; id: number; data: Float32Array; shape: number[] };

/** A reply of a data-parallel worker (internal protocol). */
export type WorkerReply =
  | { kind: "listening"; id: 0 }
  | { kind: "ready"; id: number; info: BackendInfo }
  | { kind: "output"; id: number; data: Float32Array; shape: number[] }
  | { kind: "error"; id: number; message: string };

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

/**
 * `node:worker_threads` only loads `file:` and `data:` URLs: a `data:` module
 * that imports the worker program by its full URL works from a local
 * checkout and from a remote import alike. It first imports `modules` (see
 * {@linkcode DataParallelOptions.modules}), in order; importing them here
 * rather than in the worker program keeps the published code free of
 * unanalyzable dynamic imports.
 */
function workerBootstrapUrl(modules: readonly string[]): URL {
  const program = new URL("./data_parallel_worker.ts", import.meta.url).href;
  const code = [...modules, program].map((url) => `await import(${JSON.stringify(url)});`).join("\n");
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** One worker and its pending requests. */
class Member {
  readonly #worker: NodeWorker;
  readonly #listening: Promise<void>;
  readonly #pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  /** Start a worker that imports `modules` (in order) before the worker program. */
  constructor(modules: readonly string[]) {
    this.#worker = new NodeWorker(workerBootstrapUrl(modules));
    this.#worker.unref();
    // Requests wait until the worker program listens: a message posted while
    // it is still importing its modules could otherwise be lost (seen as a hang).
    let listening!: () => void;
    this.#listening = new Promise<void>((resolve) => (listening = resolve));
    this.#worker.on("message", (reply: WorkerReply) => {
      if (reply.kind === "listening") listening();
      else this.#settle(reply.id, (p) => p.resolve(reply));
    });
    this.#worker.on("error", (err: unknown) => this.#failAll(err));
    this.#worker.on("exit", (code: number) => this.#failAll(`worker exited with code ${code}`));
  }

  /** Send a request (without `id`) and wait for its reply; the worker keeps the process alive meanwhile. */
  request(req: DistributiveOmit<WorkerRequest, "id">, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const id = this.#nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
      this.#listening.then(() => this.#worker.postMessage({ ...req, id }, transfer));
    });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  #settle(
    id: number,
    fn: (p: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }) => void,
  ): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    fn(p);
  }

  #failAll(reason: unknown): void {
    const err = new SnnToolboxError(
      `data-parallel worker failed: ${reason instanceof Error ? reason.message : String(reason)}`,
      { cause: reason },
    );
    for (const id of [...this.#pending.keys()]) this.#settle(id, (p) => p.reject(err));
  }
}

/** How long workers may take to start and load the model before {@linkcode DataParallelModel.create} gives up. */
const WORKER_START_TIMEOUT_MS = 120_000;

/** `promise`, or a rejection with `message` after `ms` (a stuck worker becomes an error, not a hang). */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SnnToolboxError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function expectReply<K extends WorkerReply["kind"]>(
  reply: WorkerReply,
  kind: K,
  what: string,
): Extract<WorkerReply, { kind: K }> {
  if (reply.kind === "error") {
    throw new SnnToolboxError(`data-parallel worker: ${what} failed: ${reply.message}`);
  }
  if (reply.kind !== kind) {
    throw new SnnToolboxError(`data-parallel worker: ${what}: unexpected reply '${reply.kind}'`);
  }
  return reply as Extract<WorkerReply, { kind: K }>;
}

/** The model's topology and weights, as `tf.io` artifacts. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
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
  readonly #members: Member[];

  private constructor(members: Member[], info: BackendInfo) {
    this.#members = members;
    this.info = info;
  }

  /** Number of workers. */
  get workers(): number {
    return this.#members.length;
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
    const modules = (options.modules ?? []).map((m) => String(m));
    const members = Array.from({ length: count }, () => new Member(modules));
    try {
      const replies = await withTimeout(
        Promise.all(members.map((m) => m.request({ kind: "init", artifacts, backend: options.backend }))),
        WORKER_START_TIMEOUT_MS,
        `data-parallel workers did not load the model within ${WORKER_START_TIMEOUT_MS / 1000} s`,
      );
      const infos = replies.map((r) => expectReply(r, "ready", "loading the model").info);
      return new DataParallelModel(members, infos[0]);
    } catch (err) {
      await Promise.all(members.map((m) => m.terminate()));
      throw err;
    }
  }

  /**
   * The model's output for a batch (first dimension), computed in slices by
   * the workers and concatenated in order.
   */
  async predict(x: Float32NDArray): Promise<Float32NDArray> {
    const [batch, ...rest] = x.shape;
    if (x.shape.length < 1 || batch < 1) {
      throw new ConfigError(
        `DataParallelModel.predict: expected a batch of at least 1, found shape [${x.shape}]`,
      );
    }
    const rowSize = rest.reduce((a, b) => a * b, 1);
    const sizes = splitBatch(batch, this.#members.length);
    let start = 0;
    const parts = await Promise.all(sizes.map(async (rows, i) => {
      const data = x.data.slice(start * rowSize, (start + rows) * rowSize);
      start += rows;
      const reply = await this.#members[i].request(
        { kind: "predict", data, shape: [rows, ...rest] },
        [data.buffer as ArrayBuffer],
      );
      return expectReply(reply, "output", "predict");
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
    await Promise.all(this.#members.map((m) => m.terminate()));
  }
}
