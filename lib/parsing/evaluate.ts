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
import { customActivationModule } from "../layers/activations.ts";
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
  /** Data-parallel workers holding a copy of the model: each batch is split over them. */
  workers?: DataParallelModel;
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

/** Running totals of loss, top-1 and top-k hits over batches of predictions. */
class Scores {
  loss = 0;
  top1 = 0;
  topk = 0;
  count = 0;
  constructor(readonly k: number) {}

  /** Score the rows of `pred` (`[n, c]`, flat) against class indices `labels`. */
  add(pred: Float32Array, c: number, labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) {
      const row = pred.subarray(i * c, (i + 1) * c);
      const v = row[labels[i]];
      let greater = 0;
      let sum = 0;
      for (let j = 0; j < c; j++) {
        if (row[j] > v) greater++;
        sum += row[j];
      }
      if (greater === 0) this.top1++;
      if (greater < this.k) this.topk++;
      const p = Math.min(1 - 1e-7, Math.max(1e-7, v / sum));
      this.loss -= Math.log(p);
      this.count++;
    }
  }

  /** The mean scores. */
  result(): EvaluationScore {
    const n = this.count;
    return { loss: this.loss / n, top1: this.top1 / n, topK: this.topk / n, k: this.k, count: n };
  }
}

/** The (first) output of `model` on samples `[start, end)` of `x`, as flat rows and their width. */
async function predictRows(
  model: LayersModel,
  x: NDArray,
  start: number,
  end: number,
  perm?: number[],
  workers?: DataParallelModel,
): Promise<{ pred: Float32Array; c: number }> {
  const out = await predictBatch(model, x, start, end, perm, workers);
  const pred = (await out.data()) as Float32Array;
  const c = out.shape[out.shape.length - 1] ?? 1;
  out.dispose();
  return { pred, c };
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
  const scores = new Scores(options.topK ?? 5);
  const labels = labelIndices(y);
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const { pred, c } = await predictRows(model, x, start, end, options.inputPerm, options.workers);
    scores.add(pred, c, labels.subarray(start, end));
  }
  return scores.result();
}

/** One batch of a {@linkcode DataFlow}: inputs and labels (one-hot or class indices). */
export type DataFlowBatch = { readonly x: NDArray; readonly y: NDArray } | readonly [NDArray, NDArray];

/**
 * Batches of test samples, as the Python toolbox's `dataflow` argument (a
 * Keras `ImageDataGenerator.flow_from_directory` iterator) gives them: any
 * iterable or async iterable of {@linkcode DataFlowBatch}es, e.g.
 * `TestSet.batches()`.
 */
export type DataFlow = Iterable<DataFlowBatch> | AsyncIterable<DataFlowBatch>;

/**
 * Evaluate `model` on the batches of `dataflow`: at most
 * `floor(numToTest / batchSize)` batches when both are given (the toolbox's
 * `steps`), else every batch. Scores as {@linkcode evaluateModel}.
 */
export async function evaluateDataflow(
  model: LayersModel,
  dataflow: DataFlow,
  options: EvaluateOptions = {},
): Promise<EvaluationScore> {
  const steps = options.numToTest !== undefined && options.batchSize !== undefined
    ? Math.floor(options.numToTest / Math.max(1, options.batchSize))
    : Infinity;
  const scores = new Scores(options.topK ?? 5);
  let step = 0;
  for await (const batch of dataflow) {
    if (step++ >= steps) break;
    const [x, y] = Array.isArray(batch) ? batch : [(batch as { x: NDArray }).x, (batch as { y: NDArray }).y];
    const n = x.shape[0] ?? 0;
    const labels = labelIndices(y);
    if (labels.length < n) {
      throw new DatasetError(`a dataflow batch has ${n} samples but ${labels.length} labels`);
    }
    const { pred, c } = await predictRows(model, x, 0, n, options.inputPerm);
    scores.add(pred, c, labels.subarray(0, n));
  }
  if (scores.count === 0) throw new DatasetError("no samples to evaluate (the dataflow gave no batch)");
  return scores.result();
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
