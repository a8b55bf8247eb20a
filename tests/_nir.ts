/**
 * NIR test helpers: the independent reader (tests/nir_reader.py, h5py +
 * numpy, written from the NIR specification) and the check with the
 * reference implementation (tests/nir_reference_check.py, neuromorphs/NIR's
 * `nir` package from SNNTOOLBOX_NIR_PATH or /work/ref/NIR).
 *
 * @module
 */
import { PYTHON, pythonHas } from "./_io_python.ts";
import { writeNpz } from "../lib/io/npz.ts";
import type { NDArray } from "../lib/io/ndarray.ts";

const HERE = new URL(".", import.meta.url).pathname;

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Where the reference `nir` package's source is (put on PYTHONPATH), if anywhere. */
export const NIR_PYTHONPATH: string | undefined = Deno.env.get("SNNTOOLBOX_NIR_PATH") ??
  (isDir("/work/ref/NIR/nir") ? "/work/ref/NIR" : undefined);

/** Whether the independent reader can run (Python with numpy and h5py). */
export function readerAvailable(): Promise<boolean> {
  return pythonHas("numpy", "h5py");
}

async function python(script: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(PYTHON, {
    args: [`${HERE}${script}`, ...args],
    stdout: "piped",
    stderr: "piped",
    // One BLAS thread: the test suite runs files in parallel on few cores.
    env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Options of {@linkcode runReader}. */
export interface ReaderOptions {
  /** Simulation steps. */
  steps?: number;
  /** Time step. */
  dt?: number;
  /** Samples simulated together. */
  batch?: number;
  /** The samples are channels-last (moved to channels-first, NIR's layout). */
  channelsLast?: boolean;
  /** Evaluate the rate-approximating ANN instead of simulating. */
  ann?: boolean;
  /** Only the first `n` samples. */
  n?: number;
}

/** What the independent reader printed. */
export interface ReaderResult {
  /** Predicted class per sample (-1: no output spike). */
  predictions: number[];
  /** Output spikes in all. */
  output_spikes: number;
  /** Spikes of all IF nodes in all. */
  spikes: number;
  /** With `ann`: the Output node's values per sample. */
  outputs: number[][];
}

/** Run the independent reader on `graph` with samples from `x` (an `.npz` path, or an array written to a temp file). */
export async function runReader(
  graph: string,
  x: string | NDArray,
  options: ReaderOptions = {},
): Promise<ReaderResult> {
  let xPath = typeof x === "string" ? x : "";
  let tmp: string | undefined;
  if (typeof x !== "string") {
    tmp = await Deno.makeTempDir({ prefix: "nir_reader_" });
    xPath = `${tmp}/x.npz`;
    await writeNpz(xPath, { x });
  }
  try {
    const args = [
      graph,
      "--x",
      xPath,
      "--steps",
      String(options.steps ?? 100),
      "--dt",
      String(options.dt ?? 1),
    ];
    if (options.batch) args.push("--batch", String(options.batch));
    if (options.n) args.push("--n", String(options.n));
    if (options.channelsLast) args.push("--channels-last");
    if (options.ann) args.push("--ann");
    const r = await python("nir_reader.py", args);
    if (r.code !== 0) throw new Error(`nir_reader.py failed (${r.code}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
  } finally {
    if (tmp) await Deno.remove(tmp, { recursive: true });
  }
}

/** What the reference check found: the reference read the file and rewrote it with the same layout. */
export interface ReferenceCheck {
  /** Datasets compared. */
  datasets: number;
  /** Node names the reference read. */
  nodes: string[];
  /** The file the reference wrote from what it read. */
  rewritten: string;
}

/**
 * Read `file` with the reference `nir.read` (type check on) and compare its
 * `nir.write` rewrite's layout with the file's. Returns `undefined` (after
 * printing why) when the reference cannot be imported; throws on a mismatch.
 */
export async function referenceCheck(file: string, dir: string): Promise<ReferenceCheck | undefined> {
  if (!(await readerAvailable())) return undefined;
  const rewritten = `${dir}/reference_rewrite_${crypto.randomUUID().slice(0, 8)}.nir`;
  const env: Record<string, string> = NIR_PYTHONPATH ? { PYTHONPATH: NIR_PYTHONPATH } : {};
  const r = await python("nir_reference_check.py", [file, rewritten], env);
  if (r.code === 3) {
    console.warn(
      `reference NIR check skipped: ${r.stdout.trim()} (set SNNTOOLBOX_NIR_PATH to a neuromorphs/NIR checkout)`,
    );
    return undefined;
  }
  if (r.code !== 0) throw new Error(`reference check of ${file} failed:\n${r.stdout}${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()!), rewritten };
}
