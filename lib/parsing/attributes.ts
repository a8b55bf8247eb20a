/**
 * The parsed model as data: one {@linkcode LayerAttributes} per layer (the
 * Python toolbox's `_layer_list` entries), typed by layer type. The
 * constructor arguments of each parsed layer type are tfjs-layers' own
 * argument types (`DenseLayerArgs`, `ConvLayerArgs`, ...), restricted to the
 * arguments the parser sets; {@linkcode createParsedLayer} (`./build.ts`)
 * turns an entry into a TF.js layer.
 *
 * @module
 */
import type { TfLayerArgs } from "../../deps.ts";
import type { Float32NDArray } from "../io/ndarray.ts";

/**
 * Constructor arguments of each layer type a parsed model holds:
 * tfjs-layers' own argument types (`DenseLayerArgs`, `ConvLayerArgs`, ...).
 */
export type ParsedLayerArgs = TfLayerArgs;

/** The layer types a parsed model can hold. */
export type ParsedLayerType = keyof ParsedLayerArgs;

/**
 * The constructor arguments the parser sets for each parsed layer type (its
 * `config`); name, activation, bias use and weights come from the other
 * fields of {@linkcode LayerAttributes}.
 */
export interface ParsedLayerConfigs {
  /** Units. */
  Dense: Pick<ParsedLayerArgs["Dense"], "units">;
  /** Filters, kernel, strides, padding, dilation. */
  Conv1D: Pick<ParsedLayerArgs["Conv1D"], "filters" | "kernelSize" | "strides" | "padding" | "dilationRate">;
  /** Filters, kernel, strides, padding, dilation. */
  Conv2D: Pick<ParsedLayerArgs["Conv2D"], "filters" | "kernelSize" | "strides" | "padding" | "dilationRate">;
  /** Filters, kernel, strides, padding. */
  Conv2DTranspose: Pick<ParsedLayerArgs["Conv2DTranspose"], "filters" | "kernelSize" | "strides" | "padding">;
  /** Kernel, depth multiplier, strides, padding, dilation. */
  DepthwiseConv2D: Pick<
    ParsedLayerArgs["DepthwiseConv2D"],
    "kernelSize" | "depthMultiplier" | "strides" | "padding" | "dilationRate"
  >;
  /** Window, strides, padding. */
  MaxPooling1D: Pick<ParsedLayerArgs["MaxPooling1D"], "poolSize" | "strides" | "padding">;
  /** Window, strides, padding. */
  MaxPooling2D: Pick<ParsedLayerArgs["MaxPooling2D"], "poolSize" | "strides" | "padding">;
  /** Window, strides, padding. */
  AveragePooling1D: Pick<ParsedLayerArgs["AveragePooling1D"], "poolSize" | "strides" | "padding">;
  /** Window, strides, padding. */
  AveragePooling2D: Pick<ParsedLayerArgs["AveragePooling2D"], "poolSize" | "strides" | "padding">;
  /** Padding. */
  ZeroPadding2D: Pick<ParsedLayerArgs["ZeroPadding2D"], "padding">;
  /** Cropping. */
  Cropping2D: Pick<ParsedLayerArgs["Cropping2D"], "cropping">;
  /** Size and interpolation. */
  UpSampling2D: Pick<ParsedLayerArgs["UpSampling2D"], "size" | "interpolation">;
  /** Nothing. */
  Flatten: Record<never, never>;
  /** Target shape. */
  Reshape: Pick<ParsedLayerArgs["Reshape"], "targetShape">;
  /** Axis order (1-based, batch excluded). */
  Permute: Pick<ParsedLayerArgs["Permute"], "dims">;
  /** Axis (batch = 0; negative counts from the end). */
  Concatenate: Pick<ParsedLayerArgs["Concatenate"], "axis">;
  /** Axis and epsilon. */
  BatchNormalization: Pick<ParsedLayerArgs["BatchNormalization"], "axis" | "epsilon">;
  /** Nothing (the activation is {@linkcode LayerAttributes.activation}). */
  Activation: Record<never, never>;
}

/** The `config` keys of each parsed layer type, in the order they are copied from a source layer. */
export const CONFIG_KEYS: { readonly [T in ParsedLayerType]: readonly (keyof ParsedLayerConfigs[T])[] } = {
  Dense: ["units"],
  Conv1D: ["filters", "kernelSize", "strides", "padding", "dilationRate"],
  Conv2D: ["filters", "kernelSize", "strides", "padding", "dilationRate"],
  Conv2DTranspose: ["filters", "kernelSize", "strides", "padding"],
  DepthwiseConv2D: ["kernelSize", "depthMultiplier", "strides", "padding", "dilationRate"],
  MaxPooling1D: ["poolSize", "strides", "padding"],
  MaxPooling2D: ["poolSize", "strides", "padding"],
  AveragePooling1D: ["poolSize", "strides", "padding"],
  AveragePooling2D: ["poolSize", "strides", "padding"],
  ZeroPadding2D: ["padding"],
  Cropping2D: ["cropping"],
  UpSampling2D: ["size", "interpolation"],
  Flatten: [],
  Reshape: ["targetShape"],
  Permute: ["dims"],
  Concatenate: ["axis"],
  BatchNormalization: ["axis", "epsilon"],
  Activation: [],
};

/** Whether `type` is a layer type a parsed model can hold. */
export function isParsedLayerType(type: string): type is ParsedLayerType {
  return Object.prototype.hasOwnProperty.call(CONFIG_KEYS, type);
}

/**
 * The parsed `config` of a `type` layer from a source layer's config
 * (camelCase, as `Layer.getConfig()` gives it): the keys of
 * {@linkcode CONFIG_KEYS} that are set. The source config is untyped JSON
 * read from a model file; this is where it takes the parsed type.
 */
export function pickConfig<T extends ParsedLayerType>(
  type: T,
  config: Readonly<Record<string, unknown>>,
): ParsedLayerConfigs[T] {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS[type] as readonly string[]) {
    if (config[k] !== undefined && config[k] !== null) out[k] = config[k];
  }
  return out as ParsedLayerConfigs[T];
}

/** One layer of the parsed model of type `T` (the Python toolbox's `_layer_list` entry). */
export interface ParsedLayerOf<T extends ParsedLayerType> {
  /** Keras/TF.js class name of the parsed layer (`Conv2D`, `Dense`, ...). */
  layerType: T;
  /** Layer name, `<idx><Type>_<shape>` once parsing has finished. */
  name: string;
  /** Names of the layers feeding this one (the input layer's name for the model input). */
  inbound: string[];
  /** Constructor arguments (TF.js camelCase), channels-last. */
  config: ParsedLayerConfigs[T];
  /** Weights in TF.js order (`[kernel, bias]`, ...). */
  parameters?: Float32NDArray[];
  /** Activation string (custom toolbox strings allowed); only for layers that have one. */
  activation?: string;
  /** What was folded into this layer or rewritten to make it (human-readable notes). */
  absorbed: string[];
  /** Output shape without batch, channels-last. */
  outputShape: number[];
  /** Name of the input-model layer this one comes from. */
  sourceName?: string;
  /**
   * What the layer's name is made of, where it differs from `layerType` and
   * `outputShape`: the Python toolbox names a layer after the type it parsed
   * (`Sparse` for a masked Dense) and the output shape in the input model's
   * layout (`6x24x24` for a channels_first model).
   */
  naming?: { layerType?: string; shape?: number[] };
  /**
   * Connectivity mask of a pruned layer (the toolbox's `Sparse`,
   * `SparseConv2D`, `SparseDepthwiseConv2D`), kernel-shaped: the layer
   * computes with `kernel × mask`.
   */
  mask?: Float32NDArray;
  /** Fixed point format of the weights when the source layer states one (`[m, f]`; the toolbox's `Qm.f`). */
  qmf?: [number, number];
  /** Whether the source layer asks for its biases to be quantized too (the toolbox's `quantize_bias`). */
  quantizeBias?: boolean;
}

/**
 * One layer of the parsed model of type `T`, or of any type of the union
 * `T` (a union of {@linkcode ParsedLayerOf} entries, told apart by `layerType`).
 */
export type LayerAttributesOf<T extends ParsedLayerType> = T extends ParsedLayerType ? ParsedLayerOf<T>
  : never;

/** One layer of the parsed model: a union over the parsed layer types, told apart by `layerType`. */
export type LayerAttributes = LayerAttributesOf<ParsedLayerType>;

/** The parsed layer types with a kernel and a bias. */
export type ParametricType = "Dense" | "Conv1D" | "Conv2D" | "DepthwiseConv2D" | "Conv2DTranspose";

/** What kind of layer a kernel belongs to (decides where its output-channel axis is). */
export type KernelKind = "dense" | "conv" | "depthwise" | "transpose";

/** Parsed layer types whose parameters are a kernel and a bias, by kernel kind. */
export const PARAMETRIC: Readonly<Record<ParametricType, KernelKind>> = {
  Dense: "dense",
  Conv1D: "conv",
  Conv2D: "conv",
  DepthwiseConv2D: "depthwise",
  Conv2DTranspose: "transpose",
};

/** Whether `attrs` is a layer with a kernel and a bias (Dense, convolutions). */
export function isParametric(attrs: LayerAttributes): attrs is LayerAttributesOf<ParametricType> {
  return Object.prototype.hasOwnProperty.call(PARAMETRIC, attrs.layerType);
}

/** Parameters of a batch-normalization layer (the Python toolbox's tuple). */
export interface BatchNormParameters {
  /** Moving mean μ. */
  mean: Float32Array;
  /** 1/√(σ² + ε). */
  varEpsSqrtInv: Float32Array;
  /** Scale γ (ones when the layer does not scale). */
  gamma: Float32Array;
  /** Offset β (zeros when the layer does not center). */
  beta: Float32Array;
  /** Normalized axis in the layer's output (batch = 0; may be negative). */
  axis: number;
}
