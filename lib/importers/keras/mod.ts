/**
 * The Keras input library (`[input] model_lib = keras`): load every Keras
 * flavour (legacy HDF5, JSON + weights, Keras 3 `.keras`, tfjs `model.json`)
 * into a runnable tfjs-layers model, and save a tfjs-layers model as a Keras
 * legacy HDF5 file (the parsed model's format).
 *
 * @module
 */
import { defineLibrary, type ModelLibrary } from "../input_model.ts";
import { loadKerasModel } from "./load.ts";

export { type KerasFileFormat, loadKerasModel } from "./load.ts";
export { saveKerasH5, type SaveKerasH5Options } from "./save.ts";

/** The Keras library: `NAME.h5`, `NAME.keras` or `NAME.json` (tfjs `model.json` or `to_json()` + weights). */
export const kerasLibrary: ModelLibrary<"keras"> = defineLibrary({
  name: "keras",
  extensions: [".h5", ".hdf5", ".keras", ".json"],
  requiredFiles: (stem) => [[`${stem}.h5`, `${stem}.keras`, `${stem}.json`]],
  load: loadKerasModel,
});
