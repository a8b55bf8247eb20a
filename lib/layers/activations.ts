/**
 * The toolbox's custom activation functions, addressed by the strings the
 * Python toolbox writes into layer configs:
 *
 * - `relu_Q<m>.<f>`: ReLU of the input reduced to fixed point `Qm.f`
 *   (`quantized_relu`);
 * - `clamped_relu_<threshold>_<max_value>`: ReLU clipped at `max_value`
 *   (`None` = unbounded) with outputs below `threshold` set to 0;
 * - `noisy_softplus_<k>_<sigma>`: `k·σ·softplus(x / (k·σ))`;
 * - `binary_sigmoid`, `binary_tanh`.
 *
 * Each one becomes a TF.js activation class registered under its exact
 * string with `tf.serialization.registerClass`, so a layer config that
 * names it (`activation: "relu_Q1.15"`) builds, saves and loads back.
 *
 * @module
 */
import { type Tensor, tf } from "../../deps.ts";
import { ConfigError } from "../errors.ts";

/** A parsed custom activation: its kind and parameters. */
export type CustomActivationSpec =
  | { kind: "quantized_relu"; m: number; f: number }
  | { kind: "clamped_relu"; threshold: number; maxValue: number | null }
  | { kind: "noisy_softplus"; k: number; sigma: number }
  | { kind: "limited_relu"; negativeSlope: number; maxValue: number | null; threshold: number }
  | { kind: "binary_sigmoid" }
  | { kind: "binary_tanh" };

function pyNumber(text: string, what: string, activation: string): number | null {
  if (text === "None") return null;
  const v = Number(text);
  if (text === "" || !Number.isFinite(v)) {
    throw new ConfigError(`activation '${activation}': ${what} must be a number or None, found '${text}'`);
  }
  return v;
}

/**
 * Recognise a custom activation string (`relu_Q1.15`, `clamped_relu_0.1_6.0`,
 * `noisy_softplus_0.17_1`, `binary_sigmoid`, `binary_tanh`); `undefined`
 * for every other string (built-in activations such as `relu`).
 */
export function parseCustomActivation(name: string): CustomActivationSpec | undefined {
  const activation = unsnake(name);
  if (activation === "binary_sigmoid" || activation === "binary_tanh") return { kind: activation };
  // `relu__q1.4` is how TF.js's serializer snake-cases `relu_Q1.4`.
  const q = /_+Q(\d+)\.(\d+)$/i.exec(activation);
  if (q) return { kind: "quantized_relu", m: Number(q[1]), f: Number(q[2]) };
  if (activation.includes("clamped_relu")) {
    const parts = activation.split("_");
    if (parts.length < 4) return { kind: "clamped_relu", threshold: 0.1, maxValue: null };
    const threshold = pyNumber(parts[parts.length - 2], "threshold", activation) ?? 0;
    return {
      kind: "clamped_relu",
      threshold,
      maxValue: pyNumber(parts[parts.length - 1], "max_value", activation),
    };
  }
  if (/noisy_?softplus/i.test(activation)) {
    const parts = activation.split("_");
    const k = parts.length >= 4 ? pyNumber(parts[parts.length - 2], "k", activation) : null;
    const sigma = parts.length >= 4 ? pyNumber(parts[parts.length - 1], "sigma", activation) : null;
    return { kind: "noisy_softplus", k: k ?? 0.17, sigma: sigma ?? 1 };
  }
  return undefined;
}

/**
 * Undo TF.js's snake-casing of the toolbox's activation strings: the only
 * capitals they hold are `Q` (`relu_Q1.4` → `relu__q1.4`) and `None`
 * (`clamped_relu_0.1_None` → `clamped_relu_0.1__none`).
 */
function unsnake(name: string): string {
  const restored = name.replace(/__q(?=\d)/g, "_Q").replace(/__none(?=_|$)/g, "_None");
  return restored !== name && tfjsSnakeCase(restored) === name ? restored : name;
}

/** Python's `str(float)` for the numbers in activation names (`6` → `6.0`). */
export function pyFloatString(v: number | null): string {
  if (v === null) return "None";
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** The activation string of a clamped ReLU, as the Python toolbox's `ClampedReLU.__name__`. */
export function clampedReluName(threshold: number, maxValue: number | null): string {
  return `clamped_relu_${pyFloatString(threshold)}_${pyFloatString(maxValue)}`;
}

/**
 * Reduce `x` to fixed point `Qm.f` (the toolbox's `reduce_precision`):
 * round to multiples of 2^-f, clip to ±(2^m − 2^-f).
 */
export function reducePrecision(x: Float32Array, m: number, f: number): Float32Array {
  const n = 2 ** f;
  const maxval = 2 ** m - 1 / n;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = Math.min(maxval, Math.max(-maxval, pyRound(x[i] * n) / n));
  }
  return out;
}

/** numpy `round`: half to even. */
function pyRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Binarize weights to ±h (the toolbox's deterministic `binarize`):
 * `round(clip((w/h + 1)/2, 0, 1))` then 1 → +h, 0 → −h.
 */
export function binarize(w: Float32Array, h = 1): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const p = Math.min(1, Math.max(0, (w[i] / h + 1) / 2));
    out[i] = pyRound(p) !== 0 ? h : -h;
  }
  return out;
}

/** Apply the custom activation `spec` to `x`. */
export function applyCustomActivation(spec: CustomActivationSpec, x: Tensor): Tensor {
  return tf.tidy(() => {
    switch (spec.kind) {
      case "quantized_relu": {
        const n = 2 ** spec.f;
        const maxval = 2 ** spec.m - 1 / n;
        return tf.relu(tf.clipByValue(tf.div(tf.round(tf.mul(x, n)), n), -maxval, maxval));
      }
      case "clamped_relu": {
        const r = spec.maxValue === null ? tf.relu(x) : tf.clipByValue(x, 0, spec.maxValue);
        // r >= 0, so a threshold <= 0 clamps nothing (ReLU6 is clamped_relu_0.0_6.0).
        return spec.threshold <= 0 ? r : tf.where(tf.less(r, spec.threshold), tf.zerosLike(r), r);
      }
      case "noisy_softplus": {
        const ks = spec.k * spec.sigma;
        return tf.mul(tf.softplus(tf.div(x, ks)), ks);
      }
      case "limited_relu": {
        // Keras ReLU: x above threshold (clipped at max_value), else negative_slope · (x − threshold).
        const below = tf.mul(tf.sub(x, spec.threshold), spec.negativeSlope);
        const r = tf.where(tf.greater(x, spec.threshold), x, below);
        return spec.maxValue === null ? r : tf.minimum(r, spec.maxValue);
      }
      case "binary_sigmoid":
        return tf.round(tf.clipByValue(tf.div(tf.add(x, 1), 2), 0, 1));
      case "binary_tanh":
        return tf.sign(x);
    }
  });
}

/** Registered TF.js class name → the exact activation string its instances report. */
const registered = new Map<string, string>();

/** TF.js's own snake_case conversion of config strings (applied when a model is serialized). */
function tfjsSnakeCase(name: string): string {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return s[0] === "_" ? `private${s}` : s;
}

/** TF.js's own camelCase conversion of config strings (applied when a model is deserialized). */
function tfjsCamelCase(name: string): string {
  if (name.length <= 1 || !name.includes("_")) return name;
  return name.replace(/[_]+(\w|$)/g, (_m, p1: string) => p1.toUpperCase());
}

/** Register `alias` as a TF.js class computing `spec` whose instances report `exact` as their class name. */
function registerAs(alias: string, exact: string, spec: CustomActivationSpec): void {
  if (registered.get(alias) === exact) return;
  const cls = class extends tf.serialization.Serializable {
    static className = alias;
    override getClassName(): string {
      return exact;
    }
    apply(x: tf.Tensor): tf.Tensor {
      return applyCustomActivation(spec, x);
    }
    getConfig(): tf.serialization.ConfigDict {
      return {};
    }
  };
  tf.serialization.registerClass(cls);
  registered.set(alias, exact);
}

/**
 * Make sure TF.js knows the custom activation `activation`: registers a
 * class under exactly that name, and under the names TF.js's save/load
 * case conversions turn it into (`relu_Q1.4` is saved as `relu__q1.4` and
 * read back as `reluQ1.4`). Every alias reports the exact name (a layer
 * loaded through `reluQ1.4` has activation `relu_Q1.4`), so register the
 * names a config holds before TF.js builds it (see
 * {@linkcode registerCustomActivationsIn}). Returns `false` when the string
 * is not a custom activation (then it must be a TF.js built-in).
 */
export function registerCustomActivation(activation: string): boolean {
  const spec = parseCustomActivation(activation);
  if (!spec) return false;
  registerActivationAs(unsnake(activation), spec, activation);
  return true;
}

/**
 * Register the activation `spec` under the name `exact` and the names
 * TF.js's save/load case conversions turn it into (and `alsoAs`), every
 * alias reporting `exact` as its name.
 */
export function registerActivationAs(exact: string, spec: CustomActivationSpec, alsoAs = exact): void {
  const snake = tfjsSnakeCase(exact);
  const aliases = [exact, alsoAs, snake, tfjsCamelCase(exact), tfjsCamelCase(snake)];
  for (const alias of new Set(aliases)) registerAs(alias, exact, spec);
}

/**
 * Register every custom activation named in a Keras/TF.js model config (any
 * JSON: the values of `activation` keys, at any depth); returns the exact
 * names registered. Call it before `tf.models.modelFromJSON`, which
 * camelCases the strings (`clamped_relu_0.1_6.0` → `clampedRelu0.16.0`
 * cannot be read back without it).
 */
export function registerCustomActivationsIn(config: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k === "activation" && typeof x === "string" && registerCustomActivation(x)) {
          found.add(exactActivationName(x));
        } else walk(x);
      }
    }
  };
  walk(config);
  return [...found];
}

/**
 * The exact toolbox string of an activation name as TF.js serialized or
 * deserialized it (`relu__q1.4`, `reluQ1.4` → `relu_Q1.4`) once it is
 * registered; any other name unchanged.
 */
export function exactActivationName(name: string): string {
  return registered.get(name) ?? unsnake(name);
}

/**
 * Replace, in a serialized model config (`model.toJSON(null, false)`), the
 * snake-cased custom activation strings by their exact names, so the file
 * holds `relu_Q1.4` as the Python toolbox writes it. Returns a new object.
 */
export function restoreActivationNames(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(restoreActivationNames);
  if (typeof config !== "object" || config === null) return config;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    out[k] = k === "activation" && typeof v === "string" ? exactActivationName(v) : restoreActivationNames(v);
  }
  return out;
}

/** Apply any activation string (custom or TF.js built-in) to `x`, e.g. for reference computations. */
export function applyActivation(activation: string, x: Tensor): Tensor {
  const spec = parseCustomActivation(activation);
  if (spec) return applyCustomActivation(spec, x);
  return tf.tidy(() => tf.layers.activation({ activation: activation as "relu" }).apply(x) as tf.Tensor);
}

/**
 * A `data:` module that registers the custom activations `model` uses (e.g.
 * MobileNet's `clamped_relu_0.0_6.0` for ReLU6), for workers that rebuild
 * the model from its serialization (`DataParallelOptions.modules`);
 * `undefined` when it uses none.
 */
export function customActivationModule(model: { layers: { getConfig(): unknown }[] }): URL | undefined {
  const names = new Set<string>();
  for (const layer of model.layers) {
    const act = (layer.getConfig() as { activation?: unknown }).activation;
    if (typeof act !== "string") continue;
    const exact = exactActivationName(act);
    if (parseCustomActivation(exact)) names.add(exact);
  }
  if (names.size === 0) return undefined;
  const code = `import { registerCustomActivation } from ${JSON.stringify(import.meta.url)};\n` +
    [...names].map((n) => `registerCustomActivation(${JSON.stringify(n)});`).join("\n");
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
