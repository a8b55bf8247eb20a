/**
 * Data-based weight normalization, as the Python toolbox's
 * `normalize_parameters` does it: every layer with parameters gets a scale
 * factor λ = the `percentile`-th percentile of its non-zero activations on
 * the normalization set; its weights are multiplied by λ(inbound) / λ(layer)
 * and its biases divided by λ(layer). The input's factor is 1, and layers
 * with a softmax activation use 1 when the factors are applied (their factor
 * is still computed and saved). The factors are written to
 * `<logDir>/normalization/<percentile>.json` and reused from there when the
 * file exists.
 *
 * Memory: activations are computed layer by layer, in chunks of samples
 * sized so that a chunk's forward pass stays below about 16 MB; for each
 * layer only its non-zero activation values are kept (float32), so the peak
 * is one layer's non-zero activations over the normalization set plus one
 * chunk's forward pass — never two layers at once. (The price: the layers
 * before each layer are recomputed for it, as in the toolbox.)
 *
 * @module
 */
import { type Layer, type LayersModel, type Tensor, tf } from "../../deps.ts";
import { ConfigError, DatasetError, SnnToolboxError, UnsupportedLayerError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { type NDArray, sizeOf, toFloat32 } from "../io/ndarray.ts";
import type { ToolboxConfig } from "../config/types.ts";
import type { DataParallelModel } from "../backend/workers.ts";
import { NonZeroCollector, percentile as percentileOf } from "./percentile.ts";

/** Options of {@linkcode normalizeParameters} (the `[normalization]` section plus the batch size). */
export interface NormalizationOptions {
  /** `[normalization] percentile`: percentile of non-zero activations used as scale factor (default 99.9). */
  percentile?: number;
  /** File name stem of the saved factors (the config's literal text, e.g. `"99.9"`); default `String(percentile)`. */
  percentileLabel?: string;
  /** `[normalization] normalization_schedule`: lower the percentile by layer index (`int(p - 0.02 i)`). */
  normalizationSchedule?: boolean;
  /**
   * `[simulation] batch_size`. As in the toolbox, the normalization set is
   * truncated to a multiple of it (when that leaves any sample). Default 1.
   */
  batchSize?: number;
  /** Run log directory: factors go to `<logDir>/normalization/<label>.json` and are reused from there. */
  logDir?: string;
  /** Scale factors to apply instead of computing or loading them (layer name → factor). */
  scaleFactors?: Record<string, number>;
  /** Called after each layer's factor is computed: `(layersDone, layersTotal)`. */
  progress?: (done: number, total: number) => void;
  /**
   * Data-parallel workers holding a copy of the model: the activation passes
   * are split over them (the same values as computed here).
   */
  workers?: DataParallelModel;
}

/** What {@linkcode normalizeParameters} did. */
export interface NormalizationResult {
  /** Scale factor of each layer with parameters (and of the input layer, 1), in layer order. */
  scaleFactors: Record<string, number>;
  /** Fraction of zero activations per layer with parameters (empty when the factors were reused). */
  sparsity: Record<string, number>;
  /** The factors file written or read, when `logDir` was given. */
  file?: string;
  /** Whether the factors came from an existing file or from `options.scaleFactors`. */
  reused: boolean;
}

/** Read the `[normalization]` options (and `[simulation] batch_size`) from a configuration. */
export function normalizationOptionsFromConfig(config: ToolboxConfig, logDir?: string): NormalizationOptions {
  const label = config.get("normalization", "percentile").trim();
  return {
    percentile: config.getFloat("normalization", "percentile"),
    percentileLabel: label,
    normalizationSchedule: config.getBoolean("normalization", "normalization_schedule"),
    batchSize: config.getInt("simulation", "batch_size"),
    logDir,
  };
}

/** The toolbox's normalization schedule: percentile `int(p - 0.02 * layerIdx)`. */
export function applyNormalizationSchedule(perc: number, layerIdx: number): number {
  return Math.trunc(perc - layerIdx * 0.02);
}

/** Scale factor of a layer: the percentile of its non-zero activations, or 1 when all are zero. */
export function getScaleFactor(nonZeroActivations: Float32Array, perc: number): number {
  return percentileOf(nonZeroActivations, perc) ?? 1;
}

const PARAMETRIC_TYPES = new Set(["Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "Conv2DTranspose"]);

/** Name of the model's input layer (also for Sequential models, whose `layers` omit it). */
function inputLayerName(model: LayersModel): string {
  return model.inputs[0].sourceLayer.name;
}

function hasParams(layer: Layer): boolean {
  return layer.weights.length > 0;
}

function activationOf(layer: Layer): string {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === "string" ? a : "linear";
}

/** Inbound layers with parameters of `layer`, looking through layers without parameters. */
function inboundWithParams(layer: Layer): Layer[] {
  const out: Layer[] = [];
  for (const inb of layer.inboundNodes[0]?.inboundLayers ?? []) {
    if (hasParams(inb)) out.push(inb);
    else out.push(...inboundWithParams(inb));
  }
  return out;
}

function outputChannels(layer: Layer): number {
  const shape = layer.outputShape as (number | null)[];
  return Number(shape[shape.length - 1]);
}

/**
 * Forward the normalization set through `sub` in chunks and collect the
 * non-zero output values. At most `numSamples` samples are used.
 */
async function collectNonZero(
  sub: LayersModel,
  x: Float32Array,
  sampleShape: number[],
  numSamples: number,
  workers?: DataParallelModel,
): Promise<NonZeroCollector> {
  const sampleSize = sizeOf(sampleShape);
  // Footprint of one sample's forward pass: the outputs of every layer of the sub-model.
  const perSample = sub.layers.reduce((n, l) => {
    const shapes = (Array.isArray(l.outputShape[0]) ? l.outputShape : [l.outputShape]) as (number | null)[][];
    return n + shapes.reduce((m, s) => m + sizeOf(s.slice(1).map((d) => d ?? 1)), 0);
  }, sampleSize);
  // Chunk so that one chunk's forward pass stays below ~4M floats (16 MB).
  const chunk = Math.max(1, Math.min(256, Math.floor((1 << 22) / perSample)));
  const collector = new NonZeroCollector();
  const layer = sub.outputs[0].sourceLayer.name;
  for (let start = 0; start < numSamples; start += chunk) {
    const n = Math.min(chunk, numSamples - start);
    const data = x.subarray(start * sampleSize, (start + n) * sampleSize);
    if (workers) {
      collector.add(
        (await workers.predict({ data, shape: [n, ...sampleShape], dtype: "float32" }, layer)).data,
      );
      continue;
    }
    const out = tf.tidy(() => sub.predict(tf.tensor(data, [n, ...sampleShape])) as Tensor);
    collector.add((await out.data()) as Float32Array);
    out.dispose();
  }
  return collector;
}

async function readFactors(file: string): Promise<Record<string, number> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new SnnToolboxError(`cannot read scale factors ${file}: ${(err as Error).message}`, {
      cause: err,
      file,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`scale factors ${file}: not valid JSON (${(err as Error).message})`, {
      cause: err,
      file,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`scale factors ${file}: expected a JSON object of layer name → number`, { file });
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v === 0) {
      throw new ConfigError(
        `scale factors ${file}: layer '${k}' has ${JSON.stringify(v)}, expected a non-zero number`,
        {
          file,
        },
      );
    }
    out[k] = v;
  }
  return out;
}

/** Compute the scale factor of every layer with parameters from the normalization set. */
async function computeFactors(
  model: LayersModel,
  xNorm: NDArray,
  options: NormalizationOptions,
): Promise<{ scaleFactors: Record<string, number>; sparsity: Record<string, number> }> {
  const sampleShape = xNorm.shape.slice(1);
  const expected = model.inputs[0].shape.slice(1);
  if (sampleShape.length !== expected.length || expected.some((d, i) => d !== null && d !== sampleShape[i])) {
    throw new DatasetError(
      `normalization set has sample shape [${sampleShape.join(", ")}], the model expects [${
        expected.join(", ")
      }]`,
    );
  }
  const total = xNorm.shape[0] ?? 0;
  const bs = Math.max(1, options.batchSize ?? 1);
  // The toolbox drops the last incomplete batch; keep all samples if that would leave none.
  const numSamples = total >= bs ? total - (total % bs) : total;
  const x = toFloat32(xNorm);
  const perc0 = options.percentile ?? 99.9;
  const scaleFactors: Record<string, number> = { [inputLayerName(model)]: 1 };
  const sparsity: Record<string, number> = {};
  const layers = model.layers.filter(hasParams);
  for (const [i, layer] of layers.entries()) {
    const sub = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
    const collector = await collectNonZero(sub, x, sampleShape, numSamples, options.workers);
    const nonZero = collector.values();
    sparsity[layer.name] = collector.seen ? 1 - nonZero.length / collector.seen : 0;
    const perc = options.normalizationSchedule ? applyNormalizationSchedule(perc0, i) : perc0;
    scaleFactors[layer.name] = getScaleFactor(nonZero, perc);
    options.progress?.(i + 1, layers.length);
  }
  return { scaleFactors, sparsity };
}

function factorOf(factors: Record<string, number>, name: string, file?: string): number {
  const f = factors[name];
  if (f === undefined) {
    throw new ConfigError(
      `scale factors${file ? ` ${file}` : ""} have no entry for layer '${name}' (found: ${
        Object.keys(factors).join(", ")
      })`,
      { file },
    );
  }
  return f;
}

/** Scale the kernel of `layer` by per-input-channel factors (several inbound layers) or one factor. */
function scaledKernel(
  layer: Layer,
  kernel: Tensor,
  inbound: Layer[],
  factors: Record<string, number>,
  inputName: string,
  own: number,
  file?: string,
): Tensor {
  if (inbound.length <= 1) {
    const prev = factorOf(factors, inbound.length ? inbound[0].name : inputName, file);
    return tf.mul(kernel, prev / own);
  }
  const type = layer.getClassName();
  if (type === "Dense") {
    throw new UnsupportedLayerError(
      `normalization: Dense layer '${layer.name}' receives input from several layers with parameters ` +
        `(${inbound.map((l) => l.name).join(", ")}); only convolutions can be normalized per inbound layer`,
    );
  }
  // Input channels are axis -2 of conv kernels, axis -1 of Conv2DTranspose kernels ([kh, kw, out, in]).
  const axis = type === "Conv2DTranspose" ? kernel.rank - 1 : kernel.rank - 2;
  const perChannel: number[] = [];
  for (const inb of inbound) {
    const f = factorOf(factors, inb.name, file) / own;
    for (let c = 0; c < outputChannels(inb); c++) perChannel.push(f);
  }
  if (perChannel.length !== kernel.shape[axis]) {
    throw new UnsupportedLayerError(
      `normalization: layer '${layer.name}' has ${
        kernel.shape[axis]
      } input channels, its inbound layers with ` +
        `parameters (${inbound.map((l) => l.name).join(", ")}) provide ${perChannel.length}`,
    );
  }
  const bshape = kernel.shape.map((_, i) => (i === axis ? perChannel.length : 1));
  return tf.mul(kernel, tf.tensor(perChannel, bshape));
}

/**
 * Apply scale factors to the parameters of every layer (in place). The new
 * weights are written from the CPU, so they stay readable synchronously on
 * every backend (see lib/backend/webgpu.ts).
 */
async function applyFactors(
  model: LayersModel,
  factors: Record<string, number>,
  file?: string,
): Promise<void> {
  const inputName = inputLayerName(model);
  for (const layer of model.layers) {
    if (!hasParams(layer)) continue;
    const type = layer.getClassName();
    if (!PARAMETRIC_TYPES.has(type)) {
      throw new UnsupportedLayerError(
        `normalization: layer '${layer.name}' of type ${type} has parameters; expected only ` +
          `${[...PARAMETRIC_TYPES].join(", ")} in a parsed model (BatchNormalization must be folded)`,
      );
    }
    const own = activationOf(layer) === "softmax" ? 1 : factorOf(factors, layer.name, file);
    const inbound = inboundWithParams(layer);
    const next = tf.tidy(() => {
      const [kernel, ...rest] = layer.getWeights();
      const w = scaledKernel(layer, kernel, inbound, factors, inputName, own, file);
      const b = rest.length ? [tf.div(rest[0], own), ...rest.slice(1)] : [];
      return [w, ...b];
    });
    const values = await Promise.all(next.map(async (t) => (await t.data()) as Float32Array));
    const fresh = values.map((v, i) => tf.tensor(v, next[i].shape, "float32"));
    tf.dispose(next);
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}

/**
 * Normalize the parameters of `model` in place (see the module docs for the
 * method and its memory bound). `xNorm` is the normalization set (NHWC,
 * samples first); it may be omitted when the factors are given in
 * `options.scaleFactors` or already saved under `options.logDir`.
 *
 * @example
 * ```ts
 * import { normalizeParameters } from "./mod.ts";
 * declare const model: import("./mod.ts").LayersModel;
 * declare const xNorm: import("./mod.ts").NDArray;
 * const { scaleFactors } = await normalizeParameters(model, xNorm, { percentile: 99.9, logDir: "log" });
 * ```
 */
export async function normalizeParameters(
  model: LayersModel,
  xNorm: NDArray | undefined,
  options: NormalizationOptions = {},
): Promise<NormalizationResult> {
  const label = options.percentileLabel ?? String(options.percentile ?? 99.9);
  const file = options.logDir ? `${options.logDir}/normalization/${label}.json` : undefined;
  let factors = options.scaleFactors;
  let reused = factors !== undefined;
  let sparsity: Record<string, number> = {};
  if (!factors && file) {
    factors = await readFactors(file);
    reused = factors !== undefined;
  }
  if (!factors) {
    if (!xNorm) {
      throw new DatasetError(
        "normalization needs a normalization set (x_norm) or saved scale factors" +
          (file ? `; none found at ${file}` : ""),
      );
    }
    ({ scaleFactors: factors, sparsity } = await computeFactors(model, xNorm, options));
    if (file) {
      await Deno.mkdir(`${options.logDir}/normalization`, { recursive: true });
      await writeFileAtomic(file, JSON.stringify(factors, null, 1) + "\n");
    }
  }
  await applyFactors(model, factors, reused ? file : undefined);
  return { scaleFactors: factors, sparsity, file, reused };
}
