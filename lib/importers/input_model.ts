/**
 * The contract between an input model library (Keras, ONNX, PyTorch, Caffe,
 * Lasagne) and the rest of the toolbox.
 *
 * Every library loads its files into a runnable TensorFlow.js layers model
 * (the *input model*, in the layout the source computes in: `channels_first`
 * for NCHW frameworks), exactly as the Python toolbox loads every library
 * into a Keras model. The abstract parser then reads that model through the
 * library's {@linkcode AbstractModelParser} subclass.
 *
 * @module
 */
import type { LayersModel } from "../../deps.ts";

/** The model libraries of `[input] model_lib`. */
export type ModelLib = "keras" | "onnx" | "pytorch" | "caffe" | "lasagne";

/** Names of {@linkcode ModelLib}, for validation messages. */
export const MODEL_LIBS: readonly ModelLib[] = ["keras", "onnx", "pytorch", "caffe", "lasagne"];

/** Image data layout of a model or layer. */
export type DataFormat = "channels_first" | "channels_last";

/** A loaded input model (the Python toolbox's `{'model': ..., 'val_fn': ...}`). */
export interface InputModel {
  /** The source model as a runnable TensorFlow.js layers model. */
  model: LayersModel;
  /** The library it was loaded by. */
  library: ModelLib;
  /** The main file it was loaded from (absolute or as given). */
  path: string;
  /** Layout of the model's input (`channels_first` means NCHW input). */
  dataFormat: DataFormat;
  /** Free-form facts about the source (framework version, backend, kernel flips applied, ...). */
  metadata: Record<string, string>;
}

/** Options every library's `load` accepts. */
export interface LoadOptions {
  /** Flip convolution kernels (Theano-trained models); `undefined` = decide from the file. */
  flipKernels?: boolean;
  /** Input shape without batch (source layout), for formats that do not state it (Caffe Data layers). */
  inputShape?: number[];
}
