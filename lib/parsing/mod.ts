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
export {
  AbstractModelParser,
  ACTIVATION_LAYERS,
  type BatchNormParameters,
  buildModelFromAttributes,
  createParsedLayer,
  flatIndexMap,
  type LayerAttributes,
  NOOP_LAYERS,
  SUPPORTED_LAYERS,
} from "./abstract_parser.ts";
export {
  type AbsorbBnOptions,
  absorbBnParameters,
  getFanin,
  getFanout,
  getFanoutArray,
  getInboundLayers,
  getInboundLayersWithoutParams,
  getInboundLayersWithParams,
  getOutboundActivation,
  getOutboundLayers,
  getSpikingOutboundLayers,
  getType,
  hasStrideUnity,
  hasWeights,
  type KernelKind,
  paddingString,
} from "./utils.ts";
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
  evaluateModel,
  type EvaluateOptions,
  type EvaluationScore,
  labelIndices,
  predictModel,
  type PredictOptions,
} from "./evaluate.ts";
export { createParser, ModelParser } from "./model_parser.ts";
export { type LoadedModel, loadInputModel, parsedModelPath, saveParsedModel } from "./files.ts";
