/**
 * Normalize a Keras model config of any generation (Keras 1.x, Keras 2.x /
 * tf.keras, Keras 3) to the Keras-2 style that tfjs-layers deserializes
 * (`{"class_name", "config"}` with snake_case keys, `batch_input_shape`,
 * `[[name, node, tensor, kwargs]]` inbound nodes), and collect the layer
 * classes tfjs-layers cannot build.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import type { DataFormat } from "../input_model.ts";
import { asString, cloneJson, isObject, type JsonObject } from "./json.ts";
import { channelsFirstPooling1DClass } from "../../layers/tfjs_fixes.ts";

/** The Keras generation a config was written by. */
export type KerasGeneration = "1" | "2" | "3";

/** A layer whose class tfjs-layers cannot build. */
export interface UnbuildableLayer {
  /** Layer name. */
  name: string;
  /** Keras class name (after Keras 1 renames). */
  className: string;
  /** Python module of the class when the file states it (Keras 3), else `""`. */
  module: string;
}

/** Result of {@linkcode normalizeModelConfig}. */
export interface NormalizedConfig {
  /** Keras-2-style `{class_name, config}` of the whole model. */
  config: JsonObject;
  /** Generation the source config was written by. */
  generation: KerasGeneration;
  /** Layers tfjs-layers cannot build (empty when the model can be built). */
  unbuildable: UnbuildableLayer[];
  /** Whether any layer uses Theano dimension ordering (Keras 1 `dim_ordering: "th"`). */
  theanoOrdering: boolean;
  /** Data format of the first spatial layer (`channels_last` when there is none). */
  dataFormat: DataFormat;
  /** Reshape layers added for `keepdims` pooling whose channel count is still `-1` (see {@linkcode resolveKeepdims}). */
  keepdims: { reshape: string; pool: string }[];
  /** Broken graph references (a layer or node that does not exist); empty when the graph is sound. */
  problems: string[];
}

/** Keys Keras 3 adds to every serialized object that Keras 2 does not know. */
const KERAS3_ONLY_KEYS = new Set([
  "module",
  "registered_name",
  "build_config",
  "compile_config",
  "shared_object_id",
]);

/** Container classes whose config holds a `layers` list. */
const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);

/** Keras 1 class names and their Keras 2 equivalents. */
const KERAS1_CLASSES: Record<string, string> = {
  Convolution1D: "Conv1D",
  Convolution2D: "Conv2D",
  Convolution3D: "Conv3D",
  AtrousConvolution1D: "Conv1D",
  AtrousConvolution2D: "Conv2D",
  Deconvolution2D: "Conv2DTranspose",
  SeparableConvolution2D: "SeparableConv2D",
};

/** Keras 1 `Merge` modes and the Keras 2 merge layer each became. */
const MERGE_MODES: Record<string, string> = {
  sum: "Add",
  concat: "Concatenate",
  mul: "Multiply",
  ave: "Average",
  max: "Maximum",
};

/** Keras 1 argument names and their Keras 2 equivalents (all layers). */
const KERAS1_ARGS: Record<string, string> = {
  output_dim: "units",
  nb_filter: "filters",
  subsample: "strides",
  subsample_length: "strides",
  border_mode: "padding",
  dim_ordering: "data_format",
  init: "kernel_initializer",
  inner_init: "recurrent_initializer",
  bias: "use_bias",
  input_dtype: "dtype",
  atrous_rate: "dilation_rate",
  filter_length: "kernel_size",
  pool_length: "pool_size",
  beta_init: "beta_initializer",
  gamma_init: "gamma_initializer",
  concat_axis: "axis",
  forget_bias_init: "unit_forget_bias",
};

/** Keras 1 arguments that only matter for training (regularizers, constraints) or have no Keras 2 form. */
const KERAS1_DROPPED = new Set([
  "W_regularizer",
  "b_regularizer",
  "U_regularizer",
  "W_constraint",
  "b_constraint",
  "U_constraint",
  "activity_regularizer",
  "gamma_regularizer",
  "beta_regularizer",
  "consume_less",
  "dropout_W",
  "dropout_U",
  "mode",
  "input_dim",
  "input_length",
  "output_shape",
  "nb_row",
  "nb_col",
  "nb_depth",
  "stride",
  "cache_enabled",
]);

/** Layer classes whose `data_format` is the image layout of a spatial tensor. */
const SPATIAL_CLASS =
  /^(Conv|DepthwiseConv|SeparableConv|.*Pooling[123]D|ZeroPadding|UpSampling|Cropping|LocallyConnected)/;

/** Classes registered with tfjs serialization (built-ins and `registerClass` customs). */
function isBuildable(className: string): boolean {
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
  return Object.prototype.hasOwnProperty.call(map, className);
}

/** Most models nested in one another a config may hold (Keras nests a few at most). */
export const MAX_NESTED_MODELS = 100;
/** Most levels of JSON nesting a model config may have (the recursive normalization stays far from the stack limit). */
export const MAX_CONFIG_DEPTH = 1000;

/**
 * Refuse a model config (from `file`) that nests more than
 * {@linkcode MAX_NESTED_MODELS} models or {@linkcode MAX_CONFIG_DEPTH} JSON
 * levels, with a {@linkcode ModelFormatError} naming the file and the
 * deepest layer reached, before any recursive step can overflow the stack.
 * Iterative, so it is safe on any depth.
 */
export function checkConfigNesting(raw: unknown, file: string): void {
  const todo: { v: unknown; depth: number; models: number; layer: string }[] = [
    { v: raw, depth: 0, models: 0, layer: "" },
  ];
  while (todo.length > 0) {
    const { v, depth, models, layer } = todo.pop()!;
    if (!Array.isArray(v) && !isObject(v)) continue;
    const where = layer ? ` (at layer '${layer}')` : "";
    if (depth > MAX_CONFIG_DEPTH) {
      throw new ModelFormatError(
        `${file}: the model config is nested more than ${MAX_CONFIG_DEPTH} levels deep${where}; refusing`,
        { file },
      );
    }
    let inner = models;
    let name = layer;
    if (isObject(v) && typeof v.class_name === "string") {
      name = entryName(v) ?? name;
      if (MODEL_CLASSES.has(v.class_name)) inner++;
      if (inner > MAX_NESTED_MODELS) {
        throw new ModelFormatError(
          `${file}: more than ${MAX_NESTED_MODELS} models are nested in one another (at layer '${name}'); refusing`,
          { file },
        );
      }
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      todo.push({ v: child, depth: depth + 1, models: inner, layer: name });
    }
  }
}

/** Which Keras generation wrote `raw` (a parsed model config), from `kerasVersion` or the config's own markers. */
export function detectGeneration(raw: unknown, kerasVersion?: string): KerasGeneration {
  const v = kerasVersion?.trim() ?? "";
  if (/^1(\.|$)/.test(v)) return "1";
  if (/^3(\.|$)/.test(v)) return "3";
  if (hasKeras3Markers(raw)) return "3";
  if (/^2(\.|$)/.test(v) || v.startsWith("tfjs")) return "2";
  return hasKeras1Markers(raw) ? "1" : "2";
}

function hasKeras3Markers(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasKeras3Markers);
  if (!isObject(v)) return false;
  if ("module" in v && "class_name" in v) return true;
  if (v.class_name === "__keras_tensor__") return true;
  return Object.values(v).some(hasKeras3Markers);
}

function hasKeras1Markers(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasKeras1Markers);
  if (!isObject(v)) return false;
  const cls = asString(v.class_name);
  if (cls !== undefined && (cls in KERAS1_CLASSES || cls === "Merge")) return true;
  const cfg = v.config;
  if (
    isObject(cfg) &&
    ["output_dim", "nb_filter", "dim_ordering", "border_mode", "W_regularizer", "subsample"].some((k) =>
      k in cfg
    )
  ) {
    return true;
  }
  return Object.values(v).some(hasKeras1Markers);
}

/** Context threaded through the normalization of one model. */
interface Walk {
  generation: KerasGeneration;
  backend: string;
  unbuildable: UnbuildableLayer[];
  theanoOrdering: boolean;
  dataFormat?: DataFormat;
  keepdims: { reshape: string; pool: string }[];
  /** How many models enclose the layer being normalized. */
  depth: number;
  problems: string[];
}

/**
 * Normalize the parsed Keras model config `raw` (`{"class_name", "config"}`
 * as in `model_config`, `model.to_json()` or a Keras 3 `config.json`) to
 * Keras-2 style for tfjs-layers. `backend` (the file's `backend` attribute)
 * resolves Keras 1 `dim_ordering: "default"`.
 */
export function normalizeModelConfig(
  raw: JsonObject,
  generation: KerasGeneration,
  backend = "",
): NormalizedConfig {
  const walk: Walk = {
    generation,
    backend,
    unbuildable: [],
    theanoOrdering: false,
    keepdims: [],
    depth: 0,
    problems: [],
  };
  const config = normalizeLayer(cloneJson(raw), walk);
  useChannelsFirstFixes(config);
  return {
    config,
    generation,
    unbuildable: walk.unbuildable,
    theanoOrdering: walk.theanoOrdering,
    dataFormat: walk.dataFormat ?? "channels_last",
    keepdims: walk.keepdims,
    problems: walk.problems,
  };
}

/**
 * Build the channels_first layers that tfjs-layers computes wrongly (1-D
 * pooling ignores `data_format`) as the corrected classes of
 * `lib/layers/tfjs_fixes.ts`, at any depth (nested models, wrappers).
 */
function useChannelsFirstFixes(v: unknown): void {
  if (Array.isArray(v)) return v.forEach(useChannelsFirstFixes);
  if (!isObject(v)) return;
  if (typeof v.class_name === "string" && isObject(v.config) && v.config.data_format === "channels_first") {
    v.class_name = channelsFirstPooling1DClass(v.class_name) ?? v.class_name;
  }
  Object.values(v).forEach(useChannelsFirstFixes);
}

/** Normalize one layer entry (a model is a layer too); records unbuildable classes in `walk`. */
function normalizeLayer(entry: JsonObject, walk: Walk): JsonObject {
  const module = asString(entry.module) ?? "";
  let className = asString(entry.class_name) ?? "";
  let config: JsonObject | unknown[] = Array.isArray(entry.config)
    ? entry.config
    : isObject(entry.config)
    ? entry.config
    : {};
  if (walk.generation === "3") config = stripKeras3(config) as JsonObject | unknown[];
  if (walk.generation === "1" && isObject(config)) {
    ({ className, config } = keras1Layer(className, config, walk));
  }
  if (isObject(config)) normalizeArgs(className, config, walk);

  const out: JsonObject = { class_name: className, config };
  const name = asString(entry.name) ?? (isObject(config) ? asString(config.name) : undefined) ?? "";
  if ("name" in entry) out.name = entry.name;
  if ("inbound_nodes" in entry) out.inbound_nodes = normalizeInbound(entry.inbound_nodes, walk);

  if (MODEL_CLASSES.has(className)) {
    walk.depth++;
    const body = normalizeModelBody(config, walk);
    walk.depth--;
    out.config = className === "Sequential" && walk.depth > 0 ? foldInputLayer(body) : body;
  } else if (isObject(config) && isObject(config.layer)) {
    config.layer = normalizeLayer(config.layer, walk); // wrappers: Bidirectional, TimeDistributed
  }
  if (!isBuildable(className)) {
    walk.unbuildable.push({ name, className, module });
  } else if (isObject(config) && typeof config.groups === "number" && config.groups > 1) {
    walk.unbuildable.push({ name, className: `${className}(groups=${config.groups})`, module });
  } else if (
    className === "ReLU" && isObject(config) && (nonZero(config.negative_slope) || nonZero(config.threshold))
  ) {
    // tfjs-layers' ReLU has only max_value: building it would silently change the outputs.
    walk.unbuildable.push({ name, className: "ReLU(negative_slope/threshold)", module });
  }
  if (walk.dataFormat === undefined && SPATIAL_CLASS.test(className) && isObject(config)) {
    const df = asString(config.data_format);
    if (df === "channels_first" || df === "channels_last") walk.dataFormat = df;
  }
  return out;
}

/**
 * A nested Sequential that starts with an InputLayer (tf.keras ≥ 2.4, Keras 3)
 * cannot be called on an outer tensor in tfjs-layers ("graph disconnected"):
 * drop the InputLayer and give its shape to the first real layer, as Keras
 * 2.2 wrote such models.
 */
function foldInputLayer(body: JsonObject | unknown[]): JsonObject | unknown[] {
  const layers = Array.isArray(body) ? body : body.layers;
  if (!Array.isArray(layers) || layers.length < 2) return body;
  const [first, second] = layers;
  if (!isObject(first) || first.class_name !== "InputLayer" || !isObject(first.config)) return body;
  if (!isObject(second) || !isObject(second.config)) return body;
  second.config = { ...second.config, batch_input_shape: first.config.batch_input_shape };
  const rest = layers.slice(1);
  return Array.isArray(body) ? rest : { ...body, layers: rest };
}

/**
 * Check that every inbound node and model input/output names an existing
 * layer and one of its nodes (tfjs-layers loops forever on a dangling
 * reference); problems are recorded in `walk`.
 */
function checkGraph(body: JsonObject, walk: Walk): void {
  const layers = Array.isArray(body.layers) ? body.layers.filter(isObject) : [];
  if (!layers.some((l) => Array.isArray(l.inbound_nodes))) return; // a Sequential: no references
  const nodes = new Map<string, number>();
  for (const l of layers) {
    const calls = Array.isArray(l.inbound_nodes) ? l.inbound_nodes.length : 0;
    const cls = asString(l.class_name) ?? "";
    // An InputLayer has one node; a nested model gets an internal node before its calls.
    const internal = cls === "InputLayer" || MODEL_CLASSES.has(cls) ? 1 : 0;
    nodes.set(entryName(l) ?? "", Math.max(calls + internal, cls === "InputLayer" ? 1 : 0));
  }
  const check = (where: string, ref: unknown): void => {
    if (!Array.isArray(ref)) return;
    const [name, index] = ref;
    const count = nodes.get(String(name));
    if (count === undefined) {
      walk.problems.push(`${where} refers to layer '${String(name)}', which does not exist`);
    } else if (typeof index !== "number" || index < 0 || index >= count) {
      walk.problems.push(
        `${where} refers to node ${String(index)} of layer '${String(name)}', which has ${count}`,
      );
    }
  };
  for (const l of layers) {
    if (!Array.isArray(l.inbound_nodes)) continue;
    const where = `layer '${entryName(l) ?? ""}'`;
    l.inbound_nodes.forEach((node, i) => {
      if (!Array.isArray(node) || node.length === 0 || !node.every(Array.isArray)) {
        // tfjs-layers waits forever for the inputs of an empty or malformed call.
        walk.problems.push(
          `${where} has an invalid inbound node ${i} (expected a list of [layer, node, tensor] ` +
            `references, found ${describeNode(node)})`,
        );
        return;
      }
      for (const ref of node) check(where, ref);
    });
  }
  for (const key of ["input_layers", "output_layers"]) {
    const refs = body[key];
    if (Array.isArray(refs)) { for (const ref of refs) check(`the model's ${key}`, ref); }
  }
}

/** A short description of an inbound node that is not a list of references, for error messages. */
function describeNode(node: unknown): string {
  if (Array.isArray(node)) return node.length === 0 ? "an empty list" : "a list with non-list items";
  return node === null ? "null" : `a ${typeof node}`;
}

/**
 * Keras 3 numbers the calls of a nested Sequential from 0, but tfjs-layers
 * (like Keras 2) gives a deserialized Sequential an internal node 0 first:
 * references to a nested Sequential's nodes move up by one.
 */
function shiftSequentialNodes(layers: unknown[]): unknown[] {
  const sequential = new Set(
    layers.filter((l) => isObject(l) && l.class_name === "Sequential").map((l) => entryName(l) ?? ""),
  );
  if (sequential.size === 0) return layers;
  for (const layer of layers) {
    if (!isObject(layer) || !Array.isArray(layer.inbound_nodes)) continue;
    for (const node of layer.inbound_nodes) {
      if (!Array.isArray(node)) continue;
      for (const input of node) {
        if (Array.isArray(input) && sequential.has(String(input[0])) && typeof input[1] === "number") {
          input[1] += 1;
        }
      }
    }
  }
  return layers;
}

/** The body of a Sequential (list or dict style) or Functional config, with every layer normalized. */
function normalizeModelBody(config: JsonObject | unknown[], walk: Walk): JsonObject | unknown[] {
  const layers = Array.isArray(config) ? config : config.layers;
  if (!Array.isArray(layers)) return config;
  const normalized = expandKeepdims(layers.map((l) => isObject(l) ? normalizeLayer(l, walk) : l), walk);
  if (Array.isArray(config)) return normalized;
  const body: JsonObject = { ...config, layers: normalized };
  for (const key of ["input_layers", "output_layers"]) {
    const v = body[key];
    // Keras 3 writes a single-input model's inputs as one `[name, node, tensor]` triple.
    if (Array.isArray(v) && typeof v[0] === "string") body[key] = [v];
  }
  if (walk.generation === "3") {
    // The model's outputs may be a nested Sequential's call too.
    const outputs = Array.isArray(body.output_layers) ? [{ inbound_nodes: [body.output_layers] }] : [];
    shiftSequentialNodes([...normalized, ...outputs]);
  }
  checkGraph(body, walk);
  return body;
}

/**
 * tf.keras `Global*Pooling(keepdims=True)` (MobileNet) is not in tfjs-layers:
 * pool without keepdims into `<name>_pool`, then a Reshape named `<name>`
 * restores the unit spatial axes, so consumers of `<name>` are unchanged.
 */
function expandKeepdims(layers: unknown[], walk: Walk): unknown[] {
  const out: unknown[] = [];
  for (const layer of layers) {
    const cfg = isObject(layer) ? layer.config : undefined;
    const cls = isObject(layer) ? asString(layer.class_name) ?? "" : "";
    const m = /^Global(Average|Max)Pooling([12])D$/.exec(cls);
    if (!isObject(layer) || !isObject(cfg) || m === null || cfg.keepdims !== true) {
      out.push(layer);
      continue;
    }
    const name = asString(cfg.name) ?? "";
    const pooled = `${name}_pool`;
    const first = cfg.data_format === "channels_first";
    const unit = m[2] === "2" ? [1, 1] : [1];
    const pool: JsonObject = { ...layer, config: { ...cfg, name: pooled } };
    delete (pool.config as JsonObject).keepdims;
    if ("name" in layer) pool.name = pooled;
    const reshape: JsonObject = {
      class_name: "Reshape",
      config: {
        name,
        trainable: false,
        dtype: "float32",
        target_shape: first ? [-1, ...unit] : [...unit, -1],
      },
    };
    if ("inbound_nodes" in layer) {
      reshape.name = name;
      reshape.inbound_nodes = [[[pooled, 0, 0, {}]]];
    }
    out.push(pool, reshape);
    walk.keepdims.push({ reshape: name, pool: pooled });
  }
  return out;
}

/** Remove Keras 3 serialization keys and turn dtype policies and function objects into strings, recursively. */
function stripKeras3(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripKeras3);
  if (!isObject(v)) return v;
  const cls = asString(v.class_name);
  if ((cls === "DTypePolicy" || cls === "Policy" || cls === "FloatDTypePolicy") && isObject(v.config)) {
    const name = asString(v.config.name) ?? "float32";
    return name.startsWith("mixed_") ? "float32" : name;
  }
  if (cls === "function" && typeof v.config === "string") return v.config;
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) {
    if (KERAS3_ONLY_KEYS.has(k)) continue;
    // Nested layers keep their own Keras 3 keys: normalizeLayer strips them (after reading `module`).
    const nested = k === "inbound_nodes" || (k === "layers" && Array.isArray(val)) ||
      (k === "layer" && isObject(val));
    out[k] = nested ? val : stripKeras3(val);
  }
  return out;
}

/** Inbound nodes as tfjs expects: a list of nodes, each a list of `[layer, node, tensor, kwargs]`. */
function normalizeInbound(nodes: unknown, walk: Walk): unknown {
  if (!Array.isArray(nodes)) return nodes;
  return nodes.map((node) => {
    if (isObject(node) && "args" in node) return keras3Node(node); // Keras 3 `{args, kwargs}`
    if (!Array.isArray(node)) return node;
    return node.map((input) => {
      if (!Array.isArray(input)) return input;
      const [layer, nodeIndex, tensorIndex, kwargs] = input;
      const kw = isObject(kwargs) ? (walk.generation === "3" ? stripKeras3(kwargs) : kwargs) : {};
      return [layer, nodeIndex ?? 0, tensorIndex ?? 0, kw];
    });
  });
}

/** A Keras 3 call node: every `__keras_tensor__` in its args becomes one inbound tensor. */
function keras3Node(node: JsonObject): unknown[] {
  const inputs: unknown[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (isObject(v)) {
      if (
        v.class_name === "__keras_tensor__" && isObject(v.config) && Array.isArray(v.config.keras_history)
      ) {
        const [layer, nodeIndex, tensorIndex] = v.config.keras_history;
        inputs.push([layer, nodeIndex ?? 0, tensorIndex ?? 0, {}]);
      } else {
        Object.values(v).forEach(visit);
      }
    }
  };
  visit(node.args);
  return inputs;
}

function nonZero(v: unknown): boolean {
  return typeof v === "number" && v !== 0;
}

/** Per-class fixes that apply to every generation after renaming. */
function normalizeArgs(className: string, config: JsonObject, _walk: Walk): void {
  if (className === "InputLayer") {
    if ("batch_shape" in config && !("batch_input_shape" in config)) {
      config.batch_input_shape = config.batch_shape;
    }
    delete config.batch_shape;
    delete config.optional;
  }
  // tf.keras writes a BatchNormalization axis as a one-element list.
  if (className === "BatchNormalization" && Array.isArray(config.axis) && config.axis.length === 1) {
    config.axis = config.axis[0];
  }
  if (isObject(config.dtype)) config.dtype = "float32";
  for (const [key, value] of Object.entries(config)) {
    if (key.endsWith("_initializer")) config[key] = initializerFor(value);
    else if (key.endsWith("_regularizer")) config[key] = regularizerFor(value);
    // tfjs-layers applies a constraint whenever a weight is written, setWeights included, so a
    // MaxNorm would change the stored weights (Keras never applies them on load): drop them.
    else if (key.endsWith("_constraint")) config[key] = null;
  }
}

/** Keras initializer names (Keras 1 strings included) whose tfjs class differs from the PascalCase form. */
const INITIALIZER_NAMES: Record<string, string> = {
  zero: "Zeros",
  one: "Ones",
  uniform: "RandomUniform",
  normal: "RandomNormal",
  LecunNormal: "LeCunNormal",
  LecunUniform: "LeCunUniform",
};

function pascalCase(name: string): string {
  return name.split("_").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/**
 * An initializer tfjs-layers can deserialize. Initializers only matter
 * before weights are loaded, so one tfjs does not know becomes Zeros rather
 * than stopping the load.
 */
function initializerFor(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === "string") {
    const cls = INITIALIZER_NAMES[v] ?? INITIALIZER_NAMES[pascalCase(v)] ?? pascalCase(v);
    return { class_name: isBuildable(cls) ? cls : "Zeros", config: {} };
  }
  if (!isObject(v)) return { class_name: "Zeros", config: {} };
  const name = asString(v.class_name) ?? "";
  const cls = INITIALIZER_NAMES[name] ?? name;
  return isBuildable(cls) ? { ...v, class_name: cls } : { class_name: "Zeros", config: {} };
}

/** A regularizer tfjs-layers can deserialize (`L1`/`L2` become `L1L2`), or null: they only matter in training. */
function regularizerFor(v: unknown): unknown {
  if (!isObject(v)) return null;
  const cfg = isObject(v.config) ? v.config : {};
  const l1 = typeof cfg.l1 === "number" ? cfg.l1 : 0;
  const l2 = typeof cfg.l2 === "number" ? cfg.l2 : 0;
  if (v.class_name === "L1" || v.class_name === "L2" || v.class_name === "L1L2") {
    return { class_name: "L1L2", config: { l1, l2 } };
  }
  return null;
}

/** Rename a Keras 1 layer class and its arguments to Keras 2. */
function keras1Layer(
  className: string,
  cfg: JsonObject,
  walk: Walk,
): { className: string; config: JsonObject } {
  let cls = KERAS1_CLASSES[className] ?? className;
  const out: JsonObject = {};
  if (className === "Merge" && !Array.isArray(cfg.layers)) {
    const mode = asString(cfg.mode) ?? "";
    if (mode in MERGE_MODES) cls = MERGE_MODES[mode];
  }
  for (const [k, v] of Object.entries(cfg)) {
    if (KERAS1_DROPPED.has(k)) continue;
    const key = KERAS1_ARGS[k] ?? k;
    out[key] = v;
  }
  if (className === "Dropout" || className === "SpatialDropout2D" || className === "SpatialDropout1D") {
    if ("p" in out) out.rate = out.p;
    delete out.p;
  }
  if ("nb_row" in cfg && "nb_col" in cfg) {
    out.kernel_size = "nb_depth" in cfg ? [cfg.nb_depth, cfg.nb_row, cfg.nb_col] : [cfg.nb_row, cfg.nb_col];
  }
  if (/Pooling1D$/.test(cls) && "stride" in cfg) out.strides = cfg.stride;
  if (!("batch_input_shape" in out)) {
    if (typeof cfg.input_dim === "number") {
      out.batch_input_shape = typeof cfg.input_length === "number"
        ? [null, cfg.input_length, cfg.input_dim]
        : [null, cfg.input_dim];
    }
  }
  if (typeof out.data_format === "string") {
    let ordering = out.data_format;
    if (ordering === "default") ordering = walk.backend === "theano" ? "th" : "tf";
    if (ordering === "th") walk.theanoOrdering = true;
    out.data_format = ordering === "th" ? "channels_first" : ordering === "tf" ? "channels_last" : ordering;
  }
  if (typeof out.unit_forget_bias === "string") out.unit_forget_bias = out.unit_forget_bias === "one";
  return { className: cls, config: out };
}

/** Name of a layer entry (top level or in its config). */
function entryName(entry: unknown): string | undefined {
  if (!isObject(entry)) return undefined;
  return asString(entry.name) ?? (isObject(entry.config) ? asString(entry.config.name) : undefined);
}

/**
 * Fill in the channel count of the Reshape layers {@linkcode normalizeModelConfig}
 * added after `keepdims` pooling (tfjs-layers cannot infer a `-1` dimension
 * symbolically): build the model up to each pooling layer and read its
 * output width. Works on the top-level model body; mutates `config`.
 */
export async function resolveKeepdims(norm: NormalizedConfig): Promise<void> {
  for (const { reshape, pool } of norm.keepdims) {
    const body = norm.config.config;
    const layers = Array.isArray(body) ? body : isObject(body) ? body.layers : undefined;
    if (!Array.isArray(layers)) return;
    const cut = layers.findIndex((l) => entryName(l) === pool);
    const target = layers.find((l) => entryName(l) === reshape);
    if (cut < 0 || !isObject(target) || !isObject(target.config)) continue;
    const prefix = cloneJson(layers.slice(0, cut + 1));
    const partialBody = Array.isArray(body)
      ? prefix
      : { ...(body as JsonObject), layers: prefix, output_layers: [[pool, 0, 0]] };
    const partial = await tf.models.modelFromJSON({
      modelTopology: {
        class_name: norm.config.class_name,
        config: partialBody,
      } as unknown as tf.io.ModelJSON[
        "modelTopology"
      ],
    });
    const shape = partial.outputs[0].shape;
    partial.dispose();
    const channels = shape[shape.length - 1];
    const ts = target.config.target_shape;
    if (typeof channels === "number" && Array.isArray(ts)) {
      target.config.target_shape = ts.map((d) => d === -1 ? channels : d);
    }
  }
}
