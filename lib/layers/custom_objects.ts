/**
 * Custom objects (the Python toolbox's `get_custom_activation`,
 * `get_custom_activations_dict`, `get_custom_layers_dict`,
 * `assemble_custom_dict` and the `[paths] filepath_custom_objects` JSON
 * file): the activation functions, layers and metrics a model file may name
 * beyond the built-in ones, by the names it uses for them. The Keras library
 * registers each custom activation of a dictionary under its key before it
 * builds a model (`LoadOptions.customObjects`).
 *
 * @module
 */
import type { Tensor } from "../../deps.ts";
import { literalEval } from "../config/literal.ts";
import { pyFloatRepr, pyRepr } from "../config/py_repr.ts";
import { ConfigError } from "../errors.ts";
import { applyCustomActivation, type CustomActivationSpec, registerActivationAs } from "./activations.ts";
import { precision } from "./metrics.ts";
import { SPARSE_LAYER_CLASSES } from "./sparse.ts";

/** A custom activation function: its name (as Python's `__name__`) and what it computes. */
export interface CustomActivation {
  /** The activation's name, e.g. `relu_Q1.15`, `clamped_relu_0.1_None`. */
  readonly name: string;
  /** What it computes. */
  readonly spec: CustomActivationSpec;
  /** Apply it to `x`. */
  apply(x: Tensor): Tensor;
}

/** One entry of a custom-objects dictionary. */
export type CustomObject =
  | { readonly kind: "activation"; readonly activation: CustomActivation }
  | {
    readonly kind: "activation-class";
    readonly name: string;
    /** Make an instance from the class's constructor arguments. */
    create(config: Readonly<Record<string, unknown>>): CustomActivation;
  }
  | { readonly kind: "layer"; readonly className: string }
  | { readonly kind: "metric"; readonly name: string; readonly fn: (yTrue: Tensor, yPred: Tensor) => Tensor }
  | { readonly kind: "regularizer"; readonly name: string }
  | { readonly kind: "optimizer"; readonly name: string }
  | { readonly kind: "value"; readonly value: unknown };

/** Custom objects by the name a model file uses for them. */
export type CustomObjectsDict = Record<string, CustomObject>;

/** A custom activation computing `spec`, named `name`. */
export function customActivation(name: string, spec: CustomActivationSpec): CustomActivation {
  return { name, spec, apply: (x) => applyCustomActivation(spec, x) };
}

/** Python's `map(eval, s.split('_')[-2:])` as the values' reprs (`'6'` → `6`, `'1e-1'` → `0.1`, `'None'`). */
function lastTwoValues(activationStr: string): [number | null, number | null, string, string] {
  const parts = activationStr.split("_").slice(-2);
  const values = parts.map((p) => {
    const v = literalEval(p) as number | null | string;
    if (v !== null && typeof v !== "number") {
      throw new ConfigError(`activation '${activationStr}': '${p}' is not a number or None`);
    }
    return v;
  });
  // Python keeps int and float apart (`6` prints 6, `6.0` prints 6.0); the literal's spelling tells which.
  const repr = (v: number | null, token: string) =>
    v === null ? "None" : /[.eE]|inf|nan/.test(token) ? pyFloatRepr(v) : String(v);
  return [
    values[0] as number | null,
    values[1] as number | null,
    repr(values[0], parts[0]),
    repr(values[1], parts[1]),
  ];
}

/**
 * The quantized ReLU of a string like `relu_Q1.15` (the toolbox's
 * `get_quantized_activation_function_from_string`): the ReLU of the input
 * reduced to fixed point `Qm.f`, named by the string.
 */
export function getQuantizedActivationFunctionFromString(activationStr: string): CustomActivation {
  const at = activationStr.indexOf("_Q");
  const [m, f] = activationStr.slice(at + 2).split(".").map((t) => Number.parseInt(t, 10));
  if (at < 0 || !Number.isInteger(m) || !Number.isInteger(f)) {
    throw new ConfigError(`activation '${activationStr}': expected <name>_Q<m>.<f>, e.g. relu_Q1.15`);
  }
  return customActivation(activationStr, { kind: "quantized_relu", m, f });
}

/**
 * The clamped ReLU of a string `..._<threshold>_<max_value>` (the toolbox's
 * `get_clamped_relu_from_string`), named `clamped_relu_<threshold>_<max_value>`
 * with Python's reprs of the two values.
 */
export function getClampedReluFromString(activationStr: string): CustomActivation {
  const [threshold, maxValue, t, m] = lastTwoValues(activationStr);
  return customActivation(`clamped_relu_${t}_${m}`, {
    kind: "clamped_relu",
    threshold: threshold ?? 0,
    maxValue,
  });
}

/**
 * The noisy softplus of a string `..._<k>_<sigma>` (the toolbox's
 * `get_noisy_softplus_from_string`), named `noisy_softplus_<k>_<sigma>`.
 */
export function getNoisySoftplusFromString(activationStr: string): CustomActivation {
  const [k, sigma, ks, ss] = lastTwoValues(activationStr);
  return customActivation(`noisy_softplus_${ks}_${ss}`, {
    kind: "noisy_softplus",
    k: k ?? 0.17,
    sigma: sigma ?? 1,
  });
}

/** The toolbox's `LimitedReLU(cfg)`: a Keras ReLU with `negative_slope`, `max_value`, `threshold`. */
export function limitedRelu(config: Readonly<Record<string, unknown>>): CustomActivation {
  const num = (key: string, fallback: number | null): number | null => {
    const v = config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number") {
      throw new ConfigError(`LimitedReLU: '${key}' must be a number, found ${String(v)}`);
    }
    return v;
  };
  const negativeSlope = num("negative_slope", 0) ?? 0;
  const maxValue = num("max_value", null);
  const threshold = num("threshold", 0) ?? 0;
  // Python: '{}_{}_{}_LimitedReLU'.format(negative_slope, max_value, threshold), Keras storing floats.
  const f = (v: number | null) => (v === null ? "None" : pyFloatRepr(v));
  return customActivation(`${f(negativeSlope)}_${f(maxValue)}_${f(threshold)}_LimitedReLU`, {
    kind: "limited_relu",
    negativeSlope,
    maxValue,
    threshold,
  });
}

/**
 * Resolve a custom activation string (the toolbox's `get_custom_activation`):
 * `binary_sigmoid`, `binary_tanh`, `<name>_Q<m>.<f>`, `clamped_relu_…`,
 * `noisy_softplus_…` become a {@linkcode CustomActivation}; any other string
 * is returned as it is (a built-in activation). `activationStr` is the
 * string given.
 */
export function getCustomActivation(
  activationStr: string,
): { activation: CustomActivation | string; activationStr: string } {
  let activation: CustomActivation | string = activationStr;
  if (activationStr === "binary_sigmoid" || activationStr === "binary_tanh") {
    activation = customActivation(activationStr, { kind: activationStr });
  } else if (activationStr.includes("_Q")) {
    activation = getQuantizedActivationFunctionFromString(activationStr);
  } else if (activationStr.includes("clamped_relu")) {
    activation = getClampedReluFromString(activationStr);
  } else if (/noisy_?softplus_/i.test(activationStr)) {
    activation = getNoisySoftplusFromString(activationStr);
  }
  return { activation, activationStr };
}

/**
 * Whether a parsed layer's attributes name a custom activation (the
 * toolbox's `check_for_custom_activations`, which only looks): `true` when
 * `attributes.activation` is one of the toolbox's custom activation strings.
 */
export function checkForCustomActivations(attributes: { readonly activation?: string }): boolean {
  if (attributes.activation === undefined) return false;
  return typeof getCustomActivation(attributes.activation).activation !== "string";
}

/** Merge custom-object dictionaries; a later one wins on a shared key (the toolbox's `assemble_custom_dict`). */
export function assembleCustomDict(...dicts: readonly Readonly<CustomObjectsDict>[]): CustomObjectsDict {
  return Object.assign({}, ...dicts);
}

/** The JSON object of a custom-objects file, or a ConfigError naming the file. */
function readCustomObjectsFile(filepath: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(filepath);
  } catch (err) {
    throw new ConfigError(`[paths] filepath_custom_objects = ${filepath}: cannot read the file (${err})`, {
      file: filepath,
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${filepath}: custom objects must be a JSON object: ${err}`, {
      file: filepath,
      cause: err,
    });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`${filepath}: custom objects must be a JSON object of name → value`, {
      file: filepath,
    });
  }
  return doc as Record<string, unknown>;
}

/**
 * The custom layers a model file may use (the toolbox's
 * `get_custom_layers_dict`): the pruned layers `Sparse`, `SparseConv2D`,
 * `SparseDepthwiseConv2D` (with `keras_rewiring`'s optimizer `NoisySGD`,
 * which inference does not use), and every entry of the JSON file
 * `filepath` as it is.
 */
export function getCustomLayersDict(filepath?: string): CustomObjectsDict {
  const dict: CustomObjectsDict = {};
  for (const className of SPARSE_LAYER_CLASSES) dict[className] = { kind: "layer", className };
  dict.NoisySGD = { kind: "optimizer", name: "NoisySGD" };
  if (filepath) {
    for (const [key, value] of Object.entries(readCustomObjectsFile(filepath))) {
      dict[key] = { kind: "value", value };
    }
  }
  return dict;
}

/**
 * The custom activations a model file may use (the toolbox's
 * `get_custom_activations_dict`): `binary_sigmoid`, `binary_tanh`,
 * `clamped_relu` (threshold 0.1, unbounded), the `LimitedReLU` class,
 * `relu6`, `relu_Q1.4`, `Noisy_Softplus`, the `precision` metric and the
 * `activity_regularizer` (L1); plus a `LimitedReLU` instance for every key
 * of the JSON file `filepath` that contains `LimitedReLU` (its value: the
 * ReLU's arguments).
 */
export function getCustomActivationsDict(filepath?: string): CustomObjectsDict {
  const act = (a: CustomActivation): CustomObject => ({ kind: "activation", activation: a });
  const dict: CustomObjectsDict = {
    binary_sigmoid: act(customActivation("binary_sigmoid", { kind: "binary_sigmoid" })),
    binary_tanh: act(customActivation("binary_tanh", { kind: "binary_tanh" })),
    clamped_relu: act(
      customActivation("clamped_relu_0.1_None", { kind: "clamped_relu", threshold: 0.1, maxValue: null }),
    ),
    LimitedReLU: { kind: "activation-class", name: "LimitedReLU", create: limitedRelu },
    relu6: act(limitedRelu({ max_value: 6 })),
    "relu_Q1.4": act(getQuantizedActivationFunctionFromString("relu_Q1.4")),
    Noisy_Softplus: {
      kind: "activation-class",
      name: "NoisySoftplus",
      create: (c) =>
        customActivation(`noisy_softplus_${pyRepr(Number(c.k ?? 0.17))}_${pyRepr(Number(c.sigma ?? 1))}`, {
          kind: "noisy_softplus",
          k: Number(c.k ?? 0.17),
          sigma: Number(c.sigma ?? 1),
        }),
    },
    precision: { kind: "metric", name: "precision", fn: precision },
    activity_regularizer: { kind: "regularizer", name: "l1" },
  };
  if (filepath) {
    for (const [key, value] of Object.entries(readCustomObjectsFile(filepath))) {
      if (!key.includes("LimitedReLU")) continue;
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigError(`${filepath}: '${key}' must be an object of LimitedReLU arguments`, {
          file: filepath,
        });
      }
      dict[key] = act(limitedRelu(value as Record<string, unknown>));
    }
  }
  return dict;
}

/**
 * Register every custom activation of `dict` with TF.js under its key, so
 * a model config naming it (`"activation": "relu6"`) builds. Returns the
 * keys registered.
 */
export function registerCustomObjects(dict: Readonly<CustomObjectsDict>): string[] {
  const keys: string[] = [];
  for (const [key, obj] of Object.entries(dict)) {
    if (obj.kind !== "activation") continue;
    registerActivationAs(key, obj.activation.spec);
    keys.push(key);
  }
  return keys;
}
