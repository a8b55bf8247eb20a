/**
 * One place that initialises TensorFlow.js, on the backend asked for:
 *
 * - `webgpu`: `@tensorflow/tfjs-backend-webgpu` on the machine's WebGPU
 *   adapter (./webgpu.ts);
 * - `wasm`: the multi-threaded SIMD WebAssembly backend (one thread per
 *   core on request), else the single-threaded one;
 * - `cpu`: the plain-JS backend;
 * - `auto` (the default): WebGPU when the adapter is a hardware GPU, else
 *   WASM (a software adapter such as Mesa's llvmpipe is slower than WASM),
 *   else the CPU.
 *
 * The choice: {@linkcode InitBackendOptions.backend}, else the
 * `SNNTOOLBOX_BACKEND` environment variable, else `auto`. A backend asked
 * for by name that cannot start is an error ({@linkcode NotAvailableError});
 * under `auto`, falling back is reported once in
 * {@linkcode BackendInfo.fallbackReason}, never silently.
 *
 * Thread count (WASM): {@linkcode InitBackendOptions.threads}, else the
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
import { ConfigError, NotAvailableError, UsageError } from "../errors.ts";
import { MAX_WASM_THREADS, terminatePthreadWorkers, withDenoPthreads } from "./pthreads.ts";
import { type AdapterDescription, probeAdapter, startWebGpu } from "./webgpu.ts";

export { MAX_WASM_THREADS };
export type { AdapterDescription };

/** A compute backend of TensorFlow.js the toolbox runs on. */
export type BackendName = "webgpu" | "wasm" | "cpu";

/** What may be asked for: a backend, or `auto` (see the module docs). */
export type BackendChoice = BackendName | "auto";

/** The values of `--backend` and `SNNTOOLBOX_BACKEND`. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "webgpu", "wasm", "cpu"];

/** What {@linkcode initBackend} chose. */
export interface BackendInfo {
  /** `"webgpu"`, `"wasm"` or `"cpu"`. */
  name: BackendName;
  /** Threads the backend computes with (1 on WebGPU and the CPU). */
  threads: number;
  /** The WebGPU adapter found, also when another backend was chosen (absent when none was looked for or found). */
  adapter?: AdapterDescription;
  /** Why `auto` chose this backend (e.g. the adapter is a software renderer). */
  choice?: string;
  /** Why the preferred backend or thread count was not used, when it was not. */
  fallbackReason?: string;
}

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /** The backend; default: `SNNTOOLBOX_BACKEND`, else `"auto"`. */
  backend?: BackendChoice;
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

/**
 * The backend asked for: `option`, else `SNNTOOLBOX_BACKEND`, else `auto`.
 * Throws {@linkcode ConfigError} on a value that is not one of {@linkcode BACKEND_CHOICES}.
 */
export function requestedBackend(option?: string): BackendChoice {
  const check = (v: string, what: string): BackendChoice => {
    if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
    throw new ConfigError(`${what} must be one of ${BACKEND_CHOICES.join(", ")}, found '${v}'`);
  };
  if (option !== undefined) return check(option, "initBackend: option 'backend'");
  const env = envVar("SNNTOOLBOX_BACKEND")?.trim();
  return env ? check(env, "environment variable SNNTOOLBOX_BACKEND") : "auto";
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

async function selectWasm(requested: number, strict: boolean): Promise<BackendInfo> {
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
    if (strict) throw new NotAvailableError(`backend 'wasm' cannot start: ${message(err)}`, { cause: err });
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

async function selectWebGpu(): Promise<BackendInfo> {
  try {
    const adapter = await startWebGpu();
    return { name: "webgpu", threads: 1, adapter };
  } catch (err) {
    throw new NotAvailableError(`backend 'webgpu' cannot start: ${message(err)}`, { cause: err });
  }
}

/** `auto`: WebGPU on a hardware adapter, else WASM (else the CPU). */
async function selectAuto(threads: number): Promise<BackendInfo> {
  const probed = await probeAdapter();
  const adapter = typeof probed === "string" ? undefined : probed;
  if (adapter && !adapter.software) {
    try {
      return { ...(await selectWebGpu()), choice: `auto: hardware WebGPU adapter '${adapter.name}'` };
    } catch (err) {
      const wasm = await selectWasm(threads, false);
      const why = `WebGPU adapter '${adapter.name}' found but its backend failed to start (${message(err)})`;
      return withNotes({ ...wasm, adapter }, [why, ...(wasm.fallbackReason ? [wasm.fallbackReason] : [])]);
    }
  }
  const wasm = await selectWasm(threads, false);
  const choice = adapter
    ? `auto: the WebGPU adapter '${adapter.name}' is a software renderer (slower than WASM)`
    : `auto: ${probed}`;
  return { ...wasm, ...(adapter ? { adapter } : {}), choice };
}

async function selectBackend(options: InitBackendOptions): Promise<BackendInfo> {
  const backend = requestedBackend(options.backend);
  const threads = requestedThreads(options.threads);
  switch (backend) {
    case "auto":
      return await selectAuto(threads);
    case "webgpu":
      return await selectWebGpu();
    case "wasm":
      return await selectWasm(threads, true);
    case "cpu":
      await setCpuQuietly();
      return { name: "cpu", threads: 1 };
  }
}

/** The backend {@linkcode initBackend} started, or `undefined` before it finished. */
export function activeBackend(): BackendInfo | undefined {
  return started;
}

let started: BackendInfo | undefined;

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
 * Rejects with {@linkcode ConfigError} when the backend or thread count
 * asked for is not valid, with {@linkcode NotAvailableError} when the
 * backend asked for by name cannot start.
 *
 * @example
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const info = await initBackend({ threads: 2 });
 * console.log(info.name, info.threads, info.fallbackReason ?? "");
 * ```
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  initialized ??= selectBackend(options).then((info) => (started = info));
  initialized.catch(() => {
    initialized = undefined; // a bad option may be corrected by a later call
  });
  return initialized;
}
