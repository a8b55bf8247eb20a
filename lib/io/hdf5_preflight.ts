/**
 * A time limit on the HDF5 library. h5wasm runs the HDF5 C library
 * synchronously on the calling thread, and a damaged file can make it loop
 * forever inside one call (found by the fuzz harness; h5py's native library
 * loops on the same file), which no JavaScript check can interrupt. So
 * before a file is read, it is read once in a worker
 * (`hdf5_preflight_worker.ts`: structure, attributes, datasets up to
 * 64 MiB whole and larger ones by their first element); a read that has
 * not ended within the limit is terminated and the file refused in one line.
 *
 * The limit is 10 s by default (a walk of a real model file takes
 * milliseconds), `SNNTOOLBOX_HDF5_TIMEOUT` seconds when set, and `0`
 * turns the check off. Single-file builds (`deno task bundle`/`compile`)
 * cannot start the worker program and skip the check.
 *
 * @module
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { ModelFormatError } from "../errors.ts";

const DEFAULT_TIMEOUT_S = 10;

/** The preflight's time limit in milliseconds (0: no preflight), from `SNNTOOLBOX_HDF5_TIMEOUT`. */
export function hdf5TimeoutMs(): number {
  let text: string | undefined;
  try {
    text = Deno.env.get("SNNTOOLBOX_HDF5_TIMEOUT");
  } catch {
    text = undefined; // no --allow-env
  }
  const seconds = text === undefined || text.trim() === "" ? DEFAULT_TIMEOUT_S : Number(text);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_TIMEOUT_S * 1000;
}

/** Whether the worker program exists beside this module (not in a single-file build). */
function preflightAvailable(): boolean {
  return import.meta.url.endsWith("/lib/io/hdf5_preflight.ts");
}

/**
 * The preflight worker, started on first use and kept (unreferenced, so it
 * never keeps the process alive) for the files that follow; replaced after
 * it was terminated at a time limit.
 */
class PreflightWorker {
  readonly #worker: NodeWorker;
  readonly #listening: Promise<void>;
  readonly #pending = new Map<number, () => void>();
  #nextId = 1;

  constructor() {
    const program = new URL("./hdf5_preflight_worker.ts", import.meta.url).href;
    // node:worker_threads loads data: and file: URLs; the data: module imports the program by its
    // full URL, so this works from a local checkout and a remote import alike.
    this.#worker = new NodeWorker(
      new URL(`data:text/javascript,${encodeURIComponent(`await import(${JSON.stringify(program)});`)}`),
    );
    this.#worker.unref();
    let listening!: () => void;
    this.#listening = new Promise<void>((resolve) => (listening = resolve));
    this.#worker.on("message", (reply: { listening?: boolean; id?: number }) => {
      if (reply.listening) listening();
      else if (reply.id !== undefined) this.#settle(reply.id);
    });
    // a worker that fails ends its requests: the caller's own read then reports the file's problem
    const failAll = () => [...this.#pending.keys()].forEach((id) => this.#settle(id));
    this.#worker.on("error", failAll);
    this.#worker.on("exit", failAll);
  }

  /** Resolves when the worker has read `path` (or failed to). */
  read(path: string): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve) => {
      this.#pending.set(id, resolve);
      if (this.#pending.size === 1) this.#worker.ref();
      this.#listening.then(() => this.#worker.postMessage({ id, path }));
    });
  }

  terminate(): void {
    void this.#worker.terminate();
  }

  #settle(id: number): void {
    const resolve = this.#pending.get(id);
    if (!resolve) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    resolve();
  }
}

let shared: PreflightWorker | undefined;

/**
 * Read the HDF5 file `path` in a worker within `timeoutMs` (default
 * {@linkcode hdf5TimeoutMs}). Resolves when the read ended (whether or not
 * the library reported an error: the caller's own read reports those);
 * throws a {@linkcode ModelFormatError} naming the file when the library was
 * still busy at the limit.
 */
export async function preflightHdf5(path: string, timeoutMs: number = hdf5TimeoutMs()): Promise<void> {
  if (timeoutMs <= 0 || !preflightAvailable()) return;
  const worker = shared ??= new PreflightWorker();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    worker.read(path).then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (finished) return;
  worker.terminate();
  if (shared === worker) shared = undefined;
  throw new ModelFormatError(
    `${path}: damaged HDF5 file: the HDF5 library was still reading it after ${timeoutMs / 1000} s ` +
      `(it loops on some damaged files; SNNTOOLBOX_HDF5_TIMEOUT sets the limit in seconds)`,
    { file: path },
  );
}
