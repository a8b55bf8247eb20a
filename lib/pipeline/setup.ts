/**
 * `updateSetup(configPath)`: the experiment configuration the pipeline runs
 * with, as the Python toolbox's `bin.utils.update_setup` builds it — the
 * built-in defaults overlaid by the user's INI file, derived values filled in
 * (`path_wd`, `dataset_path`, `log_dir_of_current_run`,
 * `filename_parsed_model`, `filename_snn`, ...) and every setting validated.
 * Each bad value is a {@linkcode PythonConfigError} naming the file, section,
 * key, value and the allowed values.
 *
 * @example
 * ```ts
 * import { updateSetup } from "./setup.ts";
 * const config = await updateSetup("experiment.ini", { createLogDir: false });
 * config.get("paths", "filename_snn"); // e.g. "mnist_cnn_INI"
 * ```
 *
 * @module
 */
import * as path from "node:path";
import type { PyValue, ToolboxConfig } from "../config/types.ts";
import { ConfigParser, type GetOptions } from "../config/configparser.ts";
import { DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE, EXTRA_SETTINGS } from "../config/defaults.ts";
import { type ConfigErrorDetails, locationPrefix, PythonConfigError } from "../config/errors.ts";
import { pyFloatRepr, pyRepr } from "../config/py_repr.ts";
import { pyIterable } from "../config/py_values.ts";
import { isModelLib, MODEL_LIBRARIES, MODEL_LIBS } from "../importers/mod.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { existsSync, isFileSync } from "../io/paths.ts";

/** Options of {@linkcode updateSetup}. */
export interface UpdateSetupOptions {
  /**
   * Create `log_dir_of_current_run` and write the resolved configuration to
   * `<log dir>/.config`, as the Python toolbox does (default `true`). Pass
   * `false` to only inspect a configuration.
   */
  createLogDir?: boolean;
}

/** The resolved experiment configuration: defaults + user file + derived values, validated. */
export class ResolvedConfig implements ToolboxConfig {
  /** The user's configuration file, as given. */
  readonly configPath: string;
  /** Notes about adjusted or ignored settings (the Python toolbox prints these as warnings). */
  readonly warnings: readonly string[];
  readonly #parser: ConfigParser;

  /** Wrap a parser that holds defaults and user settings (use {@linkcode updateSetup} to build one). */
  constructor(parser: ConfigParser, configPath: string, warnings: readonly string[] = []) {
    this.#parser = parser;
    this.configPath = configPath;
    this.warnings = warnings;
  }

  /** The interpolated value (keys are case-sensitive, as in the toolbox). */
  get(section: string, option: string, options: GetOptions = {}): string {
    return this.#parser.get(section, option, options);
  }

  /** `getboolean` semantics. */
  getBoolean(section: string, option: string): boolean {
    return this.#parser.getBoolean(section, option);
  }

  /** `getint` semantics. */
  getInt(section: string, option: string): number {
    return this.#parser.getInt(section, option);
  }

  /** `getfloat` semantics. */
  getFloat(section: string, option: string): number {
    return this.#parser.getFloat(section, option);
  }

  /** The value as a Python literal. */
  getLiteral(section: string, option: string): PyValue {
    return this.#parser.getLiteral(section, option);
  }

  /** The value as a set of strings (the toolbox's `config_string_to_set_of_strings`), e.g. `plot_vars`. */
  getStringSet(section: string, option: string): string[] {
    return this.#parser.getStringSet(section, option);
  }

  /** Whether `section` has `option`. */
  hasOption(section: string, option: string): boolean {
    return this.#parser.hasOption(section, option);
  }

  /** Section names in order (defaults' sections first, then new ones of the user's file). */
  sections(): string[] {
    return this.#parser.sections();
  }

  /** Interpolated options of `section`. */
  items(section: string): Record<string, string> {
    return this.#parser.items(section);
  }

  /** Interpolated `[key, value]` pairs of `section` in order. */
  entries(section: string): [string, string][] {
    return this.#parser.entries(section);
  }

  /** Where a value was read from (file and line), when it was read from a file. */
  originOf(section: string, option: string): { file: string; line: number } | undefined {
    return this.#parser.originOf(section, option);
  }

  /** Every section and key with its interpolated value: `{section: {key: value}}`. */
  toJson(): Record<string, Record<string, string>> {
    return Object.fromEntries(this.sections().map((s) => [s, this.items(s)]));
  }

  /** The raw configuration as INI text (Python `config.write()` layout). */
  toIni(): string {
    return this.#parser.toIni();
  }
}

// ------------------------------------------------------------ validation --

/** One validation rule of the table below. */
type Rule =
  | { section: string; key: string; kind: "bool" | "nonEmpty" | "dict" | "indexList" | "cellParam" }
  | {
    section: string;
    key: string;
    kind: "int" | "float";
    min?: number;
    exclusiveMin?: boolean;
    max?: number;
  }
  | { section: string; key: string; kind: "oneOf" | "subsetOf"; restriction: string; optional?: boolean }
  | { section: string; key: string; kind: "oneOfList"; allowed: readonly string[] };

const bools = (section: string, keys: string[]): Rule[] =>
  keys.map((key) => ({ section, key, kind: "bool" }));

/** Every setting the toolbox checks (and a few more), in the order the Python toolbox checks them. */
const RULES: readonly Rule[] = [
  { section: "simulation", key: "keras_backend", kind: "oneOf", restriction: "keras_backends" },
  { section: "paths", key: "filename_ann", kind: "nonEmpty" },
  { section: "simulation", key: "simulator", kind: "oneOf", restriction: "simulators" },
  { section: "input", key: "model_lib", kind: "oneOfList", allowed: MODEL_LIBS },
  { section: "input", key: "dataset_format", kind: "oneOf", restriction: "dataset_formats" },
  {
    section: "input",
    key: "frame_gen_method",
    kind: "oneOf",
    restriction: "frame_gen_method",
    optional: true,
  },
  { section: "conversion", key: "maxpool_type", kind: "oneOf", restriction: "maxpool_types" },
  { section: "conversion", key: "spike_code", kind: "oneOf", restriction: "spike_codes" },
  { section: "output", key: "plot_vars", kind: "subsetOf", restriction: "plot_vars" },
  { section: "output", key: "log_vars", kind: "subsetOf", restriction: "log_vars" },
  ...bools("tools", ["evaluate_ann", "parse", "normalize", "convert", "simulate", "serialise_only"]),
  ...bools("input", ["poisson_input", "maxpool_subsampling", "do_clip_three_sigma"]),
  ...bools("normalization", ["normalization_schedule", "online_normalization"]),
  ...bools("conversion", ["softmax_to_relu", "max2avg_pool"]),
  ...bools("simulation", ["early_stopping"]),
  ...bools("cell", ["binarize_weights", "quantize_weights", "payloads", "leak", "bias_relaxation"]),
  ...bools("parameter_sweep", ["param_logscale"]),
  ...bools("output", ["overwrite", "use_simple_labels", "export_nir"]),
  { section: "normalization", key: "percentile", kind: "float", min: 0, exclusiveMin: true, max: 100 },
  { section: "input", key: "input_rate", kind: "float", min: 0, exclusiveMin: true },
  { section: "conversion", key: "num_bits", kind: "int", min: 1 },
  { section: "simulation", key: "duration", kind: "float", min: 0, exclusiveMin: true },
  { section: "simulation", key: "dt", kind: "float", min: 0, exclusiveMin: true },
  { section: "simulation", key: "batch_size", kind: "int", min: 1 },
  { section: "simulation", key: "num_to_test", kind: "int", min: 1 },
  { section: "simulation", key: "reset_between_nth_sample", kind: "int", min: 1 },
  { section: "simulation", key: "top_k", kind: "int", min: 1 },
  { section: "simulation", key: "sample_idxs_to_test", kind: "indexList" },
  { section: "cell", key: "v_thresh", kind: "float" },
  { section: "cell", key: "tau_refrac", kind: "float", min: 0 },
  { section: "cell", key: "delay", kind: "float", min: 0 },
  { section: "output", key: "verbose", kind: "int", min: 0 },
  { section: "input", key: "datagen_kwargs", kind: "dict" },
  { section: "input", key: "dataflow_kwargs", kind: "dict" },
  { section: "input", key: "label_dict", kind: "dict" },
  { section: "output", key: "plotproperties", kind: "dict" },
  { section: "parameter_sweep", key: "param_name", kind: "cellParam" },
];

/** Reads values for the checks and builds errors that name file, section, key and value. */
class Checker {
  constructor(readonly parser: ConfigParser, readonly configPath: string) {}

  fail(
    section: string,
    key: string,
    what: string,
    extra: Partial<ConfigErrorDetails> = {},
  ): PythonConfigError {
    const origin = this.parser.originOf(section, key);
    // A bad built-in default means the user's file lacks the key: name the user's file.
    const fromDefaults = origin?.file === DEFAULT_CONFIG_SOURCE;
    const where = fromDefaults
      ? { file: this.configPath, line: undefined, section, option: key }
      : { file: origin?.file ?? this.configPath, line: origin?.line, section, option: key };
    const note = fromDefaults ? ` (built-in default; set [${section}] ${key} in this file)` : "";
    return new PythonConfigError(`${locationPrefix(where)}${what}${note}`, {
      pythonError: "AssertionError",
      ...where,
      ...extra,
    });
  }

  /** The set of strings a `[restrictions]` value evaluates to (the toolbox's `config_string_to_set_of_strings`). */
  restriction(name: string): string[] {
    return this.stringSet("restrictions", name);
  }

  stringSet(section: string, key: string): string[] {
    return this.parser.getStringSet(section, key);
  }

  raw(section: string, key: string): string {
    return this.parser.get(section, key);
  }

  check(rule: Rule): void {
    const { section, key } = rule;
    if (rule.kind === "bool" && !this.parser.hasOption(section, key)) return; // a setting the defaults lack
    const value = this.raw(section, key);
    // Python's update_setup asserts choices and a non-empty filename_ann; the other checks are ours.
    const asserted = rule.kind === "oneOf" || rule.kind === "oneOfList" || rule.kind === "nonEmpty";
    const bad = (expected: string, allowed?: readonly string[]) =>
      this.fail(section, key, `${quote(value)} is not allowed; expected ${expected}`, {
        value,
        allowed,
        pythonError: asserted ? "AssertionError" : "ValueError",
      });
    switch (rule.kind) {
      case "bool":
        this.parser.getBoolean(section, key);
        return;
      case "nonEmpty":
        if (value === "") {
          throw bad("a non-empty value (the file name of the input model, without extension)");
        }
        return;
      case "oneOf":
      case "oneOfList": {
        if (rule.kind === "oneOf" && rule.optional && value === "") return;
        const allowed = rule.kind === "oneOfList" ? rule.allowed : this.restriction(rule.restriction);
        if (!allowed.includes(value)) throw bad(`one of ${allowed.join(", ")}`, allowed);
        return;
      }
      case "subsetOf": {
        const allowed = this.restriction(rule.restriction);
        const unknown = this.stringSet(section, key).filter((v) => !allowed.includes(v));
        if (unknown.length) {
          throw this.fail(
            section,
            key,
            `unknown ${unknown.map(quote).join(", ")}; allowed: ${allowed.join(", ")}`,
            {
              value,
              allowed,
            },
          );
        }
        return;
      }
      case "int":
      case "float": {
        const n = rule.kind === "int" ? this.parser.getInt(section, key) : this.parser.getFloat(section, key);
        const low = rule.min === undefined ? true : rule.exclusiveMin ? n > rule.min : n >= rule.min;
        const high = rule.max === undefined || n <= rule.max;
        if (!low || !high || Number.isNaN(n)) {
          const lo = rule.min === undefined ? "" : `${rule.exclusiveMin ? ">" : ">="} ${rule.min}`;
          const hi = rule.max === undefined ? "" : `<= ${rule.max}`;
          throw bad(
            `${rule.kind === "int" ? "an integer" : "a number"} ${[lo, hi].filter(Boolean).join(" and ")}`
              .trimEnd(),
          );
        }
        return;
      }
      case "dict": {
        const v = this.parser.getLiteral(section, key);
        if (v === null || typeof v !== "object" || Array.isArray(v) || v.kind !== "dict") {
          throw bad("a dict literal such as {} or {'key': value}");
        }
        return;
      }
      case "indexList": {
        const literal = this.parser.getLiteral(section, key);
        const items = typeof literal === "string" ? undefined : pyIterable(literal);
        const ok = items?.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0);
        if (!ok) throw bad("a list of sample indices (integers >= 0), e.g. [] or [0, 5, 7]");
        return;
      }
      case "cellParam": {
        const allowed = this.parser.options("cell");
        if (!allowed.includes(value)) throw bad(`a parameter of [cell]: ${allowed.join(", ")}`, allowed);
        return;
      }
    }
  }
}

function quote(s: string): string {
  return `'${s}'`;
}

/** Python `os.path.join(a, b)`: an absolute `b` replaces `a`. */
function pyJoin(...parts: string[]): string {
  return parts.reduce((acc, p) => (path.isAbsolute(p) || acc === "" ? p : path.join(acc, p)), "");
}

/** Escape `%` so a derived value (a path) survives interpolation unchanged. */
function literalValue(s: string): string {
  return s.replaceAll("%", "%%");
}

/**
 * Load `configPath` over the built-in defaults, fill in derived values and
 * validate everything, like the Python toolbox's `update_setup`. Settings the
 * toolbox adjusts (e.g. `num_to_test` raised to `batch_size`) are adjusted the
 * same way and reported in `warnings`.
 *
 * Differences from the Python toolbox, on purpose: `model_lib` may also be
 * `onnx` (the port loads PyTorch models from ONNX files); Keras models may be
 * `.h5`, `.keras` or `.json`; an empty `dataset_path` means the config's
 * folder; boolean, numeric and literal settings are checked up front; keys of
 * the user file that the defaults do not have are reported in `warnings`;
 * `%` in derived paths is escaped so interpolation leaves it alone. As in the
 * toolbox, keys are case-sensitive and relative paths in the file are relative
 * to the current directory (an empty `path_wd` is the config file's folder).
 *
 * @throws {PythonConfigError} (a `ConfigError`) for a missing file, bad INI
 * syntax, or any invalid setting; the message names file, section, key,
 * value and the allowed values.
 */
export async function updateSetup(
  configPath: string,
  options: UpdateSetupOptions = {},
): Promise<ResolvedConfig> {
  if (!isFileSync(configPath)) {
    throw new PythonConfigError(`${configPath}: configuration file not found`, {
      pythonError: "AssertionError",
      file: configPath,
    });
  }
  const parser = new ConfigParser({ optionxform: (s) => s });
  parser.readString(DEFAULT_CONFIG, DEFAULT_CONFIG_SOURCE);
  const known = new Map(
    parser.sections().map((
      s,
    ) => [s, new Set([...parser.options(s), ...Object.keys(EXTRA_SETTINGS[s] ?? {})])]),
  );
  await parser.read(configPath);
  const warnings: string[] = unknownKeyWarnings(parser, known, configPath);
  const checker = new Checker(parser, configPath);
  for (const rule of RULES) checker.check(rule);
  adjustForSimulator(parser, checker, warnings);
  resolvePaths(parser, checker, configPath);
  adjustCounts(parser, warnings);
  expandAll(parser, checker);
  adjustForSpikeCode(parser, checker);
  if (options.createLogDir ?? true) {
    const logDir = parser.get("paths", "log_dir_of_current_run");
    await Deno.mkdir(logDir, { recursive: true });
    await writeFileAtomic(path.join(logDir, ".config"), parser.toIni());
  }
  return new ResolvedConfig(parser, configPath, warnings);
}

function unknownKeyWarnings(
  parser: ConfigParser,
  known: Map<string, Set<string>>,
  configPath: string,
): string[] {
  const out: string[] = [];
  for (const section of parser.sections()) {
    const keys = known.get(section);
    if (!keys) {
      out.push(`${configPath}: section [${section}] is not a toolbox section; it is ignored`);
      continue;
    }
    for (const key of parser.options(section)) {
      if (keys.has(key) || parser.hasOption("DEFAULT", key)) continue;
      const similar = [...keys].find((k) => k.toLowerCase() === key.toLowerCase());
      out.push(
        `${configPath}: [${section}] ${key} is not a toolbox setting; it is ignored` +
          (similar ? ` (did you mean '${similar}'? keys are case-sensitive)` : ""),
      );
    }
  }
  return out;
}

/** The toolbox's simulator-specific adjustments (Brian2 always converts; pyNN time constants vs dt). */
function adjustForSimulator(parser: ConfigParser, checker: Checker, warnings: string[]): void {
  const simulator = parser.get("simulation", "simulator");
  if (simulator === "brian2" && !parser.getBoolean("tools", "convert")) {
    warnings.push("Brian2 networks cannot be reloaded from disk: setting [tools] convert = True");
    parser.set("tools", "convert", "True");
    return;
  }
  const pyNN = checker.restriction("simulators_pyNN");
  if (!pyNN.includes(simulator)) return;
  const delay = parser.getFloat("cell", "delay");
  const tauRefrac = parser.getFloat("cell", "tau_refrac");
  const vThresh = parser.getFloat("cell", "v_thresh");
  const dt = parser.getFloat("simulation", "dt");
  const scale = dt === 0.1 ? 1e1 : 1e3;
  if (tauRefrac < dt / scale && tauRefrac !== 0) {
    warnings.push(`[cell] tau_refrac ${tauRefrac} is below dt / ${scale}; setting it to ${dt / scale}`);
    parser.set("cell", "tau_refrac", pyFloatRepr(dt / scale));
  } else if (tauRefrac > dt / scale) {
    warnings.push(
      `[cell] tau_refrac ${tauRefrac}: a value as small as dt / ${scale} (${dt / scale}) is recommended`,
    );
  }
  if (delay < dt) {
    warnings.push(`[cell] delay ${delay} is below one time step; setting it to dt = ${dt}`);
    parser.set("cell", "delay", pyFloatRepr(dt));
  } else if (delay > dt) {
    warnings.push(`[cell] delay ${delay}: a value as small as one time step (${dt}) is recommended`);
  }
  if (vThresh !== 0.01) {
    warnings.push(`[cell] v_thresh ${vThresh}: pyNN simulators match the ANN best with 0.01`);
  }
}

/** `path_wd`, model files, `dataset_path` and data files, `log_dir_of_current_run`, file names. */
function resolvePaths(parser: ConfigParser, checker: Checker, configPath: string): void {
  // Relative paths are taken relative to the config file's folder (the Python
  // toolbox takes them relative to the current directory): a config then runs
  // the same from anywhere.
  const configDir = path.dirname(path.resolve(configPath));
  const fromConfigDir = (key: string) => {
    const value = parser.get("paths", key);
    if (value !== "" && !path.isAbsolute(value)) {
      parser.set("paths", key, literalValue(path.resolve(configDir, value)));
    }
  };
  if (parser.get("paths", "path_wd") === "") {
    parser.set("paths", "path_wd", literalValue(configDir));
  }
  fromConfigDir("path_wd");
  fromConfigDir("dataset_path");
  fromConfigDir("log_dir_of_current_run");
  const pathWd = parser.get("paths", "path_wd");
  if (!existsSync(pathWd)) {
    throw checker.fail("paths", "path_wd", `working directory ${quote(pathWd)} does not exist`, {
      value: pathWd,
    });
  }
  const modelLib = parser.get("input", "model_lib");
  const filenameAnn = parser.get("paths", "filename_ann");
  const nir = filenameAnn.toLowerCase().endsWith(".nir"); // a NIR graph: simulated as it is
  if (nir && !isFileSync(pyJoin(pathWd, filenameAnn))) {
    throw checker.fail("paths", "filename_ann", `NIR file ${pyJoin(pathWd, filenameAnn)} does not exist`, {
      value: filenameAnn,
    });
  }
  if (!nir && (parser.getBoolean("tools", "evaluate_ann") || parser.getBoolean("tools", "parse"))) {
    const library = isModelLib(modelLib) ? MODEL_LIBRARIES[modelLib] : undefined;
    const present = (groups: string[][]) =>
      groups.every((group) => group.some((f) => isFileSync(pyJoin(pathWd, f))));
    const alternative = library?.alternativeFiles?.(filenameAnn);
    const required = library?.requiredFiles(filenameAnn) ?? [];
    const groups = alternative && !present(required) && present(alternative) ? alternative : required;
    for (const group of groups) {
      const candidates = group.map((file) => pyJoin(pathWd, file));
      if (!candidates.some((c) => isFileSync(c))) {
        const ext = MODEL_LIBS.flatMap((l) => MODEL_LIBRARIES[l].requiredFiles("").flat())
          .find((e) => filenameAnn.endsWith(e));
        const hint = ext ? ` (give filename_ann without the extension '${ext}')` : "";
        const instead = alternative && groups !== alternative
          ? `; or instead ${
            alternative.map((g) => g.map((f) => pyJoin(pathWd, f)).join(" or ")).join(" and ")
          }`
          : "";
        throw checker.fail(
          "paths",
          "filename_ann",
          `model_lib '${modelLib}' needs the file ${
            candidates.join(" or ")
          }, which does not exist${hint}${instead}`,
          { value: filenameAnn, allowed: candidates },
        );
      }
    }
  }
  if (parser.get("paths", "dataset_path") === "") {
    parser.set("paths", "dataset_path", literalValue(configDir));
  }
  const datasetPath = path.resolve(parser.get("paths", "dataset_path"));
  parser.set("paths", "dataset_path", literalValue(datasetPath));
  checkDataset(parser, checker, datasetPath, nir);
  if (parser.get("paths", "log_dir_of_current_run") === "") {
    const logDir = pyJoin(pathWd, "log", "gui", parser.get("paths", "runlabel"));
    parser.set("paths", "log_dir_of_current_run", literalValue(logDir));
  }
  if (parser.get("paths", "filename_parsed_model") === "") {
    parser.set("paths", "filename_parsed_model", literalValue(`${filenameAnn}_parsed`));
  }
  if (parser.get("paths", "filename_snn") === "") {
    const simulator = parser.get("simulation", "simulator");
    parser.set("paths", "filename_snn", literalValue(`${filenameAnn}_${simulator}`));
  }
}

function checkDataset(parser: ConfigParser, checker: Checker, datasetPath: string, nir = false): void {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(datasetPath)].map((e) => e.name);
  } catch {
    throw checker.fail("paths", "dataset_path", `data set folder ${quote(datasetPath)} does not exist`, {
      value: datasetPath,
    });
  }
  if (entries.length === 0) {
    throw checker.fail("paths", "dataset_path", `data set folder ${quote(datasetPath)} is empty`, {
      value: datasetPath,
    });
  }
  if (parser.get("input", "dataset_format") !== "npz") return;
  const needed = [
    "x_test.npz",
    "y_test.npz",
    ...(parser.getBoolean("tools", "normalize") && !nir ? ["x_norm.npz"] : []),
  ];
  const missing = needed.filter((f) => !isFileSync(path.join(datasetPath, f)));
  if (missing.length) {
    throw checker.fail(
      "paths",
      "dataset_path",
      `data set folder ${quote(datasetPath)} lacks ${missing.join(", ")}` +
        (missing.includes("x_norm.npz") ? " (x_norm.npz is needed because [tools] normalize = True)" : ""),
      { value: datasetPath, allowed: needed, pythonError: "RuntimeWarning" },
    );
  }
}

/** `num_to_test` covers `sample_idxs_to_test` and is at least `batch_size`. */
function adjustCounts(parser: ConfigParser, warnings: string[]): void {
  const idxs = pyIterable(parser.getLiteral("simulation", "sample_idxs_to_test")) ?? [];
  const numToTest = parser.getInt("simulation", "num_to_test");
  if (idxs.length) {
    const required = Math.max(...idxs.map(Number)) + 1;
    if (required > numToTest) {
      warnings.push(
        `[simulation] num_to_test raised from ${numToTest} to ${required} to include sample_idxs_to_test`,
      );
      parser.set("simulation", "num_to_test", String(required));
    }
  }
  const batchSize = parser.getInt("simulation", "batch_size");
  if (parser.getInt("simulation", "num_to_test") < batchSize) {
    warnings.push(`[simulation] num_to_test is lower than batch_size; setting num_to_test = ${batchSize}`);
    parser.set("simulation", "num_to_test", String(batchSize));
  }
}

/** `plot_vars`/`log_vars` containing `'all'` become every allowed value except `'all'`. */
function expandAll(parser: ConfigParser, checker: Checker): void {
  for (const key of ["plot_vars", "log_vars"]) {
    if (!checker.stringSet("output", key).includes("all")) continue;
    const all = checker.restriction(key).filter((v) => v !== "all");
    parser.set("output", key, literalValue(pyRepr({ kind: "set", items: all })));
  }
}

/** Spike-code specific settings, and the theano backend's limitation. */
function adjustForSpikeCode(parser: ConfigParser, checker: Checker): void {
  const spikeCode = parser.get("conversion", "spike_code");
  if (spikeCode === "temporal_pattern") {
    parser.set("simulation", "duration", String(parser.getInt("conversion", "num_bits")));
    parser.set("simulation", "batch_size", "1");
  } else if (spikeCode.includes("ttfs")) {
    parser.set("cell", "tau_refrac", String(parser.getInt("simulation", "duration")));
  }
  if (parser.get("simulation", "keras_backend") === "theano" && spikeCode !== "temporal_mean_rate") {
    throw checker.fail(
      "conversion",
      "spike_code",
      `keras_backend 'theano' only works with spike_code 'temporal_mean_rate', found ${quote(spikeCode)}`,
      { value: spikeCode, allowed: ["temporal_mean_rate"] },
    );
  }
}
