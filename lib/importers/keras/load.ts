/**
 * Load any Keras model file into a runnable tfjs-layers model with its
 * weights: legacy HDF5 full models (Keras 1, 2, tf.keras), architecture JSON
 * plus weights-only HDF5, Keras 3 `.keras` archives (and HDF5 files
 * mislabelled `.keras`), and tfjs `model.json` with weight shards. The kind
 * of file is sniffed from its bytes, never from its extension.
 *
 * @module
 */
import { h5wasm, tf } from "../../../deps.ts";
import { requireBackend } from "../../backend/mod.ts";
import { ModelFormatError, SnnToolboxError, UnsupportedLayerError } from "../../errors.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import { registerCustomActivationsIn } from "../../layers/activations.ts";
// Importing the custom objects registers the toolbox's pruned layers (Sparse, SparseConv2D, ...) with TF.js.
import { registerCustomObjects } from "../../layers/custom_objects.ts";
import { asToolboxError } from "../../io/unexpected_errors.ts";
import { assertHdf5File, damagedHdf5Error, type Hdf5File, openHdf5, readStringAttr } from "../../io/hdf5.ts";
import { dirName, firstFile, readModelFile, readModelTextFile, stripExtension } from "../../io/paths.ts";
import { readKerasArchive } from "./archive.ts";
import { assignWeights } from "./assign.ts";
import { checkConfigNesting, detectGeneration, normalizeModelConfig, resolveKeepdims } from "./config.ts";
import { asString, isObject, type JsonObject } from "./json.ts";
import {
  hasLegacyWeights,
  readKeras3Weights,
  readLegacyWeights,
  readTfjsWeights,
  type WeightTable,
} from "./weights.ts";

/** The container formats {@linkcode loadKerasModel} reads. */
export type KerasFileFormat = "keras-h5" | "keras-json+h5" | "keras3" | "tfjs-layers";

/** A model config and its weights, as found in the file(s). */
interface KerasSource {
  format: KerasFileFormat;
  config: JsonObject;
  kerasVersion: string;
  backend: string;
  weights: WeightTable;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the first bytes of `path` say it is. */
async function sniff(path: string): Promise<"hdf5" | "zip" | "json" | "unknown"> {
  let head: Uint8Array;
  try {
    using f = await Deno.open(path, { read: true });
    head = new Uint8Array(64);
    const n = await f.read(head);
    head = head.subarray(0, n ?? 0);
  } catch (err) {
    throw new ModelFormatError(`${path}: cannot open model file: ${errText(err)}`, {
      file: path,
      cause: err,
    });
  }
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return "zip";
  }
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x48 && head[2] === 0x44 && head[3] === 0x46) {
    return "hdf5";
  }
  const text = new TextDecoder().decode(head).replace(/^\uFEFF/, "").trimStart();
  if (text.startsWith("{")) return "json";
  return "unknown";
}

async function readJson(path: string): Promise<JsonObject> {
  const text = await readModelTextFile(path, "the Keras JSON file");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ModelFormatError(`${path}: not valid JSON (${errText(err)})`, { file: path, cause: err });
  }
  if (!isObject(v)) {
    throw new ModelFormatError(`${path}: JSON is not an object; expected a model`, { file: path });
  }
  return v;
}

/** The `{class_name, config}` model config inside a Keras JSON document, or `undefined`. */
function modelConfigOf(doc: JsonObject): JsonObject | undefined {
  const inner = isObject(doc.model_config) ? doc.model_config : doc;
  return typeof inner.class_name === "string" && (isObject(inner.config) || Array.isArray(inner.config))
    ? inner
    : undefined;
}

/** Read the weights of an open HDF5 file: the legacy layout (root or `model_weights`) or the Keras 3 layout. */
function weightsOfHdf5(h5: Hdf5File, file: string): WeightTable {
  const mw = h5.get("model_weights");
  if (mw instanceof h5wasm.Group && hasLegacyWeights(mw)) return readLegacyWeights(mw, file);
  if (hasLegacyWeights(h5)) return readLegacyWeights(h5, file);
  if (h5.keys().includes("layers")) return readKeras3Weights(h5, file);
  throw new ModelFormatError(
    `${file}: HDF5 file holds no Keras weights (no 'model_weights' group, no 'layer_names' attribute, ` +
      `no Keras 3 'layers' group); found top-level entries: ${h5.keys().join(", ") || "none"}`,
    { file },
  );
}

function attr(h5: Hdf5File, name: string, file: string): string {
  return readStringAttr(h5, name, file) ?? "";
}

async function fromHdf5(path: string, h5: Hdf5File): Promise<KerasSource> {
  const modelConfig = readStringAttr(h5, "model_config", path);
  const kerasVersion = attr(h5, "keras_version", path);
  const backend = attr(h5, "backend", path);
  if (modelConfig !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(modelConfig);
    } catch (err) {
      throw new ModelFormatError(`${path}: root attribute 'model_config' is not valid JSON`, {
        file: path,
        cause: err,
      });
    }
    const config = isObject(doc) ? modelConfigOf(doc) : undefined;
    if (config === undefined) {
      throw new ModelFormatError(
        `${path}: 'model_config' is not a Keras model config ({"class_name", "config"})`,
        {
          file: path,
        },
      );
    }
    return { format: "keras-h5", config, kerasVersion, backend, weights: weightsOfHdf5(h5, path) };
  }
  // Weights only: the architecture is a JSON file beside it.
  const base = stripExtension(path);
  const jsonPath = await firstFile([
    `${base}.json`,
    ...(base.endsWith("_weights") ? [`${base.slice(0, -"_weights".length)}.json`] : []),
    ...(base.endsWith(".weights") ? [`${base.slice(0, -".weights".length)}.json`] : []),
  ]);
  if (jsonPath === undefined) {
    throw new ModelFormatError(
      `${path}: HDF5 file has no 'model_config' attribute (weights only) and no architecture JSON was found ` +
        `(looked for ${base}.json)`,
      { file: path },
    );
  }
  const doc = await readJson(jsonPath);
  const config = modelConfigOf(doc);
  if (config === undefined) throw notAModel(jsonPath, doc);
  return {
    format: "keras-json+h5",
    config,
    kerasVersion: kerasVersion || asString(doc.keras_version) || "",
    backend: backend || asString(doc.backend) || "",
    weights: weightsOfHdf5(h5, path),
  };
}

function notAModel(path: string, doc: JsonObject): ModelFormatError {
  return new ModelFormatError(
    `${path}: JSON is not a Keras model; expected {"class_name", "config"} (model.to_json()), ` +
      `{"model_config"} or a tfjs model.json with "modelTopology"; found keys: ${
        Object.keys(doc).slice(0, 10).join(", ") || "none"
      }`,
    { file: path },
  );
}

/** Run `fn` with `path` opened as HDF5, closing it afterwards. */
async function withHdf5<T>(path: string, fn: (h5: Hdf5File) => Promise<T>): Promise<T> {
  const h5 = await openHdf5(path);
  try {
    return await fn(h5);
  } catch (err) {
    // The HDF5 library's own checks failing: a damaged file, reported against this file.
    throw damagedHdf5Error(err, path) ?? asToolboxError(err, path, "read the HDF5 file");
  } finally {
    try {
      h5.close();
    } catch { /* already closed */ }
  }
}

/** Build the tfjs model of `source`, load its weights and describe it. */
async function build(path: string, source: KerasSource, options: LoadOptions): Promise<InputModel> {
  checkConfigNesting(source.config, path);
  const generation = detectGeneration(source.config, source.kerasVersion);
  const norm = normalizeModelConfig(source.config, generation, source.backend);
  if (norm.unbuildable.length > 0) {
    const list = norm.unbuildable.map((l) =>
      `${l.name} (${l.className}${l.module ? `, module ${l.module}` : ""})`
    );
    throw new UnsupportedLayerError(
      `${path}: ${norm.unbuildable.length} layer(s) cannot be built by the Keras loader: ${list.join("; ")}`,
      { file: path },
    );
  }
  if (norm.problems.length > 0) {
    throw new ModelFormatError(
      `${path}: the model graph is broken: ${norm.problems.slice(0, 5).join("; ")}`,
      {
        file: path,
      },
    );
  }
  let model: tf.LayersModel;
  try {
    await resolveKeepdims(norm);
    // TF.js camelCases activation strings before looking them up: register the toolbox's
    // custom activations (`relu_Q1.4`, `clamped_relu_0.1_None`) under those names first.
    registerCustomActivationsIn(norm.config);
    if (options.customObjects) registerCustomObjects(options.customObjects);
    model = await tf.models.modelFromJSON({
      modelTopology: norm.config as unknown as tf.io.ModelJSON["modelTopology"],
    });
  } catch (err) {
    throw new ModelFormatError(`${path}: cannot build the model from its config: ${errText(err)}`, {
      file: path,
      cause: err,
    });
  }
  const flip = options.flipKernels ??
    (source.backend === "theano" || (source.backend === "" && generation === "1" && norm.theanoOrdering));
  let flipped: number;
  try {
    flipped = assignWeights(model, source.weights, { flipKernels: flip, keras1: generation === "1" });
  } catch (err) {
    model.dispose();
    if (err instanceof SnnToolboxError) throw err;
    throw new ModelFormatError(`${path}: cannot load weights: ${errText(err)}`, { file: path, cause: err });
  }
  const layerAttributes = precisionAttributes(norm.config);
  return {
    model,
    library: "keras",
    path,
    dataFormat: norm.dataFormat,
    ...(Object.keys(layerAttributes).length ? { layerAttributes } : {}),
    metadata: {
      format: source.format,
      kerasVersion: source.kerasVersion || (generation === "1" ? "1" : ""),
      kerasGeneration: generation,
      backend: source.backend,
      kernelsFlipped: String(flip && flipped > 0),
      weightsFile: source.weights.file,
      modelClass: asString(source.config.class_name) ?? "",
    },
  };
}

/** The toolbox's per-layer precision attributes (`Qm.f`, `quantize_bias`) in a model config, by layer name. */
function precisionAttributes(config: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isObject(v)) return;
    const cfg = v.config;
    if (typeof v.class_name === "string" && isObject(cfg) && typeof cfg.name === "string") {
      const extra: Record<string, unknown> = {};
      if (Array.isArray(cfg["Qm.f"]) && cfg["Qm.f"].length === 2) extra["Qm.f"] = cfg["Qm.f"].map(Number);
      if (typeof cfg.quantize_bias === "boolean") extra.quantize_bias = cfg.quantize_bias;
      if (Object.keys(extra).length) out[cfg.name] = extra;
    }
    Object.values(v).forEach(walk);
  };
  walk(config);
  return out;
}

async function loadHdf5(path: string, options: LoadOptions): Promise<InputModel> {
  return await withHdf5(path, async (h5) => build(path, await fromHdf5(path, h5), options));
}

async function loadArchive(path: string, options: LoadOptions): Promise<InputModel> {
  const archive = readKerasArchive(await readModelFile(path, "the Keras archive"), path);
  const tmp = await Deno.makeTempFile({ prefix: "snntoolbox-keras3-", suffix: ".weights.h5" });
  try {
    await Deno.writeFile(tmp, archive.weightsH5);
    return await withHdf5(tmp, async (h5) => {
      const weights = weightsOfHdf5(h5, `${path}:model.weights.h5`);
      const source: KerasSource = {
        format: "keras3",
        config: archive.config,
        kerasVersion: asString(archive.metadata.keras_version) ?? "3",
        backend: "",
        weights,
      };
      return await build(path, source, options);
    });
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

async function loadJson(path: string, options: LoadOptions): Promise<InputModel> {
  const doc = await readJson(path);
  if ("modelTopology" in doc) {
    if (doc.format === "graph-model" || !isObject(doc.modelTopology)) {
      throw new ModelFormatError(
        `${path}: a tfjs ${String(doc.format ?? "graph")} model; only the tfjs layers format is supported`,
        { file: path },
      );
    }
    const topology = doc.modelTopology;
    const config = modelConfigOf(topology);
    if (config === undefined) throw notAModel(path, topology);
    const weights = await readTfjsWeights(doc.weightsManifest ?? [], dirName(path), path);
    return await build(path, {
      format: "tfjs-layers",
      config,
      kerasVersion: asString(topology.keras_version) ?? "",
      backend: asString(topology.backend) ?? "",
      weights,
    }, options);
  }
  const config = modelConfigOf(doc);
  if (config === undefined) throw notAModel(path, doc);
  const base = stripExtension(path);
  const weightsPath = await firstFile([
    `${base}.h5`,
    `${base}_weights.h5`,
    `${base}.weights.h5`,
    `${base}.hdf5`,
  ]);
  if (weightsPath === undefined) {
    throw new ModelFormatError(
      `${path}: architecture JSON without weights; expected ${base}.h5 or ${base}_weights.h5 beside it`,
      { file: path },
    );
  }
  return await withHdf5(weightsPath, async (h5) => {
    const kerasVersion = readStringAttr(h5, "keras_version", weightsPath) ?? asString(doc.keras_version) ??
      "";
    const backend = readStringAttr(h5, "backend", weightsPath) ?? asString(doc.backend) ?? "";
    const isKeras3 = !hasLegacyWeights(h5) && h5.get("model_weights") === null &&
      h5.keys().includes("layers");
    return await build(path, {
      format: isKeras3 ? "keras3" : "keras-json+h5",
      config,
      kerasVersion,
      backend,
      weights: weightsOfHdf5(h5, weightsPath),
    }, options);
  });
}

/**
 * Load a Keras model file into a runnable tfjs-layers model with its weights.
 *
 * `path` may be a legacy HDF5 full model (`model.save("x.h5")`, Keras 1/2,
 * tf.keras), a weights-only HDF5 with `NAME.json` beside it, an architecture
 * JSON `NAME.json` with `NAME.h5` or `NAME_weights.h5` beside it, a Keras 3
 * `.keras` archive, or a tfjs `model.json` with its weight shards. The file
 * kind is sniffed from its bytes.
 *
 * Theano-trained kernels are flipped for cross-correlation (from the file's
 * `backend` attribute, or Keras 1 `dim_ordering: "th"` when it has none)
 * unless `options.flipKernels` says otherwise; `metadata.kernelsFlipped`
 * records the decision.
 *
 * @throws {UnsupportedLayerError} listing every layer tfjs-layers cannot build.
 * @throws {ModelFormatError} for any structural problem, naming the file and layer.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * import { loadKerasModel } from "./mod.ts";
 * await initBackend(); // entry points start the backend, loaders compute on it
 * const input = await loadKerasModel("lenet5.h5");
 * console.log(input.dataFormat, input.model.inputs[0].shape, input.metadata.kerasVersion);
 * ```
 */
export async function loadKerasModel(path: string, options: LoadOptions = {}): Promise<InputModel> {
  requireBackend(path);
  const kind = await sniff(path);
  if (kind === "zip") return await loadArchive(path, options);
  if (kind === "json") return await loadJson(path, options);
  if (kind === "hdf5") return await loadHdf5(path, options);
  try {
    await assertHdf5File(path); // an HDF5 file with a user block before its signature
  } catch {
    throw notAModelFile(path);
  }
  return await loadHdf5(path, options);
}

function notAModelFile(path: string): ModelFormatError {
  return new ModelFormatError(
    `${path}: not a Keras model file; expected HDF5 (.h5), a zip archive (.keras) or JSON (model.json / model.to_json())`,
    { file: path },
  );
}
