/**
 * snntoolbox for Deno: parse a trained artificial neural network from Keras,
 * ONNX/PyTorch, Caffe or Lasagne into one standard model, and prepare it for
 * conversion into a spiking neural network, driven by the same INI
 * experiment files as the Python SNN conversion toolbox.
 *
 * This module is the stable public API: the Python toolbox's parsing API
 * under camelCase names (see docs/porting.md for the name-by-name table),
 * the pipeline and its stages, the files a user reads and writes, and the
 * errors. Internals (decoders, interpreters, simulator building blocks) are
 * exported from the `./unstable/*` entry points instead, which may change
 * in any release.
 *
 * @example
 * ```ts
 * import { initBackend, VERSION } from "./mod.ts";
 * const backend = await initBackend();
 * console.log(`snntoolbox ${VERSION} on ${backend.name}`);
 * ```
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Foundation: version, compute backend, errors, arrays
// ---------------------------------------------------------------------------
export { VERSION } from "./lib/version.ts";
export {
  type AdapterDescription,
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  DEFAULT_THREADS,
  initBackend,
  type InitBackendOptions,
  MAX_WASM_THREADS,
  requestedBackend,
} from "./lib/backend/mod.ts";
export { DataParallelModel, type DataParallelOptions } from "./lib/backend/workers.ts";
export {
  ConfigError,
  DatasetError,
  describeError,
  InputShapeRequiredError,
  ModelFormatError,
  NotAvailableError,
  ShardError,
  SnnToolboxError,
  type SnnToolboxErrorOptions,
  UnsupportedLayerError,
  UsageError,
} from "./lib/errors.ts";
export { type ConfigErrorDetails, PythonConfigError, type PythonErrorName } from "./lib/config/errors.ts";
export {
  type DType,
  float32Array,
  type Float32NDArray,
  type NDArray,
  sizeOf,
  type TypedArray,
} from "./lib/io/ndarray.ts";

// ---------------------------------------------------------------------------
// Configuration: INI files with Python configparser semantics over the defaults
// ---------------------------------------------------------------------------
export type { PyDict, PySet, PyTuple, PyValue, ToolboxConfig } from "./lib/config/types.ts";
export {
  BOOLEAN_STATES,
  ConfigParser,
  type ConfigParserOptions,
  type GetOptions,
  MAX_INTERPOLATION_DEPTH,
} from "./lib/config/configparser.ts";
export { literalEval } from "./lib/config/literal.ts";
export { type JsonValue, pyFloatRepr, pyRepr, pyStr, pyStrRepr, toJson } from "./lib/config/py_repr.ts";
export { isPySet, pyEquals, pyIterable } from "./lib/config/py_values.ts";
export { DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE } from "./lib/config/defaults.ts";
export { ResolvedConfig, updateSetup, type UpdateSetupOptions } from "./lib/pipeline/setup.ts";

// ---------------------------------------------------------------------------
// Input libraries (snntoolbox.parsing.model_libs): files → input model
// ---------------------------------------------------------------------------
export {
  type DataFormat,
  getModelLibrary,
  guessModelLibrary,
  type InputModel,
  type LoadOptions,
  MODEL_LIBRARIES,
  MODEL_LIBRARY_LIST,
  MODEL_LIBS,
  type ModelLib,
  type ModelLibrary,
} from "./lib/importers/mod.ts";
export {
  type KerasFileFormat,
  loadKerasModel,
  saveKerasH5,
  type SaveKerasH5Options,
} from "./lib/importers/keras/mod.ts";
export { loadOnnxModel } from "./lib/importers/onnx/mod.ts";
export {
  loadPytorchModel,
  loadPytorchScriptModel,
  type PytorchScriptOptions,
} from "./lib/importers/pytorch/mod.ts";
export { type CaffeLoadOptions, loadCaffeModel } from "./lib/importers/caffe/mod.ts";
export { type LasagneLoadOptions, loadLasagneModel } from "./lib/importers/lasagne/mod.ts";

// ---------------------------------------------------------------------------
// Parsing (snntoolbox.parsing.utils): the abstract parser and its helpers
// ---------------------------------------------------------------------------
export {
  type AbsorbBnOptions,
  absorbBnParameters,
  AbstractModelParser,
  ALWAYS_PARSED,
  type BatchNormParameters,
  createParser,
  type DataFlow,
  type DataFlowBatch,
  evaluateDataflow,
  evaluateModel,
  type EvaluateOptions,
  type EvaluationScore,
  type FanoutOptions,
  fixInputLayerShape,
  getFanin,
  getFanout,
  getFanoutArray,
  getInboundLayers,
  getInboundLayersWithoutParams,
  getInboundLayersWithParams,
  getOutboundActivation,
  getOutboundLayers,
  getType,
  hasStrideUnity,
  hasWeights,
  isSpiking,
  type KernelKind,
  type LayerAttributes,
  type LayerAttributesOf,
  type LoadedModel,
  loadInputModel,
  ModelParser,
  // The one parser, also under the names of the per-library parsers of the Python toolbox.
  ModelParser as CaffeModelParser,
  ModelParser as KerasModelParser,
  ModelParser as LasagneModelParser,
  ModelParser as OnnxModelParser,
  ModelParser as PytorchModelParser,
  modifyParameterPrecision,
  paddingString,
  type ParametricType,
  type ParsedLayerArgs,
  type ParsedLayerConfigs,
  type ParsedLayerOf,
  type ParsedLayerType,
  parsedModelPath,
  type ParserOptions,
  parserOptionsFromConfig,
  PORT_LAYERS,
  type PrecisionAttributes,
  predictModel,
  type PredictOptions,
  saveParsedModel,
  SUPPORTED_LAYERS,
  type TensorRef,
  toNumpy,
} from "./lib/parsing/mod.ts";
export {
  applyActivation,
  binarize,
  clampedReluName,
  type CustomActivationSpec,
  parseCustomActivation,
  reducePrecision,
  registerCustomActivation,
  registerCustomActivationsIn,
} from "./lib/layers/activations.ts";
export {
  assembleCustomDict,
  checkForCustomActivations,
  type CustomActivation,
  type CustomObject,
  type CustomObjectsDict,
  getClampedReluFromString,
  getCustomActivation,
  getCustomActivationsDict,
  getCustomLayersDict,
  getNoisySoftplusFromString,
  getQuantizedActivationFunctionFromString,
  registerCustomObjects,
} from "./lib/layers/custom_objects.ts";
export { precision } from "./lib/layers/metrics.ts";
export { SPARSE_LAYER_CLASSES } from "./lib/layers/sparse.ts";
export { loadParameters, parameterName, saveParameters } from "./lib/io/parameters.ts";

// ---------------------------------------------------------------------------
// Data and files a user reads and writes
// ---------------------------------------------------------------------------
export { decodeNpy, encodeNpy, readNpy, writeNpy } from "./lib/io/npy.ts";
export { decodeNpz, encodeNpz, readNpz, readNpzArray, writeNpz, type WriteNpzOptions } from "./lib/io/npz.ts";
export {
  type Batch,
  type BatchOptions,
  DATASET_FILES,
  type DatasetOptions,
  loadNormSet,
  loadTestSet,
  type TestSet,
} from "./lib/io/dataset.ts";
export { readIdx, type ReadIdxOptions } from "./lib/io/idx.ts";
export {
  NIR_VERSION,
  type NirAffine,
  type NirConv1d,
  type NirConv2d,
  type NirFlatten,
  type NirGraph,
  type NirIF,
  type NirInput,
  type NirLinear,
  type NirMetadata,
  type NirMetadataValue,
  type NirNode,
  type NirNodeBase,
  type NirOtherNode,
  type NirOutput,
  type NirPadding,
  type NirPool2d,
  type NirScale,
  type NirThreshold,
  OTHER_NIR_TYPES,
} from "./lib/io/nir.ts";
export { type NirFile, readNir } from "./lib/io/nir_read.ts";
export { writeNir } from "./lib/io/nir_write.ts";
export { withAtomicOutput, writeFileAtomic } from "./lib/io/atomic.ts";
export { exceedsCeiling, maxArrayBytes, setMaxArrayBytes } from "./lib/io/limits.ts";

// ---------------------------------------------------------------------------
// Conversion: parameter normalization
// ---------------------------------------------------------------------------
export {
  applyNormalizationSchedule,
  getScaleFactor,
  type NormalizationOptions,
  normalizationOptionsFromConfig,
  type NormalizationResult,
  normalizeParameters,
} from "./lib/conversion/normalize.ts";
export { NonZeroCollector, percentile } from "./lib/conversion/percentile.ts";
export {
  exportNir,
  float32Below,
  type NirCellParams,
  type NirExport,
  type NirExportOptions,
  nirShapeOf,
  toNirGraph,
} from "./lib/conversion/nir.ts";

// ---------------------------------------------------------------------------
// Simulation: the INI spiking simulator, its results and report
// ---------------------------------------------------------------------------
export {
  type CellOptions,
  cellOptionsFromConfig,
  DEFAULT_CELL,
  DEFAULT_SIMULATION,
  RESET_MODES,
  type ResetMode,
  resolveSimulationOptions,
  type SimulationOptions,
  simulationOptionsFromConfig,
} from "./lib/simulation/options.ts";
export {
  type LayerCorrelation,
  LOG_VARS,
  type RunOptions,
  runSimulation,
  type SimulationResult,
  type SimulationTallies,
  type TestData,
} from "./lib/simulation/run.ts";
export type { SimulationFigures } from "./lib/simulation/tally.ts";
export { SimulationWorkers } from "./lib/simulation/parallel.ts";
export {
  type Plot,
  PLOT_VARS,
  type ReportOptions,
  simulationPlots,
  sweepPlot,
  type SweepResult,
  wilsonScore,
  writeReport,
} from "./lib/simulation/report.ts";
export {
  runParameterSweep,
  SWEEPABLE_PARAMS,
  type SweepOptions,
  sweepOptionsFromConfig,
  withParam,
} from "./lib/simulation/sweep.ts";
export {
  type NirSpikingModel,
  type OutputCountOptions,
  simulateOutputCounts,
  spikingModelFromNir,
} from "./lib/simulation/nir.ts";

// ---------------------------------------------------------------------------
// Pipeline: the whole run of an experiment file, its stages and shards
// ---------------------------------------------------------------------------
export {
  type AccuracyReport,
  isNirFile,
  type PipelineHooks,
  type PipelineOptions,
  type PipelineResult,
  resolveModelPath,
  runPipeline,
  samplePermutation,
} from "./lib/pipeline/run.ts";
export {
  cloneModel,
  runSnnStages,
  type SnnStagesInput,
  type SnnStagesResult,
} from "./lib/pipeline/snn_stages.ts";
export {
  type ExperimentData,
  type ExperimentIdentity,
  experimentIdentity,
  type MergeOptions,
  type MergeResult,
  mergeShards,
  readShardRecord,
  type ShardRecord,
} from "./lib/pipeline/shards.ts";
export {
  type EnvReader,
  parseShardSpec,
  SHARD_COUNT_ENV,
  shardFromEnvironment,
} from "./lib/pipeline/shard_spec.ts";
export { type ShardSelection, shardSelection, type ShardSpec } from "./lib/simulation/shards.ts";

// ---------------------------------------------------------------------------
// Dependency types named in the API
// ---------------------------------------------------------------------------
export type { H5Dataset, H5File, H5Group, Layer, LayersModel, Tensor, Tensor4D } from "./deps.ts";
