/**
 * The toolbox pipeline (`snntoolbox run CONFIG`): the stages the `[tools]`
 * section asks for, in the Python toolbox's order — load and evaluate the
 * input model, parse it, normalize the parsed parameters, convert and
 * simulate the spiking network.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { initBackend } from "../backend/mod.ts";
import type { ToolboxConfig } from "../config/types.ts";
import { ConfigError, DatasetError, InputShapeRequiredError } from "../errors.ts";
import { DATASET_FILES, readDatasetFile } from "../io/dataset.ts";
import { type NDArray, sizeOf } from "../io/ndarray.ts";
import { isFileSync, joinPath } from "../io/paths.ts";
import { evaluateModel, type EvaluationScore, parallelModel } from "../parsing/evaluate.ts";
import { saveParsedModel } from "../parsing/files.ts";
import type { InputModel, LoadOptions } from "../importers/input_model.ts";
import {
  assembleCustomDict,
  getCustomActivationsDict,
  getCustomLayersDict,
} from "../layers/custom_objects.ts";
import { getModelLibrary, type ModelLibrary } from "../importers/mod.ts";
import { createParser } from "../parsing/model_parser.ts";
import type { SimulationResult } from "../simulation/run.ts";
import { runSnnStages, simulationWorkerCount, type SnnStagesResult } from "./snn_stages.ts";
import { SimulationWorkers } from "../simulation/parallel.ts";
import { literalStrings, simulationOptionsFromConfig } from "../simulation/options.ts";
import { shardSelection, type ShardSpec } from "../simulation/shards.ts";
import { clearShardRecord, experimentIdentity, shardRecord, writeShardRecord } from "./shards.ts";
import { readNir } from "../io/nir_read.ts";
import { spikingModelFromNir } from "../simulation/nir.ts";

/** Progress and message callbacks of {@linkcode runPipeline}. */
export interface PipelineHooks {
  /** A stage starts or reports a result (one line). */
  log?: (line: string) => void;
  /** A long stage advanced: `(label, done, total)`. */
  progress?: (label: string, done: number, total: number) => void;
}

/** Options of {@linkcode runPipeline}. */
export interface PipelineOptions {
  /**
   * Simulate only this shard of the test samples (`snntoolbox run --shard
   * I/N`): the simulation logs into `<log dir>/shard-<I>-of-<N>/`, which
   * then holds the shard's record `shard.json` for `snntoolbox merge`
   * (see `lib/pipeline/shards.ts`); no report is written.
   */
  shard?: ShardSpec;
  /** Write the converted network as a NIR graph here (default with `[output] export_nir`: `<path_wd>/<filename_snn>.nir`). */
  exportNir?: string;
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
  /** Path of the NIR graph written (`[output] export_nir`). */
  nirPath?: string;
  /** Stages run, in order. */
  stages: string[];
  /** The shard's record (`shard.json`), when the run simulated one shard. */
  shardFile?: string;
}

/** `path_wd/filename_ann` with the first extension of the library that exists (or as is). */
export function resolveModelPath(stem: string, library: ModelLibrary): string {
  if (isFileSync(stem)) return stem;
  for (const ext of library.extensions) if (isFileSync(stem + ext)) return stem + ext;
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

function report(score: EvaluationScore): AccuracyReport {
  return { top1: score.top1, topK: score.topK, k: score.k, loss: score.loss, count: score.count };
}

/**
 * Load a model; a net that does not state its input shape (Caffe Data
 * layers) takes it from the test data, channels first (an `[H, W, C]`
 * sample with few channels is read as channels-last and reordered).
 */
async function loadWithDataShape(
  library: ModelLibrary,
  path: string,
  x: NDArray | undefined,
  options: LoadOptions,
): Promise<InputModel> {
  try {
    return await library.load(path, options);
  } catch (err) {
    if (!(err instanceof InputShapeRequiredError) || !x) throw err;
    const sample = x.shape.slice(1);
    const last = sample[sample.length - 1];
    const inputShape = sample.length === 3 && last <= 4 && sample[0] > 4
      ? [last, ...sample.slice(0, -1)]
      : sample;
    return await library.load(path, { ...options, inputShape });
  }
}

/**
 * The load options of `[paths] filepath_custom_objects`: as the toolbox's
 * Keras `load`, the custom activations (with those the JSON file defines)
 * and the custom layers.
 */
function customObjectsOptions(config: ToolboxConfig): LoadOptions {
  const file = config.hasOption("paths", "filepath_custom_objects")
    ? config.get("paths", "filepath_custom_objects").trim()
    : "";
  if (!file) return {};
  return { customObjects: assembleCustomDict(getCustomActivationsDict(file), getCustomLayersDict()) };
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
 * import { runPipeline, updateSetup } from "../mod.ts";
 * const config = await updateSetup("testdata/demo/mnist_keras.ini");
 * const result = await runPipeline(config, { log: console.log });
 * console.log(result.parsedAccuracy?.top1);
 * ```
 */
export async function runPipeline(
  config: ToolboxConfig,
  hooks: PipelineHooks = {},
  options: PipelineOptions = {},
): Promise<PipelineResult> {
  await initBackend();
  const log = hooks.log ?? (() => {});
  const tools = (key: string) => config.getBoolean("tools", key);
  const pathWd = config.get("paths", "path_wd");
  const filenameAnn = config.get("paths", "filename_ann");
  if (isNirFile(filenameAnn)) {
    if (options.shard) {
      throw new ConfigError("--shard is not available for a NIR graph (filename_ann = *.nir)");
    }
    return await runNirPipeline(config, joinPath(pathWd, filenameAnn), hooks);
  }
  const exportNir = options.exportNir ??
    (config.hasOption("output", "export_nir") && config.getBoolean("output", "export_nir")
      ? joinPath(pathWd, `${config.get("paths", "filename_snn")}.nir`)
      : undefined);
  const datasetPath = config.get("paths", "dataset_path");
  const logDir = config.get("paths", "log_dir_of_current_run");
  const batchSize = config.getInt("simulation", "batch_size");
  const numToTest = config.getInt("simulation", "num_to_test");
  const topK = config.hasOption("simulation", "top_k") ? config.getInt("simulation", "top_k") : 5;
  const result: PipelineResult = { stages: [] };
  const needsSimulation = tools("convert") || tools("simulate");
  const shard = options.shard;
  if (shard && !tools("simulate")) {
    throw new ConfigError(
      "--shard splits the simulation, but [tools] simulate is False in this configuration",
    );
  }
  if (shard) await clearShardRecord(logDir, shard);

  // The samples as saved (channels-last, or in the input model's layout); see samplePermutation.
  const xTestFile = tools("evaluate_ann") || tools("parse") || needsSimulation
    ? await readDatasetFile(datasetPath, DATASET_FILES.xTest)
    : undefined;
  const yTest = xTestFile ? (await readDatasetFile(datasetPath, DATASET_FILES.yTest)).array : undefined;

  let inputModel: InputModel | undefined;
  let parsed: tf.LayersModel | undefined;
  const library = getModelLibrary(config.get("input", "model_lib"));
  const parsedPath = joinPath(pathWd, `${config.get("paths", "filename_parsed_model")}.h5`);

  if (tools("evaluate_ann") || tools("parse")) {
    const modelPath = resolveModelPath(joinPath(pathWd, config.get("paths", "filename_ann")), library);
    log(`Loading ${config.get("input", "model_lib")} model ${modelPath}`);
    inputModel = await loadWithDataShape(library, modelPath, xTestFile?.array, customObjectsOptions(config));
    result.stages.push("load");
  }

  if (tools("evaluate_ann") && inputModel && xTestFile && yTest) {
    const perm = samplePermutation(
      xTestFile.array.shape.slice(1),
      modelInputShape(inputModel.model),
      xTestFile.path,
    );
    const samples = Math.min(numToTest, xTestFile.array.shape[0] ?? 0);
    const workers = await parallelModel(inputModel.model, samples, 1, options.workers);
    const score = await evaluateModel(inputModel.model, xTestFile.array, yTest, {
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
    const parser = createParser(inputModel, config);
    parser.parse();
    parsed = parser.buildParsedModel();
  } else if (tools("normalize") || needsSimulation) {
    const keras = getModelLibrary("keras");
    log(`Loading parsed model ${parsedPath}`);
    parsed = (await keras.load(parsedPath)).model;
  }
  const simulationWorkers = parsed && xTestFile
    ? startSimulationWorkers(parsed, config, xTestFile.array.shape[0] ?? 0, options)
    : undefined;
  try {
    if (tools("parse") && parsed) {
      await saveParsedModel(parsed, parsedPath);
      result.parsedModelPath = parsedPath;
      result.stages.push("parse");
      log(`Parsed model written to ${parsedPath}`);
    }

    // The parsed model is channels-last; bring the test set into its layout once.
    const xTest = parsed && xTestFile
      ? await permuteSamples(
        xTestFile.array,
        samplePermutation(xTestFile.array.shape.slice(1), modelInputShape(parsed), xTestFile.path),
      )
      : undefined;

    if (tools("parse") && parsed && xTest && yTest) {
      const samples = Math.min(numToTest, xTest.shape[0] ?? 0);
      const workers = await parallelModel(parsed, samples, 1, options.workers);
      const score = await evaluateModel(parsed, xTest, yTest, { batchSize, numToTest, topK, workers })
        .finally(() => workers?.close());
      result.parsedAccuracy = report(score);
      log(`Parsed model accuracy: ${describeScore(score)}`);
    }

    if ((tools("normalize") || needsSimulation) && parsed) {
      const xNormFile = tools("normalize")
        ? await readDatasetFile(datasetPath, DATASET_FILES.xNorm)
        : undefined;
      const xNorm = xNormFile
        ? await permuteSamples(
          xNormFile.array,
          samplePermutation(xNormFile.array.shape.slice(1), modelInputShape(parsed), xNormFile.path),
        )
        : undefined;
      const snn = await runSnnStages({
        parsedModel: parsed,
        config,
        dataset: { xTest, yTest, xNorm },
        logDir,
        progress: (d, t) => hooks.progress?.("simulate", d, t),
        exportNir,
        shard,
        workers: options.workers,
        simulationWorkers,
      });
      result.snn = snn;
      if (snn.scaleFactors) {
        result.scaleFactors = snn.scaleFactors;
        result.stages.push("normalize");
        log(`Normalized parameters (scale factors of ${Object.keys(snn.scaleFactors).length} layers)`);
      }
      if (snn.nir) {
        result.nirPath = snn.nir.path;
        log(`NIR graph written to ${snn.nir.path}`);
        for (const w of snn.nir.warnings) log(`warning: NIR export: ${w}`);
      }
      if (tools("convert")) result.stages.push("convert");
      if (snn.simulation) {
        const sim = snn.simulation;
        result.simulation = sim;
        result.stages.push("simulate");
        if (!shard) {
          log(
            `SNN accuracy: top-1 ${pct(sim.snnAccuracy)}` +
              (sim.topK > 1 ? `, top-${sim.topK} ${pct(sim.snnTopKAccuracy)}` : "") +
              ` (ANN on the same ${sim.numSamples} samples: ${
                pct(sim.annAccuracy)
              }); report: ${logDir}/report.html`,
          );
        }
      }
      if (shard && xTest) {
        const record = shardRecord({
          shard,
          logDir,
          identity: experimentIdentity(config, parsed, { xTest, yTest, xNorm }),
          selection: shardSelection(xTest.shape[0] ?? 0, simulationOptionsFromConfig(config), shard),
          result,
          plotVars: literalStrings(config.getLiteral("output", "plot_vars"), "[output] plot_vars"),
        });
        result.shardFile = await writeShardRecord(logDir, record);
        const samples = record.selection.sampleIndices.length;
        const sim = result.simulation;
        log(
          `Shard ${shard.index} of ${shard.count}: ${samples} of the ${
            record.selection.numBatches * record.selection.batchSize
          } samples` + (sim ? `, SNN top-1 ${pct(sim.snnAccuracy)} on them` : "") +
            `; record: ${result.shardFile} (merge all ${shard.count} with 'snntoolbox merge ${logDir}')`,
        );
      }
    }
    if (xTestFile && xTest && sizeOf(xTest.shape) === 0) {
      throw new DatasetError(`${xTestFile.path}: the test set is empty`);
    }
    return result;
  } finally {
    await simulationWorkers?.close();
  }
}

/**
 * Start the simulation's data-parallel workers now when `[tools] simulate`
 * will use more than one (see `simulationWorkerCount`), so that their
 * start-up overlaps saving, evaluating and normalizing the parsed model.
 * A model the simulator cannot run starts none: the conversion reports it.
 */
function startSimulationWorkers(
  parsed: tf.LayersModel,
  config: ToolboxConfig,
  numSamples: number,
  options: PipelineOptions,
): SimulationWorkers | undefined {
  if (!config.getBoolean("tools", "simulate")) return undefined;
  let count: number;
  try {
    count = simulationWorkerCount(parsed, config, numSamples, options.workers, options.shard);
  } catch {
    return undefined;
  }
  return count > 1 ? SimulationWorkers.spawn(count, tf.getBackend() as "wasm" | "cpu") : undefined;
}

/** Whether `[paths] filename_ann` names a NIR graph (`.nir`): `run` then simulates it as it is. */
export function isNirFile(path: string): boolean {
  return path.toLowerCase().endsWith(".nir");
}

/**
 * `run` on a NIR graph: the network is already converted, so loading,
 * evaluating, parsing and normalizing do not apply; the graph is rebuilt for
 * the INI simulator (its IF nodes' threshold and reset replace `[cell]`'s)
 * and simulated on the test set.
 */
async function runNirPipeline(
  config: ToolboxConfig,
  path: string,
  hooks: PipelineHooks,
): Promise<PipelineResult> {
  const log = hooks.log ?? (() => {});
  const result: PipelineResult = { stages: [] };
  log(`Loading NIR graph ${path}`);
  const { graph } = await readNir(path);
  const nir = spikingModelFromNir(graph, path);
  result.stages.push("load");
  log(
    `NIR graph: IF neurons firing at v >= ${nir.cell.vThresh}, reset to ${nir.cell.vReset} ` +
      "([cell] v_thresh, v_reset and reset come from the graph; evaluate_ann, parse and normalize do not apply)",
  );
  try {
    const simulate = config.getBoolean("tools", "simulate");
    const datasetPath = config.get("paths", "dataset_path");
    const xFile = simulate ? await readDatasetFile(datasetPath, DATASET_FILES.xTest) : undefined;
    const yTest = xFile ? (await readDatasetFile(datasetPath, DATASET_FILES.yTest)).array : undefined;
    const xTest = xFile
      ? await permuteSamples(
        xFile.array,
        samplePermutation(xFile.array.shape.slice(1), modelInputShape(nir.model), xFile.path),
      )
      : undefined;
    const snn = await runSnnStages({
      parsedModel: nir.model,
      config,
      dataset: { xTest, yTest },
      logDir: config.get("paths", "log_dir_of_current_run"),
      progress: (d, t) => hooks.progress?.("simulate", d, t),
      normalize: false,
      cell: nir.cell,
    });
    result.snn = snn;
    result.stages.push("convert");
    if (snn.simulation) {
      result.simulation = snn.simulation;
      result.stages.push("simulate");
      log(`SNN accuracy: top-1 ${pct(snn.simulation.snnAccuracy)} on ${snn.simulation.numSamples} samples`);
    }
    return result;
  } finally {
    nir.model.dispose();
  }
}
