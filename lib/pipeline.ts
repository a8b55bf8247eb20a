/**
 * The toolbox pipeline (`snntoolbox run CONFIG`): the stages the `[tools]`
 * section asks for, in the Python toolbox's order — load and evaluate the
 * input model, parse it, normalize the parsed parameters, convert and
 * simulate the spiking network.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "./backend/mod.ts";
import type { ToolboxConfig } from "./config/types.ts";
import { ConfigError, DatasetError } from "./errors.ts";
import { type NDArray, sizeOf } from "./io/ndarray.ts";
import { readNpzArray } from "./io/npz.ts";
import { evaluateModel, type EvaluationScore, parallelModel } from "./parsing/evaluate.ts";
import { saveParsedModel } from "./parsing/files.ts";
import type { InputModel } from "./parsing/input_model.ts";
import { getModelLibrary, type ModelLibrary } from "./parsing/model_libs/mod.ts";
import type { SimulationResult } from "./simulation/run.ts";
import { runSnnStages, type SnnStagesResult } from "./simulation/pipeline.ts";

/** Progress and message callbacks of {@linkcode runPipeline}. */
export interface PipelineHooks {
  /** A stage starts or reports a result (one line). */
  log?: (line: string) => void;
  /** A long stage advanced: `(label, done, total)`. */
  progress?: (label: string, done: number, total: number) => void;
  /**
   * Data-parallel workers (WASM and CPU backends) for evaluation, the
   * normalization's activation passes and the simulation: a count, or
   * `auto` (the default: `SNNTOOLBOX_WORKERS`, else one per core when the
   * stage's work is big enough to pay for them, else none).
   */
  workers?: number | "auto";
}

/** Accuracy of a model on the test samples. */
export interface AccuracyReport {
  /** Top-1 accuracy (fraction). */
  top1: number;
  /** Top-k accuracy (fraction). */
  topK: number;
  /** The `k`. */
  k: number;
  /** Mean categorical cross-entropy. */
  loss: number;
  /** Samples evaluated. */
  count: number;
}

/** What {@linkcode runPipeline} did and measured. */
export interface PipelineResult {
  /** Accuracy of the input (source) model, when `[tools] evaluate_ann`. */
  annAccuracy?: AccuracyReport;
  /** Accuracy of the parsed model, when parsed or evaluated. */
  parsedAccuracy?: AccuracyReport;
  /** Path of the parsed model written (`<path_wd>/<filename_parsed_model>.h5`). */
  parsedModelPath?: string;
  /** Normalization scale factors per layer, when `[tools] normalize`. */
  scaleFactors?: Record<string, number>;
  /** The simulation's measurements, when `[tools] simulate`. */
  simulation?: SimulationResult;
  /** Everything the normalization / conversion / simulation stages returned (files, sweep, MACs). */
  snn?: SnnStagesResult;
  /** Stages run, in order. */
  stages: string[];
}

function pathJoin(dir: string, name: string): string {
  if (name.startsWith("/") || dir === "") return name;
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** `path_wd/filename_ann` with the first extension of the library that exists (or as is). */
export function resolveModelPath(stem: string, library: ModelLibrary): string {
  if (isFile(stem)) return stem;
  for (const ext of library.extensions) if (isFile(stem + ext)) return stem + ext;
  return stem;
}

/** The channels-last shape of a channels-first sample shape `[C, ...spatial]`. */
function channelsLast(shape: readonly number[]): number[] {
  return shape.length >= 2 ? [...shape.slice(1), shape[0]] : [...shape];
}

/**
 * How dataset samples map onto a model input: `undefined` when the sample
 * shape equals `expected`, else the permutation that turns a channels-last
 * sample into the channels-first `expected` (or the reverse).
 */
export function samplePermutation(
  sampleShape: readonly number[],
  expected: readonly number[],
  file: string,
): number[] | undefined {
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((d, i) => b[i] === null || b[i] === undefined || b[i] < 0 || d === b[i]);
  if (same(sampleShape, expected)) return undefined;
  const r = sampleShape.length;
  if (r >= 2 && same(channelsLast(sampleShape), expected)) {
    return [...Array.from({ length: r - 1 }, (_, i) => i + 1), 0]; // CHW sample → HWC model
  }
  if (r >= 2 && same(sampleShape, channelsLast(expected))) {
    return [r - 1, ...Array.from({ length: r - 1 }, (_, i) => i)]; // HWC sample → CHW model
  }
  throw new DatasetError(
    `${file}: samples of shape [${sampleShape.join(", ")}] do not fit the model input ` +
      `[${expected.map((d) => d ?? "?").join(", ")}] (in either channel order)`,
    { file },
  );
}

function modelInputShape(model: tf.LayersModel): number[] {
  const shape = model.inputs[0].shape;
  return shape.slice(1).map((d) => (d === null ? -1 : d));
}

/** Apply a per-sample axis permutation to a whole dataset `[N, ...]`. */
async function permuteSamples(x: NDArray, perm: number[] | undefined): Promise<NDArray> {
  if (!perm) return x;
  const out = tf.tidy(() => {
    const t = tf.tensor(x.data as Float32Array, x.shape, "float32");
    return tf.transpose(t, [0, ...perm.map((p) => p + 1)]);
  });
  const data = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  return { data, shape, dtype: "float32" };
}

function toFloat32(x: NDArray): NDArray<Float32Array> {
  if (x.data instanceof Float32Array) return x as NDArray<Float32Array>;
  return { data: Float32Array.from(x.data as ArrayLike<number>, Number), shape: x.shape, dtype: "float32" };
}

function report(score: EvaluationScore): AccuracyReport {
  return { top1: score.top1, topK: score.topK, k: score.k, loss: score.loss, count: score.count };
}

async function readDatasetArray(dir: string, name: string): Promise<NDArray> {
  const path = pathJoin(dir, `${name}.npz`);
  if (!isFile(path)) {
    throw new DatasetError(`${path}: dataset file not found ([paths] dataset_path = ${dir})`, { file: path });
  }
  return toFloat32(await readNpzArray(path));
}

/**
 * Load a model; a net that does not state its input shape (Caffe Data
 * layers) takes it from the test data, channels first (an `[H, W, C]`
 * sample with few channels is read as channels-last and reordered).
 */
async function loadWithDataShape(library: ModelLibrary, path: string, x?: NDArray): Promise<InputModel> {
  try {
    return await library.load(path);
  } catch (err) {
    if (!(err instanceof ConfigError) || !/not stated/.test(err.message) || !x) throw err;
    const sample = x.shape.slice(1);
    const last = sample[sample.length - 1];
    const inputShape = sample.length === 3 && last <= 4 && sample[0] > 4
      ? [last, ...sample.slice(0, -1)]
      : sample;
    return await library.load(path, { inputShape });
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function describeScore(score: EvaluationScore): string {
  const topK = score.k > 1 ? `, top-${score.k} ${pct(score.topK)}` : "";
  return `top-1 ${pct(score.top1)}${topK} on ${score.count} samples`;
}

/**
 * Run the stages `[tools]` asks for on a resolved configuration (see
 * `updateSetup`). Every stage reads its settings from `config`.
 *
 * @example
 * ```ts
 * import { runPipeline, updateSetup } from "./mod.ts";
 * const config = await updateSetup("testdata/demo/mnist_keras.ini");
 * const result = await runPipeline(config, { log: console.log });
 * console.log(result.parsedAccuracy?.top1);
 * ```
 */
export async function runPipeline(config: ToolboxConfig, hooks: PipelineHooks = {}): Promise<PipelineResult> {
  await initBackend();
  const log = hooks.log ?? (() => {});
  const tools = (key: string) => config.getBoolean("tools", key);
  const pathWd = config.get("paths", "path_wd");
  const datasetPath = config.get("paths", "dataset_path");
  const logDir = config.get("paths", "log_dir_of_current_run");
  const batchSize = config.getInt("simulation", "batch_size");
  const numToTest = config.getInt("simulation", "num_to_test");
  const topK = config.hasOption("simulation", "top_k") ? config.getInt("simulation", "top_k") : 5;
  const result: PipelineResult = { stages: [] };
  const needsSimulation = tools("convert") || tools("simulate");

  const xTestRaw = tools("evaluate_ann") || tools("parse") || needsSimulation
    ? await readDatasetArray(datasetPath, "x_test")
    : undefined;
  const yTest = xTestRaw ? await readDatasetArray(datasetPath, "y_test") : undefined;
  const xTestFile = pathJoin(datasetPath, "x_test.npz");

  let inputModel: InputModel | undefined;
  let parsed: tf.LayersModel | undefined;
  const library = getModelLibrary(config.get("input", "model_lib"));
  const parsedPath = pathJoin(pathWd, `${config.get("paths", "filename_parsed_model")}.h5`);

  if (tools("evaluate_ann") || tools("parse")) {
    const modelPath = resolveModelPath(pathJoin(pathWd, config.get("paths", "filename_ann")), library);
    log(`Loading ${config.get("input", "model_lib")} model ${modelPath}`);
    inputModel = await loadWithDataShape(library, modelPath, xTestRaw);
    result.stages.push("load");
  }

  if (tools("evaluate_ann") && inputModel && xTestRaw && yTest) {
    const perm = samplePermutation(xTestRaw.shape.slice(1), modelInputShape(inputModel.model), xTestFile);
    const samples = Math.min(numToTest, xTestRaw.shape[0] ?? 0);
    const workers = await parallelModel(inputModel.model, samples, 1, hooks.workers);
    const score = await evaluateModel(inputModel.model, xTestRaw, yTest, {
      batchSize,
      numToTest,
      topK,
      inputPerm: perm,
      workers,
    }).finally(() => workers?.close());
    result.annAccuracy = report(score);
    result.stages.push("evaluate_ann");
    log(`Input model accuracy: ${describeScore(score)}`);
  }

  if (tools("parse") && inputModel) {
    const parser = library.createParser(inputModel, config);
    parser.parse();
    parsed = parser.buildParsedModel();
    await saveParsedModel(parsed, parsedPath);
    result.parsedModelPath = parsedPath;
    result.stages.push("parse");
    log(`Parsed model written to ${parsedPath}`);
  } else if (tools("normalize") || needsSimulation) {
    const keras = getModelLibrary("keras");
    log(`Loading parsed model ${parsedPath}`);
    parsed = (await keras.load(parsedPath)).model;
  }

  // The parsed model is channels-last; bring the test set into its layout once.
  const xTest = parsed && xTestRaw
    ? await permuteSamples(
      xTestRaw,
      samplePermutation(xTestRaw.shape.slice(1), modelInputShape(parsed), xTestFile),
    )
    : undefined;

  if (tools("parse") && parsed && xTest && yTest) {
    const samples = Math.min(numToTest, xTest.shape[0] ?? 0);
    const workers = await parallelModel(parsed, samples, 1, hooks.workers);
    const score = await evaluateModel(parsed, xTest, yTest, { batchSize, numToTest, topK, workers })
      .finally(() => workers?.close());
    result.parsedAccuracy = report(score);
    log(`Parsed model accuracy: ${describeScore(score)}`);
  }

  if ((tools("normalize") || needsSimulation) && parsed) {
    const xNormFile = pathJoin(datasetPath, "x_norm.npz");
    const xNormRaw = tools("normalize") ? await readDatasetArray(datasetPath, "x_norm") : undefined;
    const xNorm = xNormRaw
      ? await permuteSamples(
        xNormRaw,
        samplePermutation(xNormRaw.shape.slice(1), modelInputShape(parsed), xNormFile),
      )
      : undefined;
    const snn = await runSnnStages({
      parsedModel: parsed,
      config,
      dataset: { xTest, yTest, xNorm },
      logDir,
      progress: (d, t) => hooks.progress?.("simulate", d, t),
      workers: hooks.workers,
    });
    result.snn = snn;
    if (snn.scaleFactors) {
      result.scaleFactors = snn.scaleFactors;
      result.stages.push("normalize");
      log(`Normalized parameters (scale factors of ${Object.keys(snn.scaleFactors).length} layers)`);
    }
    if (tools("convert")) result.stages.push("convert");
    if (snn.simulation) {
      const sim = snn.simulation;
      result.simulation = sim;
      result.stages.push("simulate");
      log(
        `SNN accuracy: top-1 ${pct(sim.snnAccuracy)}` +
          (sim.topK > 1 ? `, top-${sim.topK} ${pct(sim.snnTopKAccuracy)}` : "") +
          ` (ANN on the same ${sim.numSamples} samples: ${
            pct(sim.annAccuracy)
          }); report: ${logDir}/report.html`,
      );
    }
  }
  if (xTest && sizeOf(xTest.shape) === 0) throw new DatasetError(`${xTestFile}: the test set is empty`);
  return result;
}
