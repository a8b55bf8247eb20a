/**
 * Unstable: may change in any release. Internals of the parser: building a
 * TF.js model from parsed layer attributes, layout helpers, the TF.js
 * corrections applied to every input model, and the custom-activation
 * name mapping. The parsing API of the Python toolbox is in the main module.
 *
 * @example
 * ```ts
 * import { flatIndexMap } from "./parsing.ts";
 * // Where each element of an HWC flatten sits in the CHW flatten of a [2, 1, 3] CHW tensor.
 * console.log(flatIndexMap([2, 1, 3], [1, 2, 0], [0, 1, 2]));
 * ```
 *
 * @module
 */
export {
  ACTIVATION_LAYERS,
  buildModelFromAttributes,
  createParsedLayer,
  flatIndexMap,
  getSpikingOutboundLayers,
  isToolboxConfig,
  labelIndices,
  NOOP_LAYERS,
  parseQmf,
} from "../lib/parsing/mod.ts";
export { exactActivationName, restoreActivationNames } from "../lib/layers/activations.ts";
export { applyTfjsFixes, layerDataFormat } from "../lib/layers/tfjs_fixes.ts";
