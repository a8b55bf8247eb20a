/**
 * Evaluating and running any TF.js layers model (the input model or the
 * parsed one) on arrays: loss, top-1 and top-k accuracy like Keras'
 * `evaluate` with `categorical_crossentropy`, `accuracy` and
 * `top_k_categorical_accuracy`.
 *
 * @module
 */
import { type LayersModel, tf } from "../../deps.ts";
import { assertFitsBuffer } from "../backend/webgpu.ts";
import { DataParallelModel, estimateMacs, workerCount } from "../backend/workers.ts";
import { customActivationModule } from "./activations.ts";
import { DatasetError } from "../errors.ts";
import { type Float32NDArray, type NDArray, sizeOf } from "../io/ndarray.ts";

/** Options of {@linkcode evaluateModel} and {@linkcode predictModel}. */
export interface EvaluateOptions {
  /** Samples per forward pass (default 32). */
  batchSize?: number;
  /** Use only the first `numToTest` samples (default: all). */
  numToTest?: number;
  /** `k` of top-k accuracy (default 5). */
  topK?: number;
  /** Transpose each sample by this permutation before feeding it (source layout → model layout). */
  inputPerm?: number[];
  /** Data-parallel workers holding a copy of the model: each batch is split over them. */
  workers?: DataParallelModel;
}

/**
 * On WebGPU, a batch of `batchSize` must fit the adapter's buffer limit in
 * every layer's output (a clear error naming the limit, not a crash).
 */
export function assertBatchFits(model: LayersModel, batchSize: number, setting: string): void {
  let biggest = { size: 0, what: "" };
  for (const layer of model.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (
      | number
      | null
    )[][];
    for (const s of shapes) {
      const size = sizeOf(s.slice(1).map((d) => d ?? 1));
      if (size > biggest.size) biggest = { size, what: `the output of layer '${layer.name}'` };
    }
  }
  assertFitsBuffer(biggest.size, batchSize, biggest.what, setting);
}

/** Scores of {@linkcode evaluateModel}. */
export interface EvaluationScore {
  /** Mean categorical cross-entropy (outputs normalised to sum 1 and clipped to [1e-7, 1 − 1e-7], as Keras does). */
  loss: number;
  /** Fraction of samples whose highest output is the label. */
  top1: number;
  /** Fraction of samples whose label is among the `k` highest outputs. */
  topK: number;
  /** The `k` of {@linkcode topK}. */
  k: number;
  /** Number of samples evaluated. */
  count: number;
}

/** `a` (or its elements `[start, end)`) as float32; Float32 data is not copied. */
function toFloat32(a: NDArray, start = 0, end = a.data.length): Float32Array {
  if (a.data instanceof Float32Array) return a.data.subarray(start, end);
  const out = new Float32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = Number(a.data[start + i]);
  return out;
}

/** Class index of each sample from one-hot (or score) rows `[N, C]` or indices `[N]`/`[N, 1]`. */
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

/** Samples `[start, end)` of `x` as a float32 batch, transposed by `perm` (per sample) when given. */
function batchTensor(x: NDArray, start: number, end: number, perm?: number[]): tf.Tensor {
  const per = sizeOf(x.shape.slice(1));
  const t = tf.tensor(toFloat32(x, start * per, end * per), [end - start, ...x.shape.slice(1)], "float32");
  if (!perm) return t;
  const out = tf.transpose(t, [0, ...perm.map((p) => p + 1)]);
  t.dispose();
  return out;
}

function firstOutput(y: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (!Array.isArray(y)) return y;
  for (const t of y.slice(1)) t.dispose();
  return y[0];
}

/** The (first) output of `model` on samples `[start, end)` of `x`; a DatasetError when they do not fit. */
async function predictBatch(
  model: LayersModel,
  x: NDArray,
  start: number,
  end: number,
  perm?: number[],
  workers?: DataParallelModel,
): Promise<tf.Tensor> {
  const input = batchTensor(x, start, end, perm);
  try {
    if (workers) {
      const data = (await input.data()) as Float32Array;
      const y = await workers.predict({ data, shape: input.shape, dtype: "float32" });
      return tf.tensor(y.data, y.shape, "float32");
    }
    return firstOutput(model.predict(input) as tf.Tensor | tf.Tensor[]);
  } catch (err) {
    throw new DatasetError(
      `samples of shape [${x.shape.slice(1).join(", ")}] do not fit the model input ` +
        `[${(model.inputs[0].shape ?? []).slice(1).join(", ")}]: ${err instanceof Error ? err.message : err}`,
      { cause: err },
    );
  } finally {
    input.dispose();
  }
}

/**
 * Evaluate `model` on `x` (`[N, ...]`) against labels `y` (one-hot `[N, C]`
 * or indices `[N]`): mean loss, top-1 and top-k accuracy.
 */
export async function evaluateModel(
  model: LayersModel,
  x: NDArray,
  y: NDArray,
  options: EvaluateOptions = {},
): Promise<EvaluationScore> {
  const total = Math.min(x.shape[0] ?? 0, options.numToTest ?? Infinity);
  if ((y.shape[0] ?? 0) < total) {
    throw new DatasetError(
      `${total} samples to test but only ${y.shape[0]} labels (shape [${y.shape.join(", ")}])`,
    );
  }
  if (total === 0) throw new DatasetError("no samples to evaluate (x is empty or num_to_test is 0)");
  const batchSize = Math.max(1, options.batchSize ?? 32);
  assertBatchFits(model, Math.min(batchSize, total), "[simulation] batch_size");
  const k = options.topK ?? 5;
  const labels = labelIndices(y);
  let loss = 0;
  let top1 = 0;
  let topk = 0;
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const out = await predictBatch(model, x, start, end, options.inputPerm, options.workers);
    const pred = (await out.data()) as Float32Array;
    const c = out.shape[out.shape.length - 1] ?? 1;
    out.dispose();
    for (let i = 0; i < end - start; i++) {
      const row = pred.subarray(i * c, (i + 1) * c);
      const label = labels[start + i];
      const v = row[label];
      let greater = 0;
      let sum = 0;
      for (let j = 0; j < c; j++) {
        if (row[j] > v) greater++;
        sum += row[j];
      }
      if (greater === 0) top1++;
      if (greater < k) topk++;
      const p = Math.min(1 - 1e-7, Math.max(1e-7, v / sum));
      loss -= Math.log(p);
    }
  }
  return { loss: loss / total, top1: top1 / total, topK: topk / total, k, count: total };
}

/** Options of {@linkcode predictModel}. */
export interface PredictOptions {
  /** Samples per forward pass (default 32). */
  batchSize?: number;
  /** Transpose each input sample by this permutation first (source → model layout). */
  inputPerm?: number[];
  /** The model output is transpose(source output, outputPerm); undo it (model → source layout). */
  outputPerm?: number[];
}

/** Run `model` on `x` in batches and return its (first) output as a float32 array. */
export async function predictModel(
  model: LayersModel,
  x: NDArray,
  options: PredictOptions = {},
): Promise<Float32NDArray> {
  const n = x.shape[0] ?? 0;
  const batchSize = Math.max(1, options.batchSize ?? 32);
  assertBatchFits(model, Math.min(batchSize, Math.max(1, n)), "--batch-size");
  const chunks: Float32Array[] = [];
  let sampleShape: number[] = [];
  // Output layout back to the source's: the inverse of outputPerm, batch axis first.
  const back = options.outputPerm &&
    [0, ...options.outputPerm.map((_, i) => options.outputPerm!.indexOf(i) + 1)];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    let out = await predictBatch(model, x, start, end, options.inputPerm);
    if (back) {
      const t = tf.transpose(out, back);
      out.dispose();
      out = t;
    }
    sampleShape = out.shape.slice(1);
    chunks.push((await out.data()) as Float32Array);
    out.dispose();
  }
  const data = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.length;
  }
  return { data, shape: [n, ...sampleShape], dtype: "float32" };
}

/**
 * Data-parallel workers holding copies of `model` for `passes` forward
 * passes over `samples` samples, when the backend is a CPU one and the work
 * is big enough to pay for them (see `workerCount`; `workers` overrides the
 * count); `undefined` otherwise. The caller closes them.
 */
export async function parallelModel(
  model: LayersModel,
  samples: number,
  passes: number,
  workers?: number | "auto",
): Promise<DataParallelModel | undefined> {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return undefined;
  const n = Math.min(workerCount(samples * passes * estimateMacs(model), workers), samples);
  if (n <= 1) return undefined;
  const module = customActivationModule(model);
  return await DataParallelModel.create(model, { workers: n, backend, modules: module ? [module] : [] });
}
