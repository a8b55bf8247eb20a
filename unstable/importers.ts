/**
 * Unstable: may change in any release. The building blocks of the input
 * libraries (ONNX and Caffe protobuf readers, the Caffe and ONNX graph
 * builders, the Lasagne script interpreter), exported for tools built on the
 * toolbox. The loaders themselves (`loadKerasModel`, `loadOnnxModel`, ...)
 * and the library registry are in the main module.
 *
 * @example
 * ```ts
 * import { readOnnxModel } from "./importers.ts";
 * const onnx = await readOnnxModel("model.onnx");
 * console.log(onnx.opset, onnx.nodes.map((n) => n.opType));
 * ```
 *
 * @module
 */
export {
  buildOnnxInputModel,
  decodeOnnxModel,
  MAX_ONNX_OPSET,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  readOnnxModel,
  resolveOnnxPath,
  SUPPORTED_ONNX_OPS,
} from "../lib/importers/onnx/mod.ts";
export { resolvePytorchModelPath, torchExportHint } from "../lib/importers/pytorch/mod.ts";
export {
  applyCaffePreprocessing,
  buildCaffeModel,
  type CaffeBlob,
  type CaffeBuildOptions,
  type CaffeBuildResult,
  type CaffeInput,
  type CaffeLayer,
  type CaffeNet,
  type CaffeNetInput,
  caffePoolOutputSize,
  type CaffePreprocessing,
  caffePreprocessing,
  findCaffeWeights,
  inferCaffeShapes,
  normalizeNet as normalizeCaffeNet,
  parseTextFormat,
  type PbMessage,
  type PbValue,
  readCaffemodel,
  readCaffemodelH5,
  readCaffeWeights,
  readPrototxt,
  resolveCaffeInputs,
} from "../lib/importers/caffe/mod.ts";
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
  type LasagneScript,
  layerParamNames as lasagneParamNames,
  type Opaque,
  type RangeValue,
  readLasagneParameters,
  type Ref,
  type ScriptValue,
  type TupleValue,
  type UserFunction,
} from "../lib/importers/lasagne/mod.ts";
