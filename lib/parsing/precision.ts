/**
 * Weight precision of parsed layers: `[cell] binarize_weights` and
 * `quantize_weights` with the fixed point format `Qm.f` a layer states (the
 * Python toolbox's `modify_parameter_precision`).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { Float32NDArray } from "../io/ndarray.ts";
import type { ToolboxConfig } from "../config/types.ts";
import { binarize, reducePrecision } from "../layers/activations.ts";
import { isToolboxConfig, parseQmf, type ParserOptions, parserOptionsFromConfig } from "./options.ts";

/** The per-layer precision attributes {@linkcode modifyParameterPrecision} reads and removes. */
export interface PrecisionAttributes {
  /** Fixed point format `[m, f]` of the layer's weights (the toolbox's `'Qm.f'` attribute). */
  qmf?: [number, number];
  /** Quantize the biases too (the toolbox's `'quantize_bias'` attribute). */
  quantizeBias?: boolean;
  /** The layer's name, for error messages. */
  sourceName?: string;
  /** Notes of what was done to the layer; a line is added when the weights change. */
  absorbed?: string[];
}

/**
 * Apply `[cell] binarize_weights` or `quantize_weights` to a layer's weights
 * and biases, as the toolbox's `modify_parameter_precision(weights, biases,
 * config, attributes)`: binarize the weights to ±1, or reduce them (and the
 * biases when the layer's `quantizeBias` says so) to the layer's fixed point
 * format `Qm.f`. Removes `qmf` and `quantizeBias` from `attributes`, as the
 * toolbox pops them. Returns the new `[weights, biases]`.
 *
 * Beyond the toolbox: a layer that states no `Qm.f` takes `[cell]
 * weight_precision` (e.g. `Q1.15`) and `[cell] quantize_bias` when they are
 * set; without either, quantizing is a `ConfigError` naming the layer (the
 * toolbox fails its assertion).
 */
export function modifyParameterPrecision(
  weights: Float32NDArray,
  biases: Float32NDArray,
  config: ToolboxConfig | ParserOptions,
  attributes: PrecisionAttributes,
): [Float32NDArray, Float32NDArray] {
  const options = isToolboxConfig(config) ? parserOptionsFromConfig(config) : config;
  const { qmf, quantizeBias } = attributes;
  delete attributes.qmf;
  delete attributes.quantizeBias;
  if (options.binarizeWeights) {
    attributes.absorbed?.push("weights binarized");
    return [{ ...weights, data: binarize(weights.data) }, biases];
  }
  if (!options.quantizeWeights) return [weights, biases];
  const format = qmf ?? (options.weightPrecision ? parseQmf(options.weightPrecision) : undefined);
  if (!format) {
    throw new ConfigError(
      `[cell] quantize_weights = True, but layer '${attributes.sourceName ?? "?"}' states no fixed point ` +
        `format Qm.f and [cell] weight_precision is not set (e.g. weight_precision = Q1.15)`,
    );
  }
  const [m, f] = format;
  attributes.absorbed?.push(`weights quantized to Q${m}.${f}`);
  const withBias = quantizeBias ?? options.quantizeBias ?? false;
  return [
    { ...weights, data: reducePrecision(weights.data, m, f) },
    withBias ? { ...biases, data: reducePrecision(biases.data, m, f) } : biases,
  ];
}
