/**
 * Evaluating and running any TF.js layers model (the input model or the
 * parsed one) on arrays: loss, top-1 and top-k accuracy like Keras'
 * `evaluate` with `categorical_crossentropy`, `accuracy` and
 * `top_k_categorical_accuracy`.
 *
 * @module
 */
import { type LayersModel, tf } from "../../deps.ts";
import { DatasetError } from "../errors.ts";
import { labelIndices } from "../io/dataset.ts";
import { type Float32NDArray, type NDArray, sizeOf, toFloat32 } from "../io/ndarray.ts";

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

export { labelIndices };

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
function predictBatch(
  model: LayersModel,
  x: NDArray,
  start: number,
  end: number,
  perm?: number[],
): tf.Tensor {
  const input = batchTensor(x, start, end, perm);
  try {
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
  const k = options.topK ?? 5;
  const labels = labelIndices(y);
  let loss = 0;
  let top1 = 0;
  let topk = 0;
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const out = predictBatch(model, x, start, end, options.inputPerm);
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
  const chunks: Float32Array[] = [];
  let sampleShape: number[] = [];
  // Output layout back to the source's: the inverse of outputPerm, batch axis first.
  const back = options.outputPerm &&
    [0, ...options.outputPerm.map((_, i) => options.outputPerm!.indexOf(i) + 1)];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    let out = predictBatch(model, x, start, end, options.inputPerm);
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
