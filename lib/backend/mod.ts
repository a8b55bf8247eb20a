/**
 * One place that initialises TensorFlow.js: the WebAssembly backend when it
 * loads, the plain-JS CPU backend otherwise (reported once, never silently).
 *
 * @module
 */
import { tf, tfwasm } from "../../deps.ts";

/** What {@linkcode initBackend} chose. */
export interface BackendInfo {
  /** `"wasm"` or `"cpu"`. */
  name: string;
  /** Threads the backend computes with. */
  threads: number;
  /** Why the preferred backend was not used, when it was not. */
  fallbackReason?: string;
}

let initialized: Promise<BackendInfo> | undefined;

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /** Force a backend (`"wasm"` or `"cpu"`); default: `SNNTOOLBOX_BACKEND` or `"wasm"`. */
  backend?: "wasm" | "cpu";
}

function envBackend(): "wasm" | "cpu" | undefined {
  try {
    const v = Deno.env.get("SNNTOOLBOX_BACKEND");
    return v === "cpu" || v === "wasm" ? v : undefined;
  } catch {
    return undefined; // no --allow-env: use the default
  }
}

async function selectBackend(preferred: "wasm" | "cpu"): Promise<BackendInfo> {
  if (preferred === "wasm") {
    try {
      // Referencing the module keeps its side-effect registration alive.
      if (typeof tfwasm.setWasmPaths !== "function") throw new Error("no wasm backend module");
      if (await tf.setBackend("wasm")) {
        await tf.ready();
        return { name: "wasm", threads: 1 };
      }
      throw new Error("tf.setBackend('wasm') returned false");
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await setCpuQuietly();
      return { name: "cpu", threads: 1, fallbackReason: `WASM backend unavailable: ${reason}` };
    }
  }
  await setCpuQuietly();
  return { name: "cpu", threads: 1 };
}

/** The CPU backend prints a banner recommending tfjs-node in Node-like runtimes; keep stdout clean. */
async function setCpuQuietly(): Promise<void> {
  const warn = console.warn;
  const log = console.log;
  console.warn = () => {};
  console.log = () => {};
  try {
    await tf.setBackend("cpu");
    await tf.ready();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

/**
 * Initialise TensorFlow.js once per process and report the backend chosen.
 * Later calls return the first result.
 *
 * @example
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const info = await initBackend();
 * console.log(info.name, info.threads);
 * ```
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  initialized ??= selectBackend(options.backend ?? envBackend() ?? "wasm");
  return initialized;
}
