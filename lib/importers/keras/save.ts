/**
 * Save a tfjs-layers model as a Keras legacy HDF5 full model, laid out as
 * Keras 2 `model.save("x.h5")` writes it: root attributes `model_config`,
 * `keras_version`, `backend`; group `model_weights` with `layer_names` and,
 * per layer, a group with `weight_names` and one dataset per weight at
 * `<layer>/<weight name>`. h5py, Netron and {@linkcode loadKerasModel} read it.
 *
 * @module
 */
import { type LayersModel, tf } from "../../../deps.ts";
import { SnnToolboxError } from "../../errors.ts";
import { type Hdf5Group, writeHdf5Atomic } from "../../io/hdf5.ts";
import { restoreActivationNames } from "../../layers/activations.ts";
import { layerDataFormat } from "../../layers/tfjs_fixes.ts";
import { isObject } from "./json.ts";

/** Options of {@linkcode saveKerasH5}. */
export interface SaveKerasH5Options {
  /** Root `keras_version` attribute (default `"2.2.4"`: the config is Keras 2.2 style, read without Keras 1 conversions). */
  kerasVersion?: string;
  /** Root `backend` attribute (default `"tensorflow"`: kernels are for cross-correlation, never flipped on load). */
  backend?: string;
}

/** Create the groups on the way to `path` (relative to `parent`) and return the last one. */
function ensureGroups(parent: Hdf5Group, parts: string[]): Hdf5Group {
  let g = parent;
  for (const part of parts) {
    const existing = g.keys().includes(part) ? g.get(part) : null;
    g = (existing ?? g.create_group(part)) as Hdf5Group;
  }
  return g;
}

/** Write a list of strings as an attribute; an empty list as h5py writes `np.array([])` (float64, shape [0]). */
function writeNames(obj: Hdf5Group, name: string, names: string[]): void {
  if (names.length === 0) obj.create_attribute(name, new Float64Array(0), [0], "<d");
  else obj.create_attribute(name, names, [names.length]);
}

/** Keras weight name of a tfjs variable: its original name plus TensorFlow's `:0`. */
function kerasWeightName(originalName: string): string {
  return /:\d+$/.test(originalName) ? originalName : `${originalName}:0`;
}

/** Every layer of `model` by name, nested models' layers included. */
function layersByName(
  model: tf.LayersModel,
  out = new Map<string, tf.layers.Layer>(),
): Map<string, tf.layers.Layer> {
  for (const layer of model.layers) {
    out.set(layer.name, layer);
    if (layer instanceof tf.LayersModel) layersByName(layer, out);
  }
  return out;
}

/**
 * Put back the `data_format` that TF.js's `getConfig()` leaves out (Conv1D
 * deletes it), read from the layers of `model`: without it a channels_first
 * layer would load back channels_last.
 */
function restoreDataFormats(topology: unknown, model: tf.LayersModel): void {
  const layers = layersByName(model);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isObject(v)) return;
    const config = v.config;
    if (typeof v.class_name === "string" && isObject(config) && typeof config.name === "string") {
      const layer = layers.get(config.name);
      const format = layer && !("data_format" in config) ? layerDataFormat(layer) : undefined;
      if (format) config.data_format = format === "channelsFirst" ? "channels_first" : "channels_last";
    }
    Object.values(v).forEach(walk);
  };
  walk(topology);
}

/**
 * Write `model` to `path` as a Keras legacy HDF5 full model (atomically:
 * a temporary file renamed into place). Custom layer classes registered
 * with `tf.serialization.registerClass` are written under their class name
 * and load back when registered again. The toolbox's custom activations are
 * written with their exact names (`relu_Q1.4`, `clamped_relu_0.1_None`, as
 * the Python toolbox writes them, not TF.js's snake-cased `relu__q1.4`);
 * {@linkcode loadKerasModel} registers them again.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * import { loadKerasModel, saveKerasH5 } from "./mod.ts";
 * await initBackend();
 * const input = await loadKerasModel("lenet5.h5");
 * await saveKerasH5(input.model, "lenet5_copy.h5");
 * ```
 */
export async function saveKerasH5(
  model: LayersModel,
  path: string,
  options: SaveKerasH5Options = {},
): Promise<void> {
  const kerasVersion = options.kerasVersion ?? "2.2.4";
  const backend = options.backend ?? "tensorflow";
  let topology: unknown;
  try {
    // TF.js snake-cases config strings (`relu_Q1.4` → `relu__q1.4`): write the toolbox's exact names.
    topology = restoreActivationNames(model.toJSON(null, false));
    restoreDataFormats(topology, model);
  } catch (err) {
    throw new SnnToolboxError(
      `${path}: cannot serialize model '${model.name}': ${err instanceof Error ? err.message : err}`,
      { file: path, cause: err },
    );
  }
  if (!isObject(topology)) {
    throw new SnnToolboxError(`${path}: model '${model.name}' serialized to no config`, { file: path });
  }
  const modelConfig = JSON.stringify({ class_name: topology.class_name, config: topology.config });
  // Read every weight before opening the file, so a failure leaves nothing behind.
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((v) => {
      const t = v.read();
      return {
        name: kerasWeightName(v.originalName),
        shape: [...t.shape],
        data: t.dataSync() as Float32Array,
      };
    }),
  }));
  await writeHdf5Atomic(path, (file) => {
    file.create_attribute("keras_version", kerasVersion);
    file.create_attribute("backend", backend);
    file.create_attribute("model_config", modelConfig);
    const mw = file.create_group("model_weights");
    writeNames(mw, "layer_names", layers.map((l) => l.name));
    mw.create_attribute("backend", backend);
    mw.create_attribute("keras_version", kerasVersion);
    for (const layer of layers) {
      const g = mw.create_group(layer.name);
      writeNames(g, "weight_names", layer.weights.map((w) => w.name));
      for (const w of layer.weights) {
        const parts = w.name.split("/");
        const parent = ensureGroups(g, parts.slice(0, -1));
        parent.create_dataset({
          name: parts[parts.length - 1],
          data: Float32Array.from(w.data),
          shape: w.shape,
          dtype: "<f",
        });
      }
    }
  });
}
