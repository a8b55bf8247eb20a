/**
 * onnxruntime-node, the reference ONNX runtime of the tests and benchmarks.
 * It is a test-only package: its pinned specifier lives in deps.ts but is
 * imported only here, at run time, so it is in `tests/deno.lock` (the test and
 * bench tasks' lock file) and never in what `deno task demo` installs.
 *
 * @module
 */
import { ONNXRUNTIME_NODE } from "../deps.ts";

/** The part of onnxruntime-node the tests and benchmarks use. */
export interface Ort {
  InferenceSession: {
    create(path: string, options?: { intraOpNumThreads?: number; interOpNumThreads?: number }): Promise<{
      inputNames: readonly string[];
      outputNames: readonly string[];
      run(
        feeds: Record<string, unknown>,
      ): Promise<Record<string, { data: ArrayLike<number>; dims: readonly number[] }>>;
    }>;
  };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => unknown;
}

let ortPromise: Promise<Ort | string> | undefined;

/** onnxruntime-node, or the reason it cannot be loaded here (callers then skip that comparison). */
export function loadOrt(): Promise<Ort | string> {
  ortPromise ??= (async () => {
    try {
      const mod = await import(ONNXRUNTIME_NODE) as { default?: Ort } & Partial<Ort>;
      const ort = (mod.InferenceSession ? mod : mod.default) as Ort | undefined;
      return ort?.InferenceSession ? ort : "onnxruntime-node has no InferenceSession";
    } catch (err) {
      return `onnxruntime-node does not load: ${err instanceof Error ? err.message : err}`;
    }
  })();
  return ortPromise;
}
