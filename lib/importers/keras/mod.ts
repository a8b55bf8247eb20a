/**
 * Keras model files: load every Keras flavour (legacy HDF5, JSON + weights,
 * Keras 3 `.keras`, tfjs `model.json`) into a runnable tfjs-layers model,
 * and save a tfjs-layers model as a Keras legacy HDF5 file.
 *
 * @module
 */
export { type KerasFileFormat, loadKerasModel } from "./load.ts";
export { saveKerasH5, type SaveKerasH5Options } from "./save.ts";
