/**
 * The settings the parser reads, as a plain options object, and the adapter
 * that reads them from a {@linkcode ToolboxConfig} (the INI sections
 * `[conversion]`, `[cell]`, `[restrictions]`, `[simulation]`).
 *
 * @module
 */
import type { ToolboxConfig } from "../config/types.ts";
import { ConfigError } from "../errors.ts";

/** Everything {@linkcode AbstractModelParser.parse} can be told. */
export interface ParserOptions {
  /** `[conversion] max2avg_pool`: replace MaxPooling by AveragePooling. */
  max2avgPool?: boolean;
  /** `[conversion] softmax_to_relu`: replace softmax activations by relu. */
  softmaxToRelu?: boolean;
  /** `[conversion] append_softmax`: give the linear output Dense layer a softmax. */
  appendSoftmax?: boolean;
  /** `[cell] binarize_weights`: binarize the weights of Dense/Conv layers to ±1. */
  binarizeWeights?: boolean;
  /** `[cell] quantize_weights`: reduce weights to fixed point `Qm.f`. */
  quantizeWeights?: boolean;
  /** `[cell] weight_precision`: the `Qm.f` format (e.g. `"Q1.15"`) used when a layer does not state its own. */
  weightPrecision?: string;
  /** `[cell] quantize_bias`: quantize biases too when quantizing weights. */
  quantizeBias?: boolean;
  /** `[restrictions] skip_unsupported_layers`: skip (pass through) layers an SNN cannot implement instead of failing. */
  skipUnsupported?: boolean;
  /** `[simulation] batch_size`: default batch size of {@linkcode AbstractModelParser.evaluate}. */
  batchSize?: number;
  /** Where progress notes go (default: nowhere). */
  log?: (line: string) => void;
}

function bool(config: ToolboxConfig, section: string, option: string): boolean | undefined {
  return config.hasOption(section, option) ? config.getBoolean(section, option) : undefined;
}

/**
 * Read {@linkcode ParserOptions} from a resolved experiment configuration;
 * absent options stay unset (the parser then applies the defaults listed in
 * `DEFAULT_CONFIG` / `EXTRA_SETTINGS` of lib/config/defaults.ts: all off).
 */
export function parserOptionsFromConfig(config: ToolboxConfig): ParserOptions {
  const opts: ParserOptions = {
    max2avgPool: bool(config, "conversion", "max2avg_pool"),
    softmaxToRelu: bool(config, "conversion", "softmax_to_relu"),
    appendSoftmax: bool(config, "conversion", "append_softmax"),
    binarizeWeights: bool(config, "cell", "binarize_weights"),
    quantizeWeights: bool(config, "cell", "quantize_weights"),
    quantizeBias: bool(config, "cell", "quantize_bias"),
    skipUnsupported: bool(config, "restrictions", "skip_unsupported_layers"),
  };
  const precision = config.hasOption("cell", "weight_precision")
    ? config.get("cell", "weight_precision").trim()
    : "";
  if (precision !== "") opts.weightPrecision = precision;
  if (config.hasOption("simulation", "batch_size")) {
    opts.batchSize = config.getInt("simulation", "batch_size");
  }
  return opts;
}

/** Whether `value` looks like a {@linkcode ToolboxConfig} rather than a plain options object. */
export function isToolboxConfig(value: unknown): value is ToolboxConfig {
  return typeof value === "object" && value !== null &&
    typeof (value as ToolboxConfig).getBoolean === "function" &&
    typeof (value as ToolboxConfig).hasOption === "function";
}

/** Parse a fixed point format `Qm.f` (`"Q1.15"`, `"1.15"`) into `[m, f]`. */
export function parseQmf(text: string, where = "[cell] weight_precision"): [number, number] {
  const m = /^Q?(\d+)\.(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`${where}: expected a fixed point format like 'Q1.15', found '${text}'`);
  return [Number(m[1]), Number(m[2])];
}
