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
export {
  type AdapterDescription,
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  initBackend,
  type InitBackendOptions,
  requestedBackend,
} from "./lib/backend/mod.ts";
export {
  ConfigError,
  DatasetError,
  describeError,
  ModelFormatError,
  NotAvailableError,
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
  type InputModel,
  type LoadOptions,
  MODEL_LIBS,
  type ModelLib,
} from "./lib/parsing/input_model.ts";

export {
  type AccuracyReport,
  type PipelineHooks,
  type PipelineResult,
  resolveModelPath,
  runPipeline,
  samplePermutation,
} from "./lib/pipeline.ts";

// --- config (lib/config) ---
export {
  BOOLEAN_STATES,
  ConfigParser,
  type ConfigParserOptions,
  type GetOptions,
  MAX_INTERPOLATION_DEPTH,
} from "./lib/config/configparser.ts";
export {
  isPySet,
  type JsonValue,
  literalEval,
  pyEquals,
  pyFloatRepr,
  pyIterable,
  pyRepr,
  pyStr,
  pyStrRepr,
  toJson,
} from "./lib/config/literal.ts";
export { DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE } from "./lib/config/defaults.ts";
export { ResolvedConfig, updateSetup, type UpdateSetupOptions } from "./lib/config/setup.ts";
export { type ConfigErrorDetails, PythonConfigError, type PythonErrorName } from "./lib/config/errors.ts";

// --- io (lib/io) ---
export {
  type KerasFileFormat,
  loadKerasModel,
  saveKerasH5,
  type SaveKerasH5Options,
} from "./lib/io/keras/mod.ts";

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
export { exceedsCeiling, maxArrayBytes, setMaxArrayBytes } from "./lib/io/limits.ts";

// --- parsing (lib/parsing) ---
export {
  type AbsorbBnOptions,
  absorbBnParameters,
  AbstractModelParser,
  type BatchNormParameters,
  buildModelFromAttributes,
  evaluateModel,
  type EvaluateOptions,
  type EvaluationScore,
  getFanin,
  getFanout,
  getInboundLayersWithoutParams,
  getInboundLayersWithParams,
  getModelLibrary,
  getOutboundActivation,
  guessModelLibrary,
  hasStrideUnity,
  KerasModelParser,
  type KernelKind,
  type LayerAttributes,
  type LoadedModel,
  loadInputModel,
  type ModelLibrary,
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
export {
  buildOnnxInputModel,
  loadOnnxModel,
  MAX_ONNX_OPSET,
  OnnxModelParser,
  resolveOnnxPath,
  SUPPORTED_ONNX_OPS,
} from "./lib/parsing/model_libs/onnx.ts";
export {
  loadPytorchModel,
  PytorchModelParser,
  resolvePytorchModelPath,
  torchExportHint,
} from "./lib/parsing/model_libs/pytorch.ts";
export {
  decodeOnnxModel,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  readOnnxModel,
} from "./lib/io/onnx_proto.ts";

export {
  buildCaffeModel,
  type CaffeBuildOptions,
  type CaffeBuildResult,
  type CaffeLoadOptions,
  CaffeModelParser,
  findCaffeWeights,
  loadCaffeModel,
  readCaffeWeights,
} from "./lib/parsing/model_libs/caffe.ts";
export {
  type CaffeBlob,
  type CaffeLayer,
  type CaffeNet,
  type CaffeNetInput,
  normalizeNet as normalizeCaffeNet,
  readCaffemodel,
  readCaffemodelH5,
  readPrototxt,
} from "./lib/io/caffe/net.ts";
export { type PbMessage, type PbValue } from "./lib/io/caffe/message.ts";
export { parseTextFormat } from "./lib/io/caffe/text_format.ts";
export { caffePoolOutputSize, inferCaffeShapes } from "./lib/io/caffe/shapes.ts";
export {
  applyCaffePreprocessing,
  type CaffeInput,
  type CaffePreprocessing,
  caffePreprocessing,
  resolveCaffeInputs,
} from "./lib/io/caffe/inputs.ts";
export {
  buildLasagneModel,
  findLasagneParameters,
  type LasagneBuildOptions,
  type LasagneBuildResult,
  type LasagneLoadOptions,
  LasagneModelParser,
  loadLasagneModel,
  readLasagneParameters,
} from "./lib/parsing/model_libs/lasagne.ts";
export {
  type DictValue,
  getAllLayers as getAllLasagneLayers,
  interpretLasagneScript,
  LASAGNE_LAYER_TYPES,
  type LasagneLayer,
  type LasagneScript,
  layerParamNames as lasagneParamNames,
  type Opaque,
  type RangeValue,
  type Ref,
  type ScriptValue,
  type TupleValue,
  type UserFunction,
} from "./lib/io/lasagne/interpreter.ts";
export {
  type Expr as PythonExpr,
  parsePythonScript,
  type Stmt as PythonStmt,
} from "./lib/io/lasagne/python_syntax.ts";
export {
  type NumpyDType,
  type PendingArray,
  type PickleDict,
  type PickleGlobal,
  type PickleTuple,
  type PickleValue,
  readPickle,
} from "./lib/io/lasagne/pickle.ts";

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
  createNeuronLayer,
  integrateAndFire,
  type NeuronLayer,
  type NeuronLayerParams,
  type NeuronState,
  type NeuronStepInput,
  type NeuronStepOutput,
} from "./lib/simulation/neuron.ts";
export { gatedMaxPool, type PoolGeometry } from "./lib/simulation/maxpool.ts";
export { PASS_THROUGH_LAYER_TYPES, SPIKING_LAYER_TYPES } from "./lib/simulation/layers.ts";
export {
  type NetworkOptions,
  type SpikingLayerInfo,
  SpikingNetwork,
  type StepOutput,
  type StepRecording,
} from "./lib/simulation/network.ts";
export { decide, inTopK, pearson, sampleCorrelations } from "./lib/simulation/metrics.ts";
export {
  LOG_VARS,
  planRun,
  recordOptions,
  type RunOptions,
  type RunPlan,
  runSimulation,
  type SimulationResult,
  type TestData,
} from "./lib/simulation/run.ts";
export {
  accuracyLine,
  addRecord,
  emptyTotals,
  type LayerCorrelation,
  mergeTotals,
  type SimulationFigures,
  simulationFigures,
  type SimulationTotals,
  type TallyLayer,
  type TallyMeta,
} from "./lib/simulation/tally.ts";
export {
  type BatchJob,
  type BatchLogs,
  type BatchRecord,
  BatchSimulator,
  type RecordOptions,
} from "./lib/simulation/batch.ts";
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
  cloneModel,
  runSnnStages,
  type SnnStagesInput,
  type SnnStagesResult,
} from "./lib/simulation/pipeline.ts";

// --- backend (lib/backend) ---
export { DEFAULT_THREADS, MAX_WASM_THREADS } from "./lib/backend/mod.ts";
export { DataParallelModel, type DataParallelOptions } from "./lib/backend/workers.ts";

// --- ship (dependency types named in the API) ---
export type { H5Dataset, H5File, H5Group, Layer, LayersModel, Tensor, Tensor4D } from "./deps.ts";
