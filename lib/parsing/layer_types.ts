/**
 * Which input-model layer types the parser handles, and how: removed
 * (inference no-ops), absorbed (activation layers), rewritten (merge layers)
 * or parsed into a layer of the parsed model.
 *
 * @module
 */

/** Layers that do nothing at inference time. */
export const NOOP_LAYERS: ReadonlySet<string> = new Set([
  "Dropout",
  "SpatialDropout1D",
  "SpatialDropout2D",
  "SpatialDropout3D",
  "GaussianDropout",
  "GaussianNoise",
  "AlphaDropout",
  "ActivityRegularization",
  "Masking",
]);

/** Layers whose only job is an activation function (absorbed into the layer they follow). */
export const ACTIVATION_LAYERS: ReadonlySet<string> = new Set(["Activation", "ReLU", "Softmax"]);

/** Input weights of the linear merge layers rewritten as Concatenate + identity-sum: Add, Average. */
export const MERGE_WEIGHTS: Readonly<Record<string, (i: number, n: number) => number>> = {
  Add: () => 1,
  Average: (_i, n) => 1 / n,
};

/** Layers the parser turns into something a spiking network can implement. */
export const SUPPORTED_LAYERS: ReadonlySet<string> = new Set([
  "InputLayer",
  "Dense",
  "Conv1D",
  "Conv2D",
  "Conv2DTranspose",
  "DepthwiseConv2D",
  "SeparableConv2D",
  "MaxPooling1D",
  "MaxPooling2D",
  "AveragePooling1D",
  "AveragePooling2D",
  "GlobalAveragePooling1D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling1D",
  "GlobalMaxPooling2D",
  "ZeroPadding2D",
  "Cropping2D",
  "UpSampling2D",
  "Flatten",
  "Reshape",
  "Permute",
  "Concatenate",
  "Add",
  "Average",
  "BatchNormalization",
  ...ACTIVATION_LAYERS,
  ...NOOP_LAYERS,
]);
