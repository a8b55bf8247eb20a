/**
 * Stored Keras weights, read lazily so that shapes are validated before data
 * is read: the legacy HDF5 layout (`layer_names` / `weight_names` attributes,
 * Keras 1 and 2, full models and `save_weights` files), the Keras 3
 * `model.weights.h5` layout (`layers/<name>/vars/<i>`), and tfjs
 * `weightsManifest` shards.
 *
 * @module
 */
import { h5wasm, tf } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import { type Hdf5Group, readStringArrayAttr, readStringAttr } from "../../io/hdf5.ts";
import { summarizeError } from "../../io/unexpected_errors.ts";
import { joinPath } from "../../io/paths.ts";
import { isObject, type JsonObject } from "./json.ts";

/** One stored weight array. */
export interface StoredWeight {
  /** Its name in the file (`conv2d_1/kernel:0`, `dense_1_W`, `vars/0`, ...). */
  name: string;
  /** Its shape in the file. */
  shape: number[];
  /** Read its values as float32 (C order). */
  read(): Float32Array;
}

/** Every stored weight of a model, by layer. */
export interface WeightTable {
  /** The file the weights come from (for messages). */
  file: string;
  /** Layer name → its weights in the order Keras stores them. */
  layers: Map<string, StoredWeight[]>;
}

/** An attribute that h5py wrote as an empty float64 array (`np.array([])`) reads as `[]`. */
function stringListAttr(group: Hdf5Group, name: string, file: string): string[] | undefined {
  const attr = group.attrs[name];
  if (attr === undefined) return undefined;
  if (attr.shape !== null && attr.shape.length === 1 && attr.shape[0] === 0) return [];
  return readStringArrayAttr(group, name, file);
}

function datasetWeight(parent: Hdf5Group, name: string, path: string, file: string): StoredWeight {
  let entity: unknown;
  try {
    entity = parent.get(name);
  } catch (err) {
    throw new ModelFormatError(
      `${file}: cannot read weight '${path}': ${summarizeError(err)}`,
      {
        file,
        cause: err,
      },
    );
  }
  if (!(entity instanceof h5wasm.Dataset)) {
    throw new ModelFormatError(
      `${file}: weight '${path}' listed in the weight names is missing (expected a dataset, found ${
        entity === null ? "nothing" : (entity as object).constructor.name
      })`,
      { file },
    );
  }
  const ds = entity;
  const meta = ds.metadata;
  if (meta.type !== 1 || (meta.size !== 4 && meta.size !== 8 && meta.size !== 2)) {
    throw new ModelFormatError(
      `${file}: weight '${path}' has HDF5 type ${meta.type} of ${meta.size} bytes; expected float16/32/64`,
      { file },
    );
  }
  return {
    name,
    shape: [...(ds.shape ?? [])],
    read(): Float32Array {
      try {
        const v = ds.value;
        if (v instanceof Float32Array) return v;
        if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
          return Float32Array.from(v as ArrayLike<number>);
        }
        if (typeof v === "number") return Float32Array.of(v);
      } catch (err) {
        throw new ModelFormatError(
          `${file}: cannot read the data of weight '${path}' (truncated file?): ${summarizeError(err)}`,
          { file, cause: err },
        );
      }
      throw new ModelFormatError(`${file}: weight '${path}' did not read as a float array`, { file });
    },
  };
}

/**
 * Read the legacy Keras weight layout from `group` (the `model_weights`
 * group of a full model, or the root of a `save_weights` file).
 */
export function readLegacyWeights(group: Hdf5Group, file: string): WeightTable {
  const layerNames = stringListAttr(group, "layer_names", file);
  if (layerNames === undefined) {
    throw new ModelFormatError(
      `${file}: '${group.path}' has no 'layer_names' attribute; not a Keras weights group`,
      {
        file,
      },
    );
  }
  const layers = new Map<string, StoredWeight[]>();
  for (const layerName of layerNames) {
    const sub = group.get(layerName);
    if (!(sub instanceof h5wasm.Group)) {
      throw new ModelFormatError(
        `${file}: layer '${layerName}' is listed in 'layer_names' but has no weight group in '${group.path}'`,
        { file },
      );
    }
    const weightNames = stringListAttr(sub, "weight_names", file) ?? sub.keys();
    layers.set(
      layerName,
      weightNames.map((w) => datasetWeight(sub, w, `${sub.path}/${w}`, file)),
    );
  }
  return { file, layers };
}

/** Whether `group` holds the legacy layout (a `layer_names` attribute). */
export function hasLegacyWeights(group: Hdf5Group): boolean {
  return group.attrs["layer_names"] !== undefined;
}

/**
 * Read a Keras 3 `model.weights.h5` (`layers/<key>/vars/<i>`). The layer
 * name is the `name` attribute of `vars` when present (Keras ≥ 3.?), else
 * the group key (Keras names the key after the class: `dense`, `dense_1`).
 * Nested models (`layers/<key>/layers/...`) contribute their leaves in order.
 */
export function readKeras3Weights(root: Hdf5Group, file: string): WeightTable {
  const layers = new Map<string, StoredWeight[]>();
  const top = root.get("layers");
  if (!(top instanceof h5wasm.Group)) {
    throw new ModelFormatError(`${file}: no 'layers' group; expected a Keras 3 model.weights.h5`, { file });
  }
  collectKeras3Layers(top, layers, file);
  return { file, layers };
}

/**
 * File every layer group under `parent` by its name (the `name` attribute
 * of `vars`, else the group key); the layers of a nested model
 * (`<key>/layers/...`) are filed under their own names. Returns all
 * weights found, in order.
 */
function collectKeras3Layers(
  parent: Hdf5Group,
  into: Map<string, StoredWeight[]>,
  file: string,
): StoredWeight[] {
  const all: StoredWeight[] = [];
  for (const key of parent.keys()) {
    const g = parent.get(key);
    if (!(g instanceof h5wasm.Group)) continue;
    const vars = g.get("vars");
    const name = vars instanceof h5wasm.Group ? readStringAttr(vars, "name", file) ?? key : key;
    const own: StoredWeight[] = [];
    if (vars instanceof h5wasm.Group) {
      const keys = vars.keys().sort((a, b) => Number(a) - Number(b));
      for (const k of keys) own.push(datasetWeight(vars, k, `${vars.path}/${k}`, file));
    }
    const nested = g.get("layers");
    const inner = nested instanceof h5wasm.Group ? collectKeras3Layers(nested, into, file) : [];
    // A nested model is filed through its layers (see assignWeights), a leaf under its name.
    if (!into.has(name) && (own.length > 0 || inner.length === 0)) into.set(name, own);
    all.push(...own, ...inner);
  }
  return all;
}

/** Bytes per element of a tfjs weight spec's stored dtype. */
function storedBytes(spec: JsonObject): number {
  const q = isObject(spec.quantization) ? spec.quantization.dtype : undefined;
  const dtype = typeof q === "string" ? q : spec.dtype;
  if (dtype === "uint8" || dtype === "bool") return 1;
  if (dtype === "uint16" || dtype === "float16") return 2;
  return 4;
}

/**
 * Read the weights of a tfjs `model.json` from its shards (paths relative to
 * `dir`). Weight names are `layer/weight`; each is filed under the layer
 * part before the last `/`.
 */
export async function readTfjsWeights(manifest: unknown, dir: string, file: string): Promise<WeightTable> {
  if (!Array.isArray(manifest)) {
    throw new ModelFormatError(`${file}: 'weightsManifest' is not a list of weight groups`, { file });
  }
  const layers = new Map<string, StoredWeight[]>();
  for (const [gi, group] of manifest.entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelFormatError(`${file}: weightsManifest[${gi}] lacks 'paths' or 'weights'`, { file });
    }
    const specs = group.weights.filter(isObject);
    const parts: Uint8Array[] = [];
    for (const p of group.paths) {
      const rel = String(p);
      if (rel.startsWith("/") || rel.split(/[\\/]/).includes("..") || /^[a-z]+:/i.test(rel)) {
        throw new ModelFormatError(
          `${file}: weight shard path '${rel}' leaves the model's folder; expected a file name beside model.json`,
          { file },
        );
      }
      const shard = joinPath(dir, rel);
      try {
        parts.push(await Deno.readFile(shard));
      } catch (err) {
        throw new ModelFormatError(
          `${file}: cannot read weight shard ${shard}: ${err instanceof Error ? err.message : err}`,
          {
            file,
            cause: err,
          },
        );
      }
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    let expected = 0;
    for (const s of specs) {
      const shape = Array.isArray(s.shape) ? s.shape.map(Number) : [];
      expected += shape.reduce((a, b) => a * b, 1) * storedBytes(s);
    }
    if (total < expected) {
      throw new ModelFormatError(
        `${file}: weight shards of group ${gi} (${group.paths.join(", ")}) hold ${total} bytes; ` +
          `the manifest needs ${expected}`,
        { file },
      );
    }
    const buffer = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      buffer.set(p, off);
      off += p.length;
    }
    let decoded: Record<string, InstanceType<typeof tf.Tensor>>;
    try {
      decoded = tf.io.decodeWeights(buffer.buffer, specs as unknown as tf.io.WeightsManifestEntry[]);
    } catch (err) {
      throw new ModelFormatError(
        `${file}: cannot decode weight group ${gi}: ${err instanceof Error ? err.message : err}`,
        {
          file,
          cause: err,
        },
      );
    }
    for (const [name, tensor] of Object.entries(decoded)) {
      const cut = name.lastIndexOf("/");
      const layer = cut > 0 ? name.slice(0, cut) : name;
      const data = tensor.dataSync() as Float32Array;
      const values = data instanceof Float32Array ? data : Float32Array.from(data);
      const shape = [...tensor.shape];
      tensor.dispose();
      const list = layers.get(layer) ?? [];
      list.push({ name, shape, read: () => values });
      layers.set(layer, list);
    }
  }
  return { file, layers };
}
