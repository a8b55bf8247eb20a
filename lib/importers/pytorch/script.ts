/**
 * PyTorch models from the files the Python toolbox's users have, without
 * Python: `NAME.py`, the `nn.Module` definition (a class `Model` with an
 * `input_shape` attribute, built with `mod.kwargs` when the script defines
 * it), and `NAME.pth`/`.pkl`/`.pt`, its `state_dict` from `torch.save`.
 *
 * The script is run statically (`lib/io/python`): `__init__` builds the
 * module tree, the state dict fills its weights (names and shapes checked
 * like `load_state_dict`), and `forward` is traced on a symbolic input into
 * the in-memory ONNX graph `torch.onnx.export` would write; the ONNX
 * library builds the input model from it (channels-first input, NCHW
 * flatten order), so everything after loading is shared with the `.onnx`
 * route. Constructs outside the subset are one error naming the file, the
 * line and the construct, with the export call the `.onnx` route needs.
 *
 * @module
 */
import { requireBackend } from "../../backend/mod.ts";
import { ConfigError, InputShapeRequiredError, ModelFormatError, SnnToolboxError } from "../../errors.ts";
import { type NDArray, toFloat32 } from "../../io/ndarray.ts";
import { baseName, firstFile, readModelTextFile, stripExtension } from "../../io/paths.ts";
import { ScriptError } from "../../io/python/errors.ts";
import { foreignBases } from "../../io/python/classes.ts";
import { Evaluator } from "../../io/python/evaluator.ts";
import { importedModules, parseModule, type Stmt } from "../../io/python/mod.ts";
import {
  type ClassValue,
  type InstanceValue,
  isKind,
  type ScriptValue,
  sequenceItems,
} from "../../io/python/values.ts";
import { readTorchStateDict, type TorchStateDict } from "../../io/torch/state_dict.ts";
import type { OnnxModel } from "../onnx/proto.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import { buildOnnxInputModel } from "../onnx/load.ts";
import { torchExportHint } from "./export_hint.ts";
import { isTensor, TorchGraph, type Weight } from "./graph.ts";
import { canonicalTorchPath, SUPPORTED_FUNCTIONS, TorchHost } from "./host.ts";
import { type Module, parameterShapes, SUPPORTED_MODULES, type TorchModule } from "./modules.ts";

/** Extensions of `torch.save` state dict files, in the order the toolbox looks for them. */
export const STATE_DICT_EXTENSIONS: readonly string[] = [".pth", ".pkl", ".pt"];

/** Options of {@linkcode loadPytorchScriptModel}. */
export interface PytorchScriptOptions extends LoadOptions {
  /** The state dict file; default: `NAME.pth`, `NAME.pkl` or `NAME.pt` beside the script. */
  weights?: string;
}

/** The state dict file beside a model script (`NAME.pth`, `NAME.pkl`, `NAME.pt`), if any. */
export function findStateDict(script: string): Promise<string | undefined> {
  const base = stripExtension(script, ["py"]);
  return firstFile(STATE_DICT_EXTENSIONS.map((e) => base + e));
}

/** Whether Python source imports `torch` (a PyTorch script) rather than `lasagne`. */
export function importsTorch(source: string): boolean {
  return /^[ \t]*(?:import|from)[ \t]+torch\b/m.test(source);
}

/** A traced script: the ONNX graph and what was learned on the way. */
export interface TracedScript {
  /** The graph `torch.onnx.export` would write. */
  onnx: OnnxModel;
  /** The model class (or factory) used. */
  entry: string;
  /** Per-sample input shape (C, H, W). */
  inputShape: number[];
  /** Script line of each ONNX node (to place the builder's errors). */
  lines: Map<string, number>;
  /** Facts worth telling the user. */
  notes: string[];
  /** State-dict entries no module uses. */
  unused: string[];
}

/** Run the top level of the script: definitions and imports must work; other statements may fail (unused). */
function runTopLevel(ev: Evaluator, body: readonly Stmt[]): void {
  for (const s of body) {
    try {
      ev.exec(s, ev.globals);
    } catch (err) {
      if (!(err instanceof ScriptError) || ["def", "class", "import", "from"].includes(s.t)) throw err;
      // Top-level code the model does not need (a device, a data loader): names it binds are unavailable.
      const targets = s.t === "assign"
        ? s.targets
        : s.t === "augassign" || s.t === "annassign"
        ? [s.target]
        : [];
      for (const t of targets.flatMap((x) => (x.t === "tuple" || x.t === "list" ? x.items : [x]))) {
        if (t.t === "name") {
          ev.globals.delete(t.id);
          ev.unavailable.set(t.id, `line ${s.line}, which assigns it, failed: ${err.reason}`);
        }
      }
    }
  }
}

/** The class the toolbox instantiates: `Model`, else the last `nn.Module` subclass of the script. */
function modelClass(ev: Evaluator, file: string): { cls: ScriptValue; entry: string; line: number } {
  const named = ev.globals.get("Model");
  if (isKind(named, "class")) {
    return {
      cls: named,
      entry: named.name === "Model" ? "Model" : `Model = ${named.name}`,
      line: named.line,
    };
  }
  if (isKind(named, "function")) return { cls: named, entry: "Model()", line: named.def.line };
  const modules = [...ev.globals.values()].filter((v): v is ClassValue =>
    isKind(v, "class") &&
    foreignBases(v).some((b) => canonicalTorchPath(b.path) === "torch.nn.Module")
  );
  const last = modules.sort((a, b) => b.line - a.line)[0];
  if (!last) {
    throw new ModelFormatError(
      `${file}: no model class: the toolbox instantiates the class 'Model' (an nn.Module subclass) of the script`,
      { file },
    );
  }
  return { cls: last, entry: `${last.name} (no class named Model)`, line: last.line };
}

function inputShapeOf(ev: Evaluator, model: InstanceValue, file: string, options: LoadOptions): number[] {
  let v: ScriptValue | undefined;
  try {
    v = ev.getAttr(model, "input_shape", 0);
  } catch (err) {
    if (!(err instanceof ScriptError)) throw err;
  }
  if (v === undefined) {
    if (options.inputShape) return [...options.inputShape];
    throw new InputShapeRequiredError(
      `${file}: the input shape is not stated: the toolbox reads it from the model's attribute ` +
        `input_shape (add self.input_shape = (C, H, W) to __init__); or pass --input-shape C,H,W ` +
        `(LoadOptions.inputShape), or run the model on data`,
      { file },
    );
  }
  const dims = sequenceItems(v);
  if (!dims || !dims.length || !dims.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0)) {
    throw new ModelFormatError(
      `${file}: input_shape must be a tuple of positive ints, got ${ev.describe(v)}`,
      { file },
    );
  }
  return dims as number[];
}

function toWeight(a: NDArray): Weight {
  return { data: toFloat32(a), shape: a.shape };
}

/** Match every module's entries to the state dict, like `load_state_dict(strict=True)` for the ones it needs. */
function matchStateDict(
  host: TorchHost,
  named: [string, Module][],
  state: TorchStateDict,
  weightsPath: string,
): { weights: Map<TorchModule, Map<string, Weight>>; unused: string[] } {
  const tensors = state.tensors;
  const keys = [...tensors.keys()];
  // A model saved through nn.DataParallel has every key under 'module.'.
  const prefix =
    keys.length && keys.every((k) => k.startsWith("module.")) && !named.some(([p]) => p === "module")
      ? "module."
      : "";
  const used = new Set<string>();
  const missing: string[] = [];
  const weights = new Map<TorchModule, Map<string, Weight>>();
  for (const [path, m] of named) {
    if (!isKind(m, "host")) continue;
    const own = new Map<string, Weight>();
    for (const [key, shape] of parameterShapes(m)) {
      const name = path ? `${path}.${key}` : key;
      const t = tensors.get(prefix + name);
      if (key === "num_batches_tracked") {
        if (t) used.add(prefix + name);
        continue;
      }
      if (!t) {
        missing.push(name);
        continue;
      }
      used.add(prefix + name);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new ModelFormatError(
          `${weightsPath}: '${name}' has shape [${
            t.shape.join(", ")
          }], but nn.${m.type} at ${host.file}:${m.line} ` +
            `needs [${shape.join(", ")}]`,
          { file: weightsPath },
        );
      }
      own.set(key, toWeight(t));
    }
    weights.set(m, own);
  }
  if (missing.length) {
    const shown = missing.slice(0, 8).join(", ") +
      (missing.length > 8 ? `, ... (${missing.length} in all)` : "");
    const has = keys.slice(0, 8).join(", ") + (keys.length > 8 ? ", ..." : "");
    throw new ModelFormatError(
      `${weightsPath}: the state_dict lacks ${shown}, which the modules of ${host.file} need (it has: ${
        has || "nothing"
      })`,
      { file: weightsPath },
    );
  }
  return { weights, unused: keys.filter((k) => !used.has(k)) };
}

/**
 * Run a model script statically with its state dict and trace `forward`
 * into an ONNX graph. Throws {@linkcode ModelFormatError} naming the file
 * and line of anything outside the supported subset.
 */
export function traceModelScript(
  source: string,
  file: string,
  state: TorchStateDict,
  weightsPath: string,
  options: LoadOptions = {},
): TracedScript {
  const body = parseModule(source, file);
  const imports = importedModules(body);
  if (!imports.has("torch")) {
    const other = imports.has("lasagne") ? " (it imports lasagne: use model_lib = lasagne)" : "";
    throw new ModelFormatError(`${file}: not a PyTorch model script: it does not import torch${other}`, {
      file,
    });
  }
  const host = new TorchHost(file);
  const ev = new Evaluator(file, host);
  host.ev = ev;
  runTopLevel(ev, body);
  const { cls, entry, line } = modelClass(ev, file);
  const kwargs = ev.globals.get("kwargs");
  const model = ev.callValue(
    cls,
    [],
    isKind(kwargs, "dict") ? new Map([...kwargs.map].map(([k, v]) => [String(k), v])) : new Map(),
    line,
  );
  if (!isKind(model, "instance") || !host.isModule(model)) {
    throw new ModelFormatError(`${file}:${line}: ${entry} does not build an nn.Module`, { file });
  }
  const inputShape = inputShapeOf(ev, model, file, options);
  const named = host.namedModules(model);
  for (const [path, m] of named) host.paths.set(m, path);
  const { weights, unused } = matchStateDict(host, named, state, weightsPath);
  host.weights = (m, key) => weights.get(m)?.get(key);
  const graph = new TorchGraph(file);
  host.graph = graph;
  const out = ev.callValue(model, [graph.input(inputShape)], new Map(), line);
  if (!isTensor(out)) {
    throw new ModelFormatError(`${file}: forward() returns ${ev.describe(out)}; expected one tensor`, {
      file,
    });
  }
  if (out.value === "input") {
    throw new ModelFormatError(`${file}: forward() returns its input unchanged`, { file });
  }
  return {
    onnx: graph.model(file, inputShape, out),
    entry,
    inputShape,
    lines: graph.lines,
    notes: [...graph.notes],
    unused,
  };
}

/** The advice every out-of-subset error ends with: what the reader covers, and the `.onnx` route. */
function exportAdvice(file: string, inputShape?: readonly number[]): string {
  const onnx = `${baseName(stripExtension(file, ["py"]))}.onnx`;
  return `\n  The PyTorch script reader covers the nn.Module subset of ${SUPPORTED_MODULES.length} modules ` +
    `(${SUPPORTED_MODULES.join(", ")}) and ${
      SUPPORTED_FUNCTIONS.join(", ")
    } in forward(); for other models ` +
    `export to ONNX beside the script and load the .onnx:\n  ${torchExportHint(onnx, inputShape)}`;
}

/** Put the ONNX builder's node errors at the script lines that made the nodes, with the export advice. */
function atScriptLines(err: SnnToolboxError, traced: TracedScript, file: string): SnnToolboxError {
  const message = err.message.replace(
    /node '([^']+)' \(op_type (\w+), opset \d+\)/g,
    (_m, name: string, op: string) => `line ${traced.lines.get(name) ?? "?"} ('${name}', ${op})`,
  );
  const Err = err.constructor as new (m: string, o: { file: string; cause: unknown }) => SnnToolboxError;
  return new Err(message + exportAdvice(file, traced.inputShape), { file, cause: err });
}

/** Add the `.onnx` route to a script error. */
function withExportHint(err: ScriptError, file: string, inputShape?: readonly number[]): ModelFormatError {
  return new ModelFormatError(err.message + exportAdvice(file, inputShape), { file, cause: err });
}

/**
 * Load a PyTorch model from its script `NAME.py` and state dict
 * (`options.weights`, or `NAME.pth`/`.pkl`/`.pt` beside it) as the
 * toolbox's input model (NCHW input, like the source).
 */
export async function loadPytorchScriptModel(
  script: string,
  options: PytorchScriptOptions = {},
): Promise<InputModel> {
  const source = await readModelTextFile(script, "the PyTorch model script");
  const weightsPath = options.weights ?? await findStateDict(script);
  if (!weightsPath) {
    const base = stripExtension(script, ["py"]);
    throw new ConfigError(
      `no state_dict for ${script}: expected ${
        STATE_DICT_EXTENSIONS.map((e) => base + e).join(", ")
      } beside it ` +
        `(written by torch.save(model.state_dict(), path))`,
      { file: script },
    );
  }
  const state = await readTorchStateDict(weightsPath);
  let traced: TracedScript;
  try {
    traced = traceModelScript(source, script, state, weightsPath, options);
  } catch (err) {
    if (err instanceof ScriptError) throw withExportHint(err, script, options.inputShape);
    throw err;
  }
  requireBackend(script);
  let input: InputModel;
  try {
    input = buildOnnxInputModel(traced.onnx, {});
  } catch (err) {
    if (err instanceof SnnToolboxError) throw atScriptLines(err, traced, script);
    throw err;
  }
  return {
    ...input,
    library: "pytorch",
    path: script,
    dataFormat: "channels_first",
    metadata: {
      framework: "pytorch",
      entry: traced.entry,
      weights: weightsPath,
      state_dict_format: state.format + (state.entry ? ` (checkpoint entry '${state.entry}')` : ""),
      input_shape: traced.inputShape.join(","),
      ...(traced.unused.length ? { unused_state_dict_entries: traced.unused.join(",") } : {}),
      ...(traced.notes.length ? { notes: traced.notes.join("; ") } : {}),
    },
  };
}
