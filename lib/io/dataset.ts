/**
 * The toolbox's `.npz` dataset convention: `x_test.npz`, `y_test.npz` and
 * `x_norm.npz` in `dataset_path`, each holding one array under the key
 * `arr_0`. Labels may be one-hot (`(N, C)`) or integer (`(N,)`). Honours
 * `num_to_test`, `sample_idxs_to_test` (which, like the Python toolbox,
 * selects those samples and sets the number tested to their count) and
 * `batch_size`, and iterates float32 batches without copying the whole set.
 * {@linkcode readDatasetFile} reads one of the files whole, as float32 (the
 * pipeline's way: it brings the samples into the model's layout itself).
 *
 * @module
 */
import { DatasetError } from "../errors.ts";
import { type Float32NDArray, type NDArray, sizeOf, toFloat32, toFloat32NDArray } from "./ndarray.ts";
import { readNpzArray } from "./npz.ts";
import { joinPath } from "./paths.ts";

/** Options of {@linkcode loadTestSet} (plain values, usually from `[paths]` and `[simulation]`). */
export interface DatasetOptions {
  /** Folder holding `x_test.npz`, `y_test.npz` (and `x_norm.npz`). */
  datasetPath: string;
  /** Use the first `numToTest` samples (default: all). Ignored when `sampleIdxs` is non-empty. */
  numToTest?: number;
  /** Default batch size of {@linkcode TestSet.batches} (default 1). */
  batchSize?: number;
  /** Test exactly these samples, in this order (`sample_idxs_to_test`). */
  sampleIdxs?: readonly number[];
}

/** One batch of a {@linkcode TestSet}. */
export interface Batch {
  /** Inputs, `[batch, ...sampleShape]`. */
  x: Float32NDArray;
  /** One-hot labels, `[batch, numClasses]`. */
  y: Float32NDArray;
  /** Integer labels. */
  labels: Int32Array;
  /** Position of the first sample of the batch in the test set. */
  start: number;
  /** Index of each sample in the original `x_test.npz`. */
  indices: number[];
}

/** Options of {@linkcode TestSet.batches}. */
export interface BatchOptions {
  /** Samples per batch (default: the set's `batchSize`). */
  batchSize?: number;
  /** Skip a last, incomplete batch (the toolbox's simulators do). Default false. */
  dropRemainder?: boolean;
}

/** The samples to test, with labels, as selected by the options. */
export interface TestSet {
  /** Number of samples selected. */
  readonly n: number;
  /** Shape of one sample (e.g. `[28, 28, 1]`). */
  readonly sampleShape: number[];
  /** Number of classes (one-hot width, or largest integer label + 1). */
  readonly numClasses: number;
  /** Default batch size. */
  readonly batchSize: number;
  /** Index of each selected sample in `x_test.npz`. */
  readonly indices: number[];
  /** Samples present in `x_test.npz`. */
  readonly available: number;
  /** `numToTest` asked for more samples than the file holds (then `n === available`). */
  readonly truncated: boolean;
  /** Integer labels of the selected samples. */
  labels(): Int32Array;
  /** One-hot labels of the selected samples, `[n, numClasses]`. */
  oneHot(): Float32NDArray;
  /** All selected inputs as one float32 array `[n, ...sampleShape]`. */
  x(): Float32NDArray;
  /** Float32 batches in order; only one batch is materialised at a time. */
  batches(options?: BatchOptions): Generator<Batch>;
}

/** The toolbox's dataset file names. */
export const DATASET_FILES = { xTest: "x_test.npz", yTest: "y_test.npz", xNorm: "x_norm.npz" } as const;

async function readDatasetArray(datasetPath: string, file: string): Promise<{ path: string; arr: NDArray }> {
  const path = joinPath(datasetPath, file);
  try {
    await Deno.stat(path);
  } catch (err) {
    throw new DatasetError(
      `${path}: dataset file not found (dataset_path '${datasetPath}' must hold ${DATASET_FILES.xTest}, ` +
        `${DATASET_FILES.yTest} and, for normalization, ${DATASET_FILES.xNorm}, each with array 'arr_0')`,
      { file: path, cause: err },
    );
  }
  return { path, arr: await readNpzArray(path, "arr_0") };
}

/** One dataset file read whole as float32, and the path it was read from. */
export interface DatasetFile {
  /** `datasetPath` joined with the file name. */
  path: string;
  /** Its array `arr_0`, as float32, in the layout it was saved in. */
  array: Float32NDArray;
}

/**
 * Read dataset file `file` (one of {@linkcode DATASET_FILES}) of
 * `datasetPath` whole, as float32 whatever its dtype. Throws a
 * {@linkcode DatasetError} naming the file (and what `dataset_path` must
 * hold) when it is missing, or naming the file and the keys it has when it
 * lacks `arr_0`.
 */
export async function readDatasetFile(datasetPath: string, file: string): Promise<DatasetFile> {
  const { path, arr } = await readDatasetArray(datasetPath, file);
  return { path, array: toFloat32NDArray(arr) };
}

function fmtShape(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

function checkPositiveInt(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new DatasetError(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Class index of each sample from one-hot (or score) rows `[N, C]` (the first
 * largest value, as numpy's `argmax`) or from indices `[N]` / `[N, 1]`.
 */
export function labelIndices(y: NDArray): Int32Array {
  const n = y.shape[0] ?? 0;
  const data = toFloat32(y);
  if (y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1)) return Int32Array.from(data);
  const c = sizeOf(y.shape.slice(1));
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (data[i * c + j] > data[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** {@linkcode labelIndices} of `y` (`(N, classes)` or `(N,)`), integer labels checked, and the number of classes. */
function labelsOf(y: NDArray, path: string): { labels: Int32Array; numClasses: number } {
  const width = y.shape.length === 2 ? y.shape[1] : 1;
  if (width > 1) return { labels: labelIndices(y), numClasses: width };
  let max = -1;
  for (let i = 0; i < y.shape[0]; i++) {
    const v = Number(y.data[i]);
    if (!Number.isInteger(v) || v < 0) {
      throw new DatasetError(
        `${path}: label ${i} is ${v}; integer labels must be non-negative integers ` +
          `(or give one-hot labels of shape (N, classes))`,
        { file: path },
      );
    }
    if (v > max) max = v;
  }
  return { labels: labelIndices(y), numClasses: max + 1 };
}

/** The rows of `x` to test, from `numToTest` / `sampleIdxs`. */
function selectIndices(options: DatasetOptions, available: number, xPath: string): {
  indices: number[];
  truncated: boolean;
} {
  const idxs = options.sampleIdxs ?? [];
  if (idxs.length > 0) {
    for (const i of idxs) {
      if (!Number.isInteger(i) || i < 0 || i >= available) {
        throw new DatasetError(
          `${xPath}: sample_idxs_to_test contains ${i}, but the file holds samples 0..${available - 1}`,
          { file: xPath },
        );
      }
    }
    return { indices: [...idxs], truncated: false };
  }
  let n = available;
  let truncated = false;
  if (options.numToTest !== undefined) {
    checkPositiveInt(options.numToTest, "num_to_test");
    truncated = options.numToTest > available;
    n = Math.min(options.numToTest, available);
  }
  return { indices: Array.from({ length: n }, (_, i) => i), truncated };
}

/** Copy rows `rows` of `src` (any dtype) into a new float32 array. */
function gatherRows(src: NDArray, rows: readonly number[], rowSize: number): Float32Array {
  const out = new Float32Array(rows.length * rowSize);
  rows.forEach((r, k) => out.set(toFloat32(src, r * rowSize, (r + 1) * rowSize), k * rowSize));
  return out;
}

/**
 * Load `x_test.npz` and `y_test.npz` from `datasetPath` and select the
 * samples to test. Throws a {@linkcode DatasetError} naming the file and the
 * expected and found shapes when they do not fit together.
 */
export async function loadTestSet(options: DatasetOptions): Promise<TestSet> {
  const batchSize = options.batchSize ?? 1;
  checkPositiveInt(batchSize, "batch_size");
  const { path: xPath, arr: x } = await readDatasetArray(options.datasetPath, DATASET_FILES.xTest);
  const { path: yPath, arr: y } = await readDatasetArray(options.datasetPath, DATASET_FILES.yTest);
  if (x.shape.length < 2) {
    throw new DatasetError(
      `${xPath}: expected samples of shape (N, ...) with at least 2 dimensions, found ${fmtShape(x.shape)}`,
      { file: xPath },
    );
  }
  if (y.shape.length < 1 || y.shape.length > 2) {
    throw new DatasetError(
      `${yPath}: expected labels of shape (N, classes) (one-hot) or (N,) (integers), found ${
        fmtShape(y.shape)
      }`,
      { file: yPath },
    );
  }
  const available = x.shape[0];
  if (y.shape[0] !== available) {
    throw new DatasetError(
      `${yPath}: expected ${available} labels to match ${xPath} of shape ${fmtShape(x.shape)}, ` +
        `found shape ${fmtShape(y.shape)}`,
      { file: yPath },
    );
  }
  const { labels: allLabels, numClasses } = labelsOf(y, yPath);
  const { indices, truncated } = selectIndices(options, available, xPath);
  const sampleShape = x.shape.slice(1);
  const rowSize = sizeOf(sampleShape);
  const labels = Int32Array.from(indices, (i) => allLabels[i]);

  const oneHotOf = (rows: Int32Array): Float32NDArray => {
    const data = new Float32Array(rows.length * numClasses);
    rows.forEach((l, k) => data[k * numClasses + l] = 1);
    return { data, shape: [rows.length, numClasses], dtype: "float32" };
  };

  function* batches(batchOptions: BatchOptions = {}): Generator<Batch> {
    const size = batchOptions.batchSize ?? batchSize;
    checkPositiveInt(size, "batch_size");
    for (let start = 0; start < indices.length; start += size) {
      const rows = indices.slice(start, start + size);
      if (rows.length < size && batchOptions.dropRemainder) return;
      const batchLabels = labels.slice(start, start + rows.length);
      yield {
        x: { data: gatherRows(x, rows, rowSize), shape: [rows.length, ...sampleShape], dtype: "float32" },
        y: oneHotOf(batchLabels),
        labels: batchLabels,
        start,
        indices: rows,
      };
    }
  }

  return {
    n: indices.length,
    sampleShape,
    numClasses,
    batchSize,
    indices,
    available,
    truncated,
    labels: () => labels.slice(),
    oneHot: () => oneHotOf(labels),
    x: () => ({
      data: gatherRows(x, indices, rowSize),
      shape: [indices.length, ...sampleShape],
      dtype: "float32",
    }),
    batches,
  };
}

/**
 * Load `x_norm.npz` (the samples used for data-based normalization) from
 * `datasetPath` as float32. Throws a {@linkcode DatasetError} naming the
 * file when it is missing or not of shape `(N, ...)`.
 */
export async function loadNormSet(options: Pick<DatasetOptions, "datasetPath">): Promise<Float32NDArray> {
  const { path, arr } = await readDatasetArray(options.datasetPath, DATASET_FILES.xNorm);
  if (arr.shape.length < 2) {
    throw new DatasetError(
      `${path}: expected samples of shape (N, ...) with at least 2 dimensions, found ${fmtShape(arr.shape)}`,
      { file: path },
    );
  }
  return toFloat32NDArray(arr);
}
