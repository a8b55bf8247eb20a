/**
 * Makes the threaded SIMD build of tfjs-backend-wasm 4.22 start in Deno.
 *
 * Out of the box it cannot: tfjs turns threads off when it sees Node-style
 * globals, and when forced, the Emscripten glue (running in its Node flavour)
 * creates its pthread workers with `node:worker_threads` from a Blob URL,
 * which Deno refuses (`ERR_WORKER_PATH`). During backend initialisation
 * {@linkcode withDenoPthreads}:
 *
 * - serves the glue a `Worker` class of ours ({@linkcode PthreadWorker})
 *   that runs our pthread program (./pthread_worker.ts) instead; the glue's
 *   attempt to install `node:worker_threads`' `Worker` as the global `Worker`
 *   is absorbed and the global is restored afterwards;
 * - reports `2 × threads` logical cores to the glue: tfjs sizes its XNNPACK
 *   thread pool as `min(requested, cores / 2, 8)` (it assumes hyper-threading).
 *
 * Pthread workers never keep the process alive (they are always unref'd), so
 * a CLI run ends by itself. The glue pre-allocates 8 pthread workers; only the
 * `n - 1` a pool of `n` threads uses are real workers, the others start only
 * if a thread is ever run on them.
 *
 * @module
 */
import os from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";
import { pthreadWorkerUrl } from "./pthread_worker.ts";

/** The pthread workers the tfjs 4.22 glue pre-allocates. */
const GLUE_POOL_SIZE = 8;

/** The most threads tfjs-backend-wasm 4.22 uses (it caps its XNNPACK pool at 8). */
export const MAX_WASM_THREADS = 8;

type Listener = (value: unknown) => void;

/** How long the threaded backend may take to start before falling back. */
const START_TIMEOUT_MS = 30_000;

let workerUrl: URL | undefined;
const liveWorkers = new Set<PthreadWorker>();

/** State of the initialisation in progress (see {@linkcode withDenoPthreads}). */
interface StartWatch {
  /** Workers created so far by the glue in this initialisation. */
  created: number;
  /** Workers with an index at or above this start at once (the glue hands out the last ones first). */
  eagerFrom: number;
  /** Report a worker that failed to start. */
  fail(err: Error): void;
}
let watch: StartWatch | undefined;

/**
 * The `Worker` the Emscripten glue constructs for each pthread (it uses the
 * `node:worker_threads` interface: `on`, `postMessage`, `ref`, `unref`,
 * `terminate`). The workers the thread pool will use start at once, so the
 * glue's own start-up waits for them to load; the others start on the first
 * message after `load`, which is answered with `loaded` on their behalf.
 */
export class PthreadWorker {
  #real?: NodeWorker;
  #load?: unknown;
  #listeners: [string, Listener][] = [];
  #terminated = false;
  readonly #eager: boolean;

  /** The glue passes the Blob URL of its own worker script: it is not used (only revoked). */
  constructor(url?: unknown) {
    if (typeof url === "string" && url.startsWith("blob:")) URL.revokeObjectURL(url);
    liveWorkers.add(this);
    this.#eager = watch !== undefined && watch.created++ >= watch.eagerFrom;
  }

  /** Register a listener (`message`, `error`, `detachedExit`, ...). */
  on(event: string, listener: Listener): this {
    this.#listeners.push([event, listener]);
    if (this.#real && event !== "error" && event !== "message") this.#real.on(event, listener);
    return this;
  }

  /** Send a message of the pthread protocol to the worker. */
  postMessage(message: unknown, transfer?: readonly unknown[]): void {
    if (this.#terminated) return;
    if (!this.#real) {
      if (isCommand(message, "load")) {
        this.#load = message;
        if (this.#eager) this.#start();
        else setTimeout(() => this.#emit("message", { cmd: "loaded" }), 0);
        return;
      }
      this.#start();
    }
    this.#real?.postMessage(message, transfer as never);
  }

  /** No-op: a pthread worker never keeps the process alive. */
  ref(): void {}

  /** No-op: pthread workers are always unref'd. */
  unref(): void {}

  /** Stop the worker (if it was started). */
  terminate(): Promise<number> {
    this.#terminated = true;
    liveWorkers.delete(this);
    return this.#real ? this.#real.terminate() : Promise.resolve(0);
  }

  #start(): void {
    workerUrl ??= pthreadWorkerUrl();
    const real = new NodeWorker(workerUrl);
    real.unref();
    for (const [event, listener] of this.#listeners) {
      if (event !== "error" && event !== "message") real.on(event, listener);
    }
    real.on("message", (data: unknown) => {
      if (isCommand(data, "pthreadError")) this.#failed((data as { message?: unknown }).message);
      else this.#dispatch("message", data);
    });
    real.on("error", (err: unknown) => this.#failed(err instanceof Error ? err.message : err));
    real.on("exit", (code: unknown) => {
      if (watch && !this.#terminated) this.#failed(`exited with code ${code} while starting`);
    });
    this.#real = real;
    if (this.#load !== undefined) real.postMessage(this.#load);
  }

  /** Answer on behalf of a worker that is not started yet. */
  #emit(event: string, value: unknown): void {
    if (!this.#terminated && !this.#real) this.#dispatch(event, value);
  }

  #dispatch(event: string, value: unknown): void {
    for (const [name, listener] of this.#listeners) if (name === event) listener(value);
  }

  /**
   * During start-up a failing worker makes the initialisation fall back (the
   * glue's handler would throw); afterwards the glue's error handler decides.
   */
  #failed(reason: unknown): void {
    const err = new Error(`pthread worker failed: ${String(reason)}`);
    if (watch) watch.fail(err);
    else this.#dispatch("error", err);
  }
}

/**
 * The `Worker` constructor seen while the backend starts: the glue's call
 * (one argument, a Blob URL) gets a {@linkcode PthreadWorker}; any other
 * caller meanwhile gets the runtime's own `Worker`.
 */
function workerForGlue(original: unknown): unknown {
  return function Worker(url: unknown, options?: unknown): object {
    if (typeof url === "string" && url.startsWith("blob:") && options === undefined) {
      return new PthreadWorker(url);
    }
    if (typeof original !== "function") throw new TypeError("Worker is not available in this runtime");
    return Reflect.construct(original, options === undefined ? [url] : [url, options]);
  };
}

function fakeCpu(): ReturnType<typeof os.cpus>[number] {
  return { model: "", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
}

function isCommand(message: unknown, cmd: string): boolean {
  return typeof message === "object" && message !== null && (message as { cmd?: unknown }).cmd === cmd;
}

/** Stop every pthread worker created so far (after a failed initialisation). */
export async function terminatePthreadWorkers(): Promise<void> {
  await Promise.all([...liveWorkers].map((w) => w.terminate()));
}

/**
 * Run `init` (which initialises the threaded tfjs WASM backend for
 * `threads` threads) with the pthread support described in the module docs
 * installed, and remove it afterwards, whatever happens. Rejects when a
 * pthread worker fails to start or start-up takes longer than 30 s.
 */
export async function withDenoPthreads<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, "Worker");
  const osModule = os as { cpus: typeof os.cpus };
  const cpus = osModule.cpus;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failure = new Promise<never>((_, reject) => {
    watch = { created: 0, eagerFrom: GLUE_POOL_SIZE - (threads - 1), fail: reject };
    timer = setTimeout(
      () => reject(new Error(`threaded WASM did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
  });
  const glueWorker = workerForGlue(workerDescriptor?.value);
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    get: () => glueWorker,
    set: () => {}, // the glue's `global.Worker = worker_threads.Worker`
  });
  // The glue only counts the entries (and the real call needs --allow-sys).
  osModule.cpus = () => Array.from({ length: 2 * threads }, fakeCpu);
  try {
    return await Promise.race([init(), failure]);
  } finally {
    clearTimeout(timer);
    watch = undefined;
    osModule.cpus = cpus;
    if (workerDescriptor) Object.defineProperty(globalThis, "Worker", workerDescriptor);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}
