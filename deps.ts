/**
 * Every third-party dependency of the toolbox, as full pinned `npm:`
 * specifiers. Modules import from here (never bare specifiers), so the module
 * graph resolves on its own when imported remotely (a remote module's
 * `deno.json` import map is not applied).
 *
 * @module
 */

/** TensorFlow.js (core, layers, CPU backend). */
export * as tf from "npm:@tensorflow/tfjs@4.22.0";
/** The WebAssembly backend of TensorFlow.js. */
export * as tfwasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
/** The WebGPU backend of TensorFlow.js (registers backend `webgpu` where `navigator.gpu` exists). */
export * as tfwebgpu from "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
/** HDF5 reading and writing (the HDF5 C library compiled to WASM). */
export { default as h5wasm } from "npm:h5wasm@0.10.3/node";
/** ONNX protobuf schema (generated protobufjs code, a CommonJS module: use its `.onnx` namespace). */
export { default as onnxProtoModule } from "npm:onnx-proto@8.0.1";
/** ZIP archives with deflate (numpy `.npz` files from `savez` / `savez_compressed`). */
export * as fflate from "npm:fflate@0.8.3";
/**
 * onnxruntime-node (a native addon), for tests and benchmarks only: imported at run time by tests/_ort.ts,
 * so it is pinned in tests/deno.lock (the test and bench tasks' lock file), never in deno.lock.
 */
export const ONNXRUNTIME_NODE = "npm:onnxruntime-node@1.20.1";
/**
 * onnxruntime-web, for benchmarks only (its WebGPU build, `${ONNXRUNTIME_WEB}/webgpu`, is the peer of the
 * WebGPU benchmark): imported at run time by bench/webgpu_bench.ts, so pinned in tests/deno.lock only.
 */
export const ONNXRUNTIME_WEB = "npm:onnxruntime-web@1.20.1";

// Dependency types the toolbox's API names, as aliases mod.ts exports (a plain
// re-export would make `deno doc --lint` lint the dependencies' own docs).
// deno-lint-ignore no-import-prefix
import type * as tfTypes from "npm:@tensorflow/tfjs@4.22.0";
// deno-lint-ignore no-import-prefix
import type { Dataset, File, Group } from "npm:h5wasm@0.10.3/node";
/** A TensorFlow.js layers model: the form of every input, parsed and spiking model (exported by mod.ts, so API docs can name it). */
export type LayersModel = tfTypes.LayersModel;
/** A TensorFlow.js layer. */
export type Layer = tfTypes.layers.Layer;
/** A TensorFlow.js tensor. */
export type Tensor = tfTypes.Tensor;
/** A rank-4 TensorFlow.js tensor (`[batch, height, width, channels]`). */
export type Tensor4D = tfTypes.Tensor4D;
/** An open HDF5 file of h5wasm. */
export type H5File = File;
/** The argument object of a tfjs-layers factory function. */
type ArgsOf<F extends (args: never) => unknown> = NonNullable<Parameters<F>[0]>;
/** Constructor arguments of the tfjs-layers layer types the parsed model holds, by Keras class name. */
export interface TfLayerArgs {
  /** `tf.layers.dense`. */
  Dense: ArgsOf<typeof tfTypes.layers.dense>;
  /** `tf.layers.conv1d`. */
  Conv1D: ArgsOf<typeof tfTypes.layers.conv1d>;
  /** `tf.layers.conv2d`. */
  Conv2D: ArgsOf<typeof tfTypes.layers.conv2d>;
  /** `tf.layers.conv2dTranspose`. */
  Conv2DTranspose: ArgsOf<typeof tfTypes.layers.conv2dTranspose>;
  /** `tf.layers.depthwiseConv2d`. */
  DepthwiseConv2D: ArgsOf<typeof tfTypes.layers.depthwiseConv2d>;
  /** `tf.layers.maxPooling1d`. */
  MaxPooling1D: ArgsOf<typeof tfTypes.layers.maxPooling1d>;
  /** `tf.layers.maxPooling2d`. */
  MaxPooling2D: ArgsOf<typeof tfTypes.layers.maxPooling2d>;
  /** `tf.layers.averagePooling1d`. */
  AveragePooling1D: ArgsOf<typeof tfTypes.layers.averagePooling1d>;
  /** `tf.layers.averagePooling2d`. */
  AveragePooling2D: ArgsOf<typeof tfTypes.layers.averagePooling2d>;
  /** `tf.layers.zeroPadding2d`. */
  ZeroPadding2D: ArgsOf<typeof tfTypes.layers.zeroPadding2d>;
  /** `tf.layers.cropping2D`. */
  Cropping2D: ArgsOf<typeof tfTypes.layers.cropping2D>;
  /** `tf.layers.upSampling2d`. */
  UpSampling2D: ArgsOf<typeof tfTypes.layers.upSampling2d>;
  /** `tf.layers.flatten`. */
  Flatten: ArgsOf<typeof tfTypes.layers.flatten>;
  /** `tf.layers.reshape`. */
  Reshape: ArgsOf<typeof tfTypes.layers.reshape>;
  /** `tf.layers.permute`. */
  Permute: ArgsOf<typeof tfTypes.layers.permute>;
  /** `tf.layers.concatenate`. */
  Concatenate: ArgsOf<typeof tfTypes.layers.concatenate>;
  /** `tf.layers.batchNormalization`. */
  BatchNormalization: ArgsOf<typeof tfTypes.layers.batchNormalization>;
  /** `tf.layers.activation`. */
  Activation: ArgsOf<typeof tfTypes.layers.activation>;
}
/** An HDF5 group of h5wasm. */
export type H5Group = Group;
/** An HDF5 dataset of h5wasm. */
export type H5Dataset = Dataset;
