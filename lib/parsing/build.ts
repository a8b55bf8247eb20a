/**
 * From parsed layer attributes to a runnable, channels-last
 * `tf.LayersModel` (the Python toolbox's `build_parsed_model`): one TF.js
 * layer per entry, built by the tfjs-layers factory of its type with the
 * typed arguments of {@linkcode ParsedLayerArgs}.
 *
 * @module
 */
import { type Layer, type LayersModel, tf } from "../../deps.ts";
import { ModelFormatError, UnsupportedLayerError } from "../errors.ts";
import { registerCustomActivation } from "../layers/activations.ts";
import type { Float32NDArray } from "../io/ndarray.ts";
import {
  isParametric,
  isParsedLayerType,
  type LayerAttributes,
  type ParsedLayerArgs,
  type ParsedLayerOf,
  type ParsedLayerType,
} from "./attributes.ts";

/** The tfjs-layers factory of each parsed layer type. */
const FACTORIES: { readonly [T in ParsedLayerType]: (args: ParsedLayerArgs[T]) => Layer } = {
  Dense: tf.layers.dense,
  Conv1D: tf.layers.conv1d,
  Conv2D: tf.layers.conv2d,
  Conv2DTranspose: tf.layers.conv2dTranspose,
  DepthwiseConv2D: tf.layers.depthwiseConv2d,
  MaxPooling1D: tf.layers.maxPooling1d,
  MaxPooling2D: tf.layers.maxPooling2d,
  AveragePooling1D: tf.layers.averagePooling1d,
  AveragePooling2D: tf.layers.averagePooling2d,
  ZeroPadding2D: tf.layers.zeroPadding2d,
  Cropping2D: tf.layers.cropping2D,
  UpSampling2D: tf.layers.upSampling2d,
  Flatten: tf.layers.flatten,
  Reshape: tf.layers.reshape,
  Permute: tf.layers.permute,
  Concatenate: tf.layers.concatenate,
  BatchNormalization: tf.layers.batchNormalization,
  Activation: tf.layers.activation,
};

/** The constructor arguments of a parsed layer: its config plus name, activation and bias use. */
function layerArgs<T extends ParsedLayerType>(attrs: ParsedLayerOf<T>): ParsedLayerArgs[T] {
  const args: Record<string, unknown> = { ...attrs.config, name: attrs.name };
  if (attrs.activation !== undefined) {
    registerCustomActivation(attrs.activation);
    args.activation = attrs.activation;
  }
  if (isParametric(attrs as LayerAttributes)) args.useBias = true;
  if (attrs.layerType === "DepthwiseConv2D") args.depthMultiplier ??= 1;
  // The config holds the arguments of its layer type (ParsedLayerConfigs[T]); the rest are set above.
  return args as unknown as ParsedLayerArgs[T];
}

/** Create the TF.js layer for one parsed layer (without weights). */
export function createParsedLayer(attrs: LayerAttributes): Layer {
  if (!isParsedLayerType(attrs.layerType)) {
    throw new UnsupportedLayerError(
      `parsed layer '${attrs.name}' has type ${attrs.layerType}, which cannot be built`,
    );
  }
  return buildTyped<ParsedLayerType>(attrs);
}

function buildTyped<T extends ParsedLayerType>(attrs: ParsedLayerOf<T>): Layer {
  const factory: (args: ParsedLayerArgs[T]) => Layer = FACTORIES[attrs.layerType];
  return factory(layerArgs(attrs));
}

/**
 * Run `build` (which builds `layer`) with zero initializers: the weights are
 * set right after, and TF.js's random initialisation of large kernels costs
 * seconds. The layer's configuration keeps its initializers.
 */
function withoutRandomInit<T>(layer: Layer, build: () => T): T {
  const fields = layer as unknown as Record<string, unknown>;
  const keys = ["kernelInitializer", "depthwiseInitializer", "biasInitializer"].filter((k) => fields[k]);
  const saved = keys.map((k) => fields[k]);
  for (const k of keys) fields[k] = tf.initializers.zeros();
  try {
    return build();
  } finally {
    keys.forEach((k, i) => (fields[k] = saved[i]));
  }
}

/**
 * Build a channels-last `tf.LayersModel` from parsed layer attributes, with
 * an input named `inputName` (default `input`) of `inputShape` (without
 * batch); `outputNames` default to the last layer.
 */
export function buildModelFromAttributes(
  layerList: readonly LayerAttributes[],
  inputShape: number[],
  outputNames?: readonly string[],
  inputName = "input",
): LayersModel {
  const input = tf.input({ shape: inputShape, name: inputName });
  const tensors = new Map<string, tf.SymbolicTensor>([[inputName, input]]);
  for (const attrs of layerList) {
    const layer = createParsedLayer(attrs);
    const ins = attrs.inbound.map((n) => {
      const t = tensors.get(n);
      if (!t) throw new ModelFormatError(`parsed layer '${attrs.name}' reads '${n}', which does not exist`);
      return t;
    });
    let out: tf.SymbolicTensor;
    try {
      const apply = () => layer.apply(ins.length === 1 ? ins[0] : ins) as tf.SymbolicTensor;
      out = attrs.parameters ? withoutRandomInit(layer, apply) : apply();
    } catch (err) {
      throw new ModelFormatError(
        `could not build parsed layer '${attrs.name}' (${attrs.layerType}): ${
          err instanceof Error ? err.message : err
        }`,
        { cause: err },
      );
    }
    if (attrs.parameters) setParameters(layer, attrs);
    tensors.set(attrs.name, out);
  }
  const names = outputNames && outputNames.length
    ? outputNames
    : [layerList[layerList.length - 1]?.name ?? inputName];
  const outputs = names.map((n) => tensors.get(n)!);
  return tf.model({ inputs: input, outputs: outputs.length === 1 ? outputs[0] : outputs, name: "parsed" });
}

/** Give `layer` the parameters of `attrs`, or a ModelFormatError naming both shapes. */
function setParameters(layer: Layer, attrs: LayerAttributes): void {
  const params = attrs.mask ? maskKernel(attrs.parameters ?? [], attrs.mask) : attrs.parameters ?? [];
  const ws = params.map((p) => tf.tensor(p.data, p.shape, "float32"));
  try {
    layer.setWeights(ws);
  } catch (err) {
    throw new ModelFormatError(
      `parsed layer '${attrs.name}': weights [${params.map((p) => p.shape.join("x")).join(", ")}] ` +
        `do not fit: ${err instanceof Error ? err.message : err}`,
      { cause: err },
    );
  } finally {
    tf.dispose(ws);
  }
}

/** `[kernel × mask, ...rest]`: the weights a pruned layer computes with. */
function maskKernel(params: readonly Float32NDArray[], mask: Float32NDArray): Float32NDArray[] {
  const [kernel, ...rest] = params;
  const data = new Float32Array(kernel.data.length);
  for (let i = 0; i < data.length; i++) data[i] = kernel.data[i] * mask.data[i];
  return [{ ...kernel, data }, ...rest];
}
