/**
 * Parsing: from an input model (any library, loaded as a TF.js layers
 * model) to the parsed, channels-last model ready for spiking conversion.
 *
 * @example
 * ```ts
 * import { createParser, getModelLibrary, initBackend } from "../../mod.ts";
 * await initBackend();
 * const input = await getModelLibrary("keras").load("model.h5");
 * const parser = createParser(input, { softmaxToRelu: false });
 * parser.parse();
 * const parsed = parser.buildParsedModel();
 * parsed.summary();
 * ```
 *
 * @module
 */
export { AbstractModelParser, ALWAYS_PARSED, PORT_LAYERS } from "./abstract_parser.ts";
export {
  type BatchNormParameters,
  type LayerAttributes,
  type LayerAttributesOf,
  type ParsedLayerArgs,
  type ParsedLayerConfigs,
  type ParsedLayerType,
} from "./attributes.ts";
export { buildModelFromAttributes, createParsedLayer } from "./build.ts";
export { flatIndexMap } from "./layout.ts";
export { ACTIVATION_LAYERS, NOOP_LAYERS, SUPPORTED_LAYERS } from "./layer_types.ts";
export { type ParsedGraph, type TensorRef } from "./graph.ts";
export { modifyParameterPrecision, type PrecisionAttributes } from "./precision.ts";
export { type ParametricType, type ParsedLayerOf } from "./attributes.ts";
export {
  type AbsorbBnOptions,
  absorbBnParameters,
  fixInputLayerShape,
  getInboundLayers,
  getInboundLayersWithoutParams,
  getInboundLayersWithParams,
  getOutboundActivation,
  getOutboundLayers,
  getType,
  hasWeights,
  type KernelKind,
  paddingString,
  toNumpy,
} from "./utils.ts";
export {
  type FanoutOptions,
  getFanin,
  getFanout,
  getFanoutArray,
  getSpikingOutboundLayers,
  hasStrideUnity,
  isSpiking,
} from "./fanout.ts";
export {
  applyActivation,
  binarize,
  clampedReluName,
  type CustomActivationSpec,
  exactActivationName,
  parseCustomActivation,
  reducePrecision,
  registerCustomActivation,
  registerCustomActivationsIn,
  restoreActivationNames,
} from "../layers/activations.ts";
export { applyTfjsFixes, layerDataFormat } from "../layers/tfjs_fixes.ts";
export { isToolboxConfig, parseQmf, type ParserOptions, parserOptionsFromConfig } from "./options.ts";
export {
  type DataFlow,
  type DataFlowBatch,
  evaluateDataflow,
  evaluateModel,
  type EvaluateOptions,
  type EvaluationScore,
  labelIndices,
  predictModel,
  type PredictOptions,
} from "./evaluate.ts";
export { createParser, ModelParser } from "./model_parser.ts";
export { type LoadedModel, loadInputModel, parsedModelPath, saveParsedModel } from "./files.ts";
