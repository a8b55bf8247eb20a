/**
 * Model files in and out of the parsing stage: load an input model with the
 * library named (or guessed from the file extension), and save the parsed
 * model as a Keras HDF5 file.
 *
 * @module
 */
import type { LayersModel } from "../../deps.ts";
import { InputShapeRequiredError, UsageError } from "../errors.ts";
import { saveKerasH5 } from "../importers/keras/save.ts";
import { baseName, dirName, joinPath, stripExtension } from "../io/paths.ts";
import {
  getModelLibrary,
  guessModelLibrary,
  type InputModel,
  type LoadOptions,
  MODEL_FILE_EXTENSIONS,
  type ModelLib,
  type ModelLibrary,
} from "../importers/mod.ts";

/** A loaded input model with the library that loaded it. */
export interface LoadedModel {
  /** The library's name. */
  libraryName: ModelLib;
  /** The library. */
  library: ModelLibrary;
  /** The input model. */
  inputModel: InputModel;
}

/** Load `path` with library `lib`, or the library its extension belongs to. */
export async function loadInputModel(
  path: string,
  lib?: string,
  options: LoadOptions = {},
): Promise<LoadedModel> {
  const name = (lib ?? guessModelLibrary(path)) as ModelLib | undefined;
  if (!name) {
    throw new UsageError(`cannot tell the model library of '${path}' from its extension; pass --lib NAME`);
  }
  const library = getModelLibrary(name);
  return { libraryName: name, library, inputModel: await library.load(path, options) };
}

/**
 * Load like {@linkcode loadInputModel}, for running on samples of shape
 * `sampleShape` (one sample, batch excluded, in the model's own layout): a
 * model that does not state its input shape (a Caffe net fed by a Data
 * layer) takes that shape. Without samples such a model keeps its
 * {@linkcode InputShapeRequiredError}.
 */
export async function loadInputModelForData(
  path: string,
  lib: string | undefined,
  sampleShape: readonly number[],
): Promise<LoadedModel> {
  try {
    return await loadInputModel(path, lib);
  } catch (err) {
    if (!(err instanceof InputShapeRequiredError)) throw err;
    return await loadInputModel(path, lib, { inputShape: [...sampleShape] });
  }
}

/** The file name the toolbox gives a parsed model: `<dir>/<name>_parsed.h5`. */
export function parsedModelPath(modelPath: string, outDir?: string): string {
  const stem = stripExtension(baseName(modelPath), MODEL_FILE_EXTENSIONS);
  return joinPath(outDir ?? dirName(modelPath), `${stem}_parsed.h5`);
}

/**
 * Save a parsed model as a Keras HDF5 file (`model_config` + `model_weights`),
 * atomically. Custom activations are written with their exact toolbox names
 * (`relu_Q1.4`, not TF.js's snake-cased `relu__q1.4`), as the Python toolbox
 * writes them (see {@linkcode saveKerasH5}); the Keras library registers them
 * again when loading.
 */
export function saveParsedModel(model: LayersModel, path: string): Promise<void> {
  return saveKerasH5(model, path);
}
