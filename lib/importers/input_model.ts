/**
 * The contract between an input model library (Keras, ONNX, PyTorch, Caffe,
 * Lasagne) and the rest of the toolbox.
 *
 * Every library loads its files into a runnable TensorFlow.js layers model
 * (the *input model*, in the layout the source computes in: `channels_first`
 * for NCHW frameworks), exactly as the Python toolbox loads every library
 * into a Keras model. The one parser (`lib/parsing/model_parser.ts`) then
 * reads that model, whatever library loaded it.
 *
 * @module
 */
import type { LayersModel } from "../../deps.ts";
import { withFileErrors } from "../io/unexpected_errors.ts";
import { applyTfjsFixes } from "../layers/tfjs_fixes.ts";
import type { CustomObjectsDict } from "../layers/custom_objects.ts";

/** Image data layout of a model or layer. */
export type DataFormat = "channels_first" | "channels_last";

/** A loaded input model (the Python toolbox's `{'model': ..., 'val_fn': ...}`). */
export interface InputModel {
  /** The source model as a runnable TensorFlow.js layers model. */
  model: LayersModel;
  /** The name of the library it was loaded by (a key of `MODEL_LIBRARIES`). */
  library: string;
  /** The main file it was loaded from (absolute or as given). */
  path: string;
  /** Layout of the model's input (`channels_first` means NCHW input). */
  dataFormat: DataFormat;
  /** Free-form facts about the source (framework version, backend, kernel flips applied, ...). */
  metadata: Record<string, string>;
  /**
   * Attributes of layers (by layer name) that the model file states but
   * TF.js layers do not keep: the toolbox's per-layer fixed point format
   * `"Qm.f": [m, f]` and `"quantize_bias": boolean`. The parser adds them
   * to the layer's config.
   */
  layerAttributes?: Record<string, Record<string, unknown>>;
}

/** Options every library's `load` accepts. */
export interface LoadOptions {
  /** Flip convolution kernels (Theano-trained models); `undefined` = decide from the file. */
  flipKernels?: boolean;
  /** Input shape without batch (source layout), for formats that do not state it (Caffe Data layers). */
  inputShape?: number[];
  /**
   * Custom objects the model file may name (`[paths] filepath_custom_objects`,
   * see `getCustomActivationsDict`): each custom activation is registered
   * under its key before the model is built (Keras library).
   */
  customObjects?: Readonly<CustomObjectsDict>;
}

/**
 * One input library (`[input] model_lib = <name>`): which files it reads and
 * how it turns them into an {@linkcode InputModel}. Each library is one such
 * value, made with {@linkcode defineLibrary} in `lib/importers/<name>/mod.ts`
 * and listed once in `lib/importers/mod.ts`.
 */
export interface ModelLibrary<N extends string = string> {
  /** The `[input] model_lib` value that selects this library. */
  readonly name: N;
  /**
   * Extensions (lower case, with the dot) of the main file `load` accepts: a
   * path ending in one picks this library, and `path_wd/filename_ann` is
   * completed with the first that exists.
   */
  readonly extensions: readonly string[];
  /**
   * The files a model named `stem` (`path_wd/filename_ann`) consists of, in
   * groups: one path of each group must exist. Each path is `stem` plus an
   * extension (so `requiredFiles("")` lists the extensions).
   */
  requiredFiles(stem: string): string[][];
  /**
   * Another set of files (groups, as {@linkcode requiredFiles}) the library
   * accepts instead of the required ones (PyTorch: an ONNX export).
   */
  alternativeFiles?(stem: string): string[][];
  /**
   * Whether the library reads `path`, for extensions several libraries share
   * (a `.py` is a PyTorch script when it imports torch, else a Lasagne one).
   */
  claims?(path: string): boolean;
  /**
   * Load the model at `path` into an input model. Through the library value
   * every input model gets the TF.js corrections of `lib/layers/tfjs_fixes.ts`,
   * and a raw error of a reader or dependency becomes a toolbox error naming
   * the file (`lib/io/unexpected_errors.ts`).
   */
  load(path: string, options?: LoadOptions): Promise<InputModel>;
}

/**
 * Make a library value from its parts; its `load` wraps `spec.load` (see
 * {@linkcode ModelLibrary.load}).
 */
export function defineLibrary<N extends string>(spec: ModelLibrary<N>): ModelLibrary<N> {
  return {
    ...spec,
    load: (path, options) =>
      withFileErrors(path, "load the model", async () => {
        const input = await spec.load(path, options);
        applyTfjsFixes(input.model);
        return input;
      }),
  };
}
