/**
 * The settings the parser reads, as a plain options object, and the adapter
 * that reads them from a {@linkcode ToolboxConfig} (the INI sections
 * `[conversion]`, `[cell]`, `[restrictions]`, `[simulation]`).
 *
 * @module
 */
import type { ToolboxConfig } from "../config/types.ts";
import { ConfigParser } from "../config/configparser.ts";
import { DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE, EXTRA_SETTINGS } from "../config/defaults.ts";
import { pyStr, pyStrRepr } from "../config/py_repr.ts";
import { pyIterable } from "../config/py_values.ts";
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
  /**
   * `[restrictions] snn_layers`: the layer types that are parsed; other
   * layers are skipped as the toolbox skips them (default: the toolbox's
   * default set). See `ALWAYS_PARSED` and `PORT_LAYERS` for the types the
   * parser handles whatever this lists.
   */
  snnLayers?: readonly string[];
  /** `[simulation] top_k`: the `k` of top-k accuracy in {@linkcode AbstractModelParser.evaluate} (default 5). */
  topK?: number;
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
  if (config.hasOption("simulation", "top_k")) opts.topK = config.getInt("simulation", "top_k");
  if (config.hasOption("restrictions", "snn_layers")) {
    opts.snnLayers = stringSet(config, "restrictions", "snn_layers");
  }
  return opts;
}

/** A set/list literal option as strings (the toolbox's `eval(config.get(...))` of a set of names). */
function stringSet(config: ToolboxConfig, section: string, option: string): string[] {
  const items = pyIterable(config.getLiteral(section, option));
  if (!items) {
    throw new ConfigError(
      `[${section}] ${option}: expected a set of layer type names, found ${config.get(section, option)}`,
    );
  }
  return [...new Set(items.map(pyStr))];
}

let defaultConfig: ConfigParser | undefined;

/** The built-in default configuration (parsed once). */
function defaults(): ConfigParser {
  if (!defaultConfig) {
    defaultConfig = new ConfigParser();
    defaultConfig.readString(DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE);
  }
  return defaultConfig;
}

/** The layer types `options` has parsed: `snnLayers`, or the default `[restrictions] snn_layers`. */
export function snnLayerSet(options: ParserOptions): ReadonlySet<string> {
  return new Set(options.snnLayers ?? stringSet(defaults(), "restrictions", "snn_layers"));
}

/**
 * The experiment configuration equivalent to plain parser options: the
 * built-in defaults (with the parser settings the defaults omit, see
 * `EXTRA_SETTINGS`) and each option that is set written into its section.
 */
export function configFromParserOptions(options: ParserOptions): ConfigParser {
  const config = new ConfigParser();
  config.readString(DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE);
  for (const [section, values] of Object.entries(EXTRA_SETTINGS)) {
    for (const [key, value] of Object.entries(values)) config.set(section, key, value);
  }
  const py = (b: boolean) => (b ? "True" : "False");
  const set = (section: string, key: string, value: string | undefined) => {
    if (value !== undefined) config.set(section, key, value);
  };
  const bool = (v: boolean | undefined) => (v === undefined ? undefined : py(v));
  set("conversion", "max2avg_pool", bool(options.max2avgPool));
  set("conversion", "softmax_to_relu", bool(options.softmaxToRelu));
  set("conversion", "append_softmax", bool(options.appendSoftmax));
  set("cell", "binarize_weights", bool(options.binarizeWeights));
  set("cell", "quantize_weights", bool(options.quantizeWeights));
  set("cell", "quantize_bias", bool(options.quantizeBias));
  set("cell", "weight_precision", options.weightPrecision);
  set("restrictions", "skip_unsupported_layers", bool(options.skipUnsupported));
  set("restrictions", "snn_layers", options.snnLayers && `{${options.snnLayers.map(pyStrRepr).join(", ")}}`);
  set("simulation", "batch_size", options.batchSize?.toString());
  set("simulation", "top_k", options.topK?.toString());
  return config;
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
