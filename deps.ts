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
/** onnxruntime-node (a native addon), for tests and benchmarks only: load it with `await import(ONNXRUNTIME_NODE)`. */
export const ONNXRUNTIME_NODE = "npm:onnxruntime-node@1.20.1";
/** onnxruntime-web's WebGPU build, for benchmarks only: load it with `await import(ONNXRUNTIME_WEB_WEBGPU)`. */
export const ONNXRUNTIME_WEB_WEBGPU = "npm:onnxruntime-web@1.20.1/webgpu";

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
/** An HDF5 group of h5wasm. */
export type H5Group = Group;
/** An HDF5 dataset of h5wasm. */
export type H5Dataset = Dataset;
