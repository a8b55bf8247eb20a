/**
 * snntoolbox for Deno: parse a trained artificial neural network from Keras,
 * ONNX/PyTorch, Caffe or Lasagne into one standard model, and prepare it for
 * conversion into a spiking neural network, driven by the same INI
 * experiment files as the Python SNN conversion toolbox.
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

// --- foundation ---
export { VERSION } from "./lib/version.ts";
export { type BackendInfo, initBackend, type InitBackendOptions } from "./lib/backend/mod.ts";
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
export {
  type DType,
  float32Array,
  type Float32NDArray,
  type NDArray,
  sizeOf,
  type TypedArray,
} from "./lib/io/ndarray.ts";
export { withAtomicOutput, writeFileAtomic } from "./lib/io/atomic.ts";
export type { PyDict, PySet, PyTuple, PyValue, ToolboxConfig } from "./lib/config/types.ts";
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

// --- config (lib/config) ---
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
export { type ConfigErrorDetails, PythonConfigError, type PythonErrorName } from "./lib/config/errors.ts";

// --- io (lib/io) ---
export { decodeNpy, encodeNpy, type NpyHeader, parseNpyHeader, readNpy, writeNpy } from "./lib/io/npy.ts";
export { decodeNpz, encodeNpz, readNpz, readNpzArray, writeNpz, type WriteNpzOptions } from "./lib/io/npz.ts";
export {
  assertHdf5File,
  attrNames,
  createHdf5,
  datasetToNDArray,
  type Hdf5Dataset,
  type Hdf5File,
  type Hdf5Group,
  type Hdf5Object,
  hdf5Ready,
  openHdf5,
  readDataset,
  readNumberArrayAttr,
  readStringArrayAttr,
  readStringAttr,
  writeDataset,
  writeHdf5Atomic,
} from "./lib/io/hdf5.ts";
export { loadParameters, parameterName, saveParameters } from "./lib/io/parameters.ts";
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
  type NirFile,
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
  readNir,
  writeNir,
} from "./lib/io/nir.ts";
export { exceedsCeiling, maxArrayBytes, setMaxArrayBytes } from "./lib/io/limits.ts";

// --- parsing (lib/parsing) ---
export {
  type AbsorbBnOptions,
  absorbBnParameters,
  AbstractModelParser,
  type BatchNormParameters,
  buildModelFromAttributes,
  createParser,
  evaluateModel,
  type EvaluateOptions,
  type EvaluationScore,
  getFanin,
  getFanout,
  getInboundLayersWithoutParams,
  getInboundLayersWithParams,
  getOutboundActivation,
  hasStrideUnity,
  type KernelKind,
  type LayerAttributes,
  type LoadedModel,
  loadInputModel,
  ModelParser,
  // The one parser, also under the names of the per-library parsers it replaced.
  ModelParser as CaffeModelParser,
  ModelParser as KerasModelParser,
  ModelParser as LasagneModelParser,
  ModelParser as OnnxModelParser,
  ModelParser as PytorchModelParser,
  paddingString,
  parsedModelPath,
  type ParserOptions,
  parserOptionsFromConfig,
  predictModel,
  type PredictOptions,
  registerCustomActivation,
  registerCustomActivationsIn,
  saveParsedModel,
  SUPPORTED_LAYERS,
} from "./lib/parsing/mod.ts";
// --- importers (lib/importers) ---
export {
  type KerasFileFormat,
  loadKerasModel,
  saveKerasH5,
  type SaveKerasH5Options,
} from "./lib/importers/keras/mod.ts";
export {
  buildOnnxInputModel,
  decodeOnnxModel,
  loadOnnxModel,
  MAX_ONNX_OPSET,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  readOnnxModel,
  resolveOnnxPath,
  SUPPORTED_ONNX_OPS,
} from "./lib/importers/onnx/mod.ts";
export { loadPytorchModel, resolvePytorchModelPath, torchExportHint } from "./lib/importers/pytorch/mod.ts";
export {
  applyCaffePreprocessing,
  buildCaffeModel,
  type CaffeBlob,
  type CaffeBuildOptions,
  type CaffeBuildResult,
  type CaffeInput,
  type CaffeLayer,
  type CaffeLoadOptions,
  type CaffeNet,
  type CaffeNetInput,
  caffePoolOutputSize,
  type CaffePreprocessing,
  caffePreprocessing,
  findCaffeWeights,
  inferCaffeShapes,
  loadCaffeModel,
  normalizeNet as normalizeCaffeNet,
  parseTextFormat,
  type PbMessage,
  type PbValue,
  readCaffemodel,
  readCaffemodelH5,
  readCaffeWeights,
  readPrototxt,
  resolveCaffeInputs,
} from "./lib/importers/caffe/mod.ts";
export {
  buildLasagneModel,
  type DictValue,
  findLasagneParameters,
  getAllLayers as getAllLasagneLayers,
  interpretLasagneScript,
  LASAGNE_LAYER_TYPES,
  type LasagneBuildOptions,
  type LasagneBuildResult,
  type LasagneLayer,
  type LasagneLoadOptions,
  type LasagneScript,
  layerParamNames as lasagneParamNames,
  loadLasagneModel,
  type Opaque,
  type RangeValue,
  readLasagneParameters,
  type Ref,
  type ScriptValue,
  type TupleValue,
  type UserFunction,
} from "./lib/importers/lasagne/mod.ts";
export {
  type At as PythonAt,
  type Comprehension as PythonComprehension,
  type Expr as PythonExpr,
  type Handler as PythonHandler,
  type ImportName as PythonImportName,
  type Keyword as PythonKeyword,
  type Param as PythonParam,
  parseModule as parsePythonScript,
  type Stmt as PythonStmt,
} from "./lib/io/python/mod.ts";
export type {
  BoundMethod,
  ClassValue,
  HostObject,
  InstanceValue,
  Scope as ScriptScope,
  SuperValue,
} from "./lib/io/python/values.ts";
export {
  type PickleDict,
  type PickleGlobal,
  type PickleObject,
  type PickleTuple,
  type PickleValue,
  readPickle,
} from "./lib/io/pickle/numpy.ts";
export { readTorchStateDict, type TorchStateDict } from "./lib/io/torch/state_dict.ts";
export { loadPytorchScriptModel, type PytorchScriptOptions } from "./lib/importers/pytorch/mod.ts";

// --- conversion (lib/conversion) ---
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

// --- simulation (lib/simulation) ---
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
  integrateAndFire,
  type NeuronState,
  type NeuronStepInput,
  type NeuronStepOutput,
} from "./lib/simulation/neuron.ts";
export { gatedMaxPool, type PoolGeometry } from "./lib/simulation/maxpool.ts";
export { PASS_THROUGH_LAYER_TYPES, SPIKING_LAYER_TYPES } from "./lib/simulation/layers.ts";
export {
  type SpikingLayerInfo,
  SpikingNetwork,
  type StepOutput,
  type StepRecording,
} from "./lib/simulation/network.ts";
export { decide, inTopK, pearson, sampleCorrelations } from "./lib/simulation/metrics.ts";
export {
  type LayerCorrelation,
  LOG_VARS,
  type RunOptions,
  runSimulation,
  type SimulationResult,
  type SimulationTallies,
  type TestData,
} from "./lib/simulation/run.ts";
export {
  mergeResults,
  type ShardSelection,
  shardSelection,
  type ShardSpec,
} from "./lib/simulation/shards.ts";
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
export {
  cloneModel,
  runSnnStages,
  type SnnStagesInput,
  type SnnStagesResult,
} from "./lib/pipeline/snn_stages.ts";

// --- backend (lib/backend) ---
export { DEFAULT_THREADS, MAX_WASM_THREADS } from "./lib/backend/mod.ts";
export { DataParallelModel, type DataParallelOptions } from "./lib/backend/workers.ts";

// --- ship (dependency types named in the API) ---
export type { H5Dataset, H5File, H5Group, Layer, LayersModel, Tensor, Tensor4D } from "./deps.ts";
