/**
 * One place that initialises TensorFlow.js: the multi-threaded SIMD
 * WebAssembly backend (one thread per core by default), else the
 * single-threaded WebAssembly backend, else the plain-JS CPU backend.
 * Falling back is automatic and reported once in
 * {@linkcode BackendInfo.fallbackReason}, never silently.
 *
 * Thread count: {@linkcode InitBackendOptions.threads}, else the
 * `SNNTOOLBOX_THREADS` environment variable, else 1 (capped at
 * {@linkcode MAX_WASM_THREADS}). One thread is the default because it measured
 * faster on the models SNN conversion works with: 2 threads ran MNIST CNNs and
 * MobileNet 0.25 2–10× slower (thread hand-over costs more than these small
 * kernels), and paid off only on ResNet-18-sized models at batch 32 (1.84×;
 * docs/benchmarks.md). How threads are made to work in
 * Deno is explained in ./pthreads.ts.
 *
 * @module
 */
import nodeFs from "node:fs";
import { tf, tfwasm } from "../../deps.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { MAX_WASM_THREADS, terminatePthreadWorkers, withDenoPthreads } from "./pthreads.ts";

export { MAX_WASM_THREADS };

/** What {@linkcode initBackend} chose. */
export interface BackendInfo {
  /** `"wasm"` or `"cpu"`. */
  name: string;
  /** Threads the backend computes with. */
  threads: number;
  /** Why the preferred backend or thread count was not used, when it was not. */
  fallbackReason?: string;
}

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /** Force a backend (`"wasm"` or `"cpu"`); default: `SNNTOOLBOX_BACKEND` or `"wasm"`. */
  backend?: "wasm" | "cpu";
  /**
   * Threads of the WASM backend (a positive integer); default:
   * `SNNTOOLBOX_THREADS`, else 1 (see the module docs).
   */
  threads?: number;
}

let initialized: Promise<BackendInfo> | undefined;

function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: use the default
  }
}

function envBackend(): "wasm" | "cpu" | undefined {
  const v = envVar("SNNTOOLBOX_BACKEND");
  return v === "cpu" || v === "wasm" ? v : undefined;
}

/**
 * The thread count asked for: `option`, else `SNNTOOLBOX_THREADS`, else
 * 1 ({@linkcode DEFAULT_THREADS}). Throws {@linkcode ConfigError} on a value that is
 * not a positive integer.
 */
export function requestedThreads(option?: number): number {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < 1) {
      throw new ConfigError(`initBackend: option 'threads' must be a positive integer, found ${option}`);
    }
    return option;
  }
  const env = envVar("SNNTOOLBOX_THREADS");
  if (env !== undefined && env.trim() !== "") {
    const n = Number(env.trim());
    if (!Number.isInteger(n) || n < 1) {
      throw new ConfigError(
        `environment variable SNNTOOLBOX_THREADS must be a positive integer, found '${env}'`,
      );
    }
    return n;
  }
  return DEFAULT_THREADS;
}

/** Threads used when neither the option nor `SNNTOOLBOX_THREADS` says (see the module docs for why 1). */
export const DEFAULT_THREADS = 1;

/**
 * Run `fn` with console.warn/log/error and string writes to stderr captured
 * (tfjs reports init failures on the console; Emscripten prints "Aborted(...)"
 * when it cannot read the WASM files, the threaded build with
 * `fs.writeSync(2, ...)`); returns the lines too.
 */
async function captureConsole<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const { warn, log, error } = console;
  const { writeSync } = nodeFs;
  const lines: string[] = [];
  const keep = (...args: unknown[]) => {
    lines.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
  };
  console.warn = keep;
  console.log = keep;
  console.error = keep;
  nodeFs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]): number => {
    if (fd !== 2 || typeof data !== "string") {
      return (writeSync as (...args: unknown[]) => number)(fd, data, ...rest);
    }
    keep(data.trimEnd());
    return new TextEncoder().encode(data).length;
  }) as typeof writeSync;
  try {
    return { value: await fn(), lines };
  } finally {
    console.warn = warn;
    console.log = log;
    console.error = error;
    nodeFs.writeSync = writeSync;
  }
}

/** The first informative line of what tfjs printed when it failed. */
function failureText(lines: string[], fallback: string): string {
  const line = lines.find((l) => l.trim() !== "" && !/^Initialization of backend/.test(l));
  return (line ?? fallback).split("\n")[0].trim();
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Try the WASM backend with `threads` threads (1: the single-threaded SIMD build). */
async function tryWasm(threads: number): Promise<number> {
  if (typeof tfwasm.setThreadsCount !== "function") throw new Error("the WASM backend module did not load");
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", threads > 1);
  tfwasm.setThreadsCount(threads);
  const attempt = () => tf.setBackend("wasm");
  const { value: ok, lines } = await captureConsole(() =>
    threads > 1 ? withDenoPthreads(threads, attempt) : attempt()
  );
  if (!ok) throw new Error(failureText(lines, "tf.setBackend('wasm') returned false"));
  await tf.ready();
  // -1 when XNNPACK's thread pool could not be created: it then computes on the calling thread.
  return Math.max(1, tfwasm.getThreadsCount());
}

async function selectWasm(requested: number): Promise<BackendInfo> {
  const threads = Math.min(requested, MAX_WASM_THREADS);
  const notes: string[] = [];
  if (threads < requested) {
    notes.push(`${requested} threads requested, tfjs-backend-wasm uses at most ${MAX_WASM_THREADS}`);
  }
  if (threads > 1) {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    if (!simd) {
      notes.push("threaded WASM needs WebAssembly SIMD, which this runtime lacks; using 1 thread");
    } else {
      try {
        const got = await tryWasm(threads);
        if (got < threads) notes.push(`threaded WASM started ${got} of ${threads} threads`);
        return withNotes({ name: "wasm", threads: got }, notes);
      } catch (err) {
        notes.push(`threaded WASM unavailable (${message(err)}); using 1 thread`);
        // tfjs keeps the "wasm" factory after a failed initialisation: the next attempt re-runs it.
        await terminatePthreadWorkers();
      }
    }
  }
  try {
    return withNotes({ name: "wasm", threads: await tryWasm(1) }, notes);
  } catch (err) {
    notes.push(`WASM backend unavailable: ${message(err)}`);
    await setCpuQuietly();
    return withNotes({ name: "cpu", threads: 1 }, notes);
  }
}

function withNotes(info: BackendInfo, notes: string[]): BackendInfo {
  return notes.length ? { ...info, fallbackReason: notes.join("; ") } : info;
}

/**
 * The CPU backend prints a banner recommending tfjs-node in Node-like
 * runtimes, on its first tensor write (after start-up); keep the console
 * clean by marking it used.
 */
async function setCpuQuietly(): Promise<void> {
  await captureConsole(async () => {
    await tf.setBackend("cpu");
    await tf.ready();
  });
  const cpu = tf.backend() as unknown as { firstUse?: unknown };
  if (typeof cpu.firstUse === "boolean") cpu.firstUse = false;
}

async function selectBackend(options: InitBackendOptions): Promise<BackendInfo> {
  const backend = options.backend ?? envBackend() ?? "wasm";
  const threads = requestedThreads(options.threads);
  if (backend === "wasm") return await selectWasm(threads);
  await setCpuQuietly();
  return { name: "cpu", threads: 1 };
}

/**
 * Throw a {@linkcode UsageError} when TensorFlow.js has no backend yet:
 * entry points (the CLI, `runPipeline`, a script) start it with
 * {@linkcode initBackend}; loaders and stages only compute on it. `what`
 * names the file or task (e.g. the model being loaded).
 */
export function requireBackend(what: string): void {
  if (!tf.getBackend()) {
    throw new UsageError(`${what}: TensorFlow.js has no backend yet; call initBackend() (mod.ts) first`);
  }
}

/**
 * Initialise TensorFlow.js once per process and report the backend chosen.
 * Later calls return the first result (their options are ignored).
 * Rejects with {@linkcode ConfigError} when the thread count asked for is not
 * a positive integer.
 *
 * @example
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const info = await initBackend({ threads: 2 });
 * console.log(info.name, info.threads, info.fallbackReason ?? "");
 * ```
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  initialized ??= selectBackend(options);
  initialized.catch(() => {
    initialized = undefined; // a bad option may be corrected by a later call
  });
  return initialized;
}
