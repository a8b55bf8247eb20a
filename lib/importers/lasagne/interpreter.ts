/**
 * A static interpreter of Lasagne build scripts: the shared Python
 * evaluator (`lib/io/python`) runs the script, limited to the Lasagne
 * subset (see `subset.ts`), with `lasagne.layers.*` constructors building
 * a graph of {@linkcode LasagneLayer} records (arguments bound by
 * Lasagne's signatures and defaults), `lasagne.nonlinearities.*` as names,
 * `batch_norm(...)` rewriting as Lasagne does it, and user functions that
 * return layers (`build_network()`, `build_cnn(input_var=None)`).
 *
 * @module
 */
import { ModelFormatError, UnsupportedLayerError } from "../../errors.ts";
import { parseModule } from "../../io/python/mod.ts";
import { Evaluator, type Host, type Kwargs } from "../../io/python/evaluator.ts";
import { ScriptError } from "../../io/python/errors.ts";
import { type HostObject, isHost, isKind, type Ref, type ScriptValue } from "../../io/python/values.ts";
import { checkLasagneSubset } from "./subset.ts";

export type {
  DictValue,
  FunctionValue as UserFunction,
  Opaque,
  RangeValue,
  Ref,
  ScriptValue,
  TupleValue,
} from "../../io/python/values.ts";

/** A layer built by a script. */
export interface LasagneLayer extends HostObject {
  /** Discriminator among host objects. */
  readonly hostType: "lasagne-layer";
  /** Lasagne class name (`Conv2DLayer`, `DenseLayer`, ...). */
  type: string;
  /** Creation order (unique id). */
  id: number;
  /** The `name=` argument, if given. */
  name?: string;
  /** The first dict key the layer was stored under (a readable name when it has none). */
  hint?: string;
  /** Input layers, in order. */
  incoming: LasagneLayer[];
  /** Bound arguments (defaults filled in), by Lasagne parameter name. */
  args: Record<string, ScriptValue>;
  /** Script line that created it. */
  line: number;
}

const LINEAR = "lasagne.nonlinearities.linear";
const RECTIFY = "lasagne.nonlinearities.rectify";

/** The leading parameters both 2-D convolution layers share, in signature order. */
const CONV2D_PARAMS: [string, ScriptValue | undefined][] = [
  ["incoming", undefined],
  ["num_filters", undefined],
  ["filter_size", undefined],
  ["stride", 1],
  ["pad", 0],
  ["untie_biases", false],
  ["W", { kind: "opaque", what: "init" }],
  ["b", { kind: "opaque", what: "init" }],
  ["nonlinearity", { kind: "ref", path: RECTIFY }],
];

/** Lasagne signatures: positional parameter names and defaults (`undefined` = required). */
const SIGNATURES: Record<string, [string, ScriptValue | undefined][]> = {
  InputLayer: [["shape", undefined], ["input_var", null]],
  DenseLayer: [
    ["incoming", undefined],
    ["num_units", undefined],
    ["W", { kind: "opaque", what: "init" }],
    ["b", { kind: "opaque", what: "init" }],
    ["nonlinearity", { kind: "ref", path: RECTIFY }],
    ["num_leading_axes", 1],
  ],
  Conv2DLayer: [...CONV2D_PARAMS, ["flip_filters", true], ["convolution", null]],
  // cuDNN layer: Lasagne's default is flip_filters=False (it correlates).
  Conv2DDNNLayer: [...CONV2D_PARAMS, ["flip_filters", false]],
  MaxPool2DLayer: [["incoming", undefined], ["pool_size", undefined], ["stride", null], ["pad", 0], [
    "ignore_border",
    true,
  ]],
  Pool2DLayer: [["incoming", undefined], ["pool_size", undefined], ["stride", null], ["pad", 0], [
    "ignore_border",
    true,
  ], ["mode", "max"]],
  GlobalPoolLayer: [["incoming", undefined], ["pool_function", { kind: "ref", path: "theano.tensor.mean" }]],
  DropoutLayer: [["incoming", undefined], ["p", 0.5], ["rescale", true], ["shared_axes", {
    kind: "tuple",
    items: [],
  }]],
  FlattenLayer: [["incoming", undefined], ["outdim", 2]],
  BatchNormLayer: [
    ["incoming", undefined],
    ["axes", "auto"],
    ["epsilon", 1e-4],
    ["alpha", 0.1],
    ["beta", { kind: "opaque", what: "init" }],
    ["gamma", { kind: "opaque", what: "init" }],
    ["mean", { kind: "opaque", what: "init" }],
    ["inv_std", { kind: "opaque", what: "init" }],
  ],
  NonlinearityLayer: [["incoming", undefined], ["nonlinearity", { kind: "ref", path: RECTIFY }]],
  ConcatLayer: [["incomings", undefined], ["axis", 1], ["cropping", null]],
  ElemwiseSumLayer: [["incomings", undefined], ["coeffs", 1], ["cropping", null]],
  PadLayer: [["incoming", undefined], ["width", undefined], ["val", 0], ["batch_ndim", 2]],
};
SIGNATURES.MaxPool2DDNNLayer = SIGNATURES.MaxPool2DLayer;
SIGNATURES.Pool2DDNNLayer = SIGNATURES.Pool2DLayer;

/** Lasagne layer classes the interpreter builds. */
export const LASAGNE_LAYER_TYPES: readonly string[] = Object.keys(SIGNATURES);

const LAYER_MODULES =
  /^lasagne\.layers(\.(dnn|conv|pool|dense|normalization|noise|shape|merge|input|special))?$/;

/** The meaning of `lasagne.*` (and the Theano variables scripts create) for the evaluator. */
class LasagneHost implements Host {
  #nextId = 0;
  readonly layers: LasagneLayer[] = [];

  constructor(readonly file: string) {}

  fail(line: number, msg: string): never {
    throw new ScriptError(this.file, line, msg);
  }

  describe(obj: HostObject): string {
    return isLayer(obj) ? `layer ${obj.type}` : obj.hostType;
  }

  starImport(module: string): Map<string, ScriptValue> | undefined {
    if (LAYER_MODULES.test(module)) {
      return new Map([...LASAGNE_LAYER_TYPES, "batch_norm"].map((t) => [t, ref(`lasagne.layers.${t}`)]));
    }
    if (module === "lasagne.nonlinearities") {
      const names = ["rectify", "softmax", "sigmoid", "tanh", "linear", "identity", "elu", "softplus"];
      return new Map(names.map((n) => [n, ref(`lasagne.nonlinearities.${n}`)]));
    }
    return undefined;
  }

  getAttr(obj: HostObject, name: string, line: number): ScriptValue | undefined {
    if (!isLayer(obj)) return undefined;
    if (name === "name") return obj.name ?? null;
    if (name === "output_shape" || name === "input_layer") {
      this.fail(line, `layer attribute '${name}' is outside the supported subset`);
    }
    return undefined;
  }

  storedInDict(key: string | number, value: ScriptValue): void {
    if (isLayer(value) && typeof key === "string") value.hint ??= key;
  }

  callRef(fn: Ref, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue | undefined {
    const path = fn.path;
    const last = path.split(".").pop()!;
    const module = path.slice(0, path.length - last.length - 1);
    if (LAYER_MODULES.test(module) && last === "batch_norm") return this.batchNorm(args, kwargs, line);
    if (LAYER_MODULES.test(module) && last in SIGNATURES) return this.layer(last, args, kwargs, line);
    if (LAYER_MODULES.test(module)) {
      throw new UnsupportedLayerError(
        `${this.file}:${line}: lasagne.layers.${last} is not supported; supported: ${
          LASAGNE_LAYER_TYPES.join(", ")
        }, batch_norm`,
        { file: this.file },
      );
    }
    if (module === "lasagne.init") return { kind: "opaque", what: `lasagne.init.${last}` };
    if (module === "lasagne.nonlinearities") {
      return ref(`lasagne.nonlinearities.${last}(${args.map((a) => JSON.stringify(a)).join(",")})`);
    }
    if (/^theano\.tensor\.[a-z]*(scalar|vector|matrix|tensor[0-9]?)$/.test(path)) {
      return { kind: "opaque", what: "theano variable" };
    }
    return undefined;
  }

  layer(type: string, args: ScriptValue[], kwargs: Kwargs, line: number): LasagneLayer {
    const sig = SIGNATURES[type];
    if (args.length > sig.length) this.fail(line, `${type} takes at most ${sig.length} positional arguments`);
    const bound: Record<string, ScriptValue> = {};
    sig.forEach(([name], i) => {
      if (i < args.length) bound[name] = args[i];
    });
    let name: string | undefined;
    for (const [k, v] of kwargs) {
      if (k === "name") {
        name = v === null ? undefined : String(v);
        continue;
      }
      if (!sig.some(([n]) => n === k)) {
        this.fail(line, `${type} got an unsupported keyword argument '${k}'`);
      }
      if (k in bound) this.fail(line, `${type} got two values for '${k}'`);
      bound[k] = v;
    }
    for (const [n, d] of sig) {
      if (n in bound) continue;
      if (d === undefined) this.fail(line, `${type} is missing the argument '${n}'`);
      bound[n] = d;
    }
    let incoming: LasagneLayer[] = [];
    if ("incoming" in bound) {
      if (!isLayer(bound.incoming)) {
        this.fail(line, `${type}: 'incoming' must be a layer, got ${describe(bound.incoming)}`);
      }
      incoming = [bound.incoming];
    } else if ("incomings" in bound) {
      const list = Array.isArray(bound.incomings)
        ? bound.incomings
        : isKind(bound.incomings, "tuple")
        ? bound.incomings.items
        : this.fail(line, `${type}: 'incomings' must be a list of layers`);
      if (!list.every(isLayer)) this.fail(line, `${type}: 'incomings' must be a list of layers`);
      incoming = list as LasagneLayer[];
    }
    const layer: LasagneLayer = {
      kind: "host",
      hostType: "lasagne-layer",
      type,
      id: this.#nextId++,
      name,
      incoming,
      args: bound,
      line,
    };
    this.layers.push(layer);
    return layer;
  }

  /** Lasagne's `batch_norm(layer, **kwargs)`: drop the layer's bias and nonlinearity, add BN (+ nonlinearity). */
  batchNorm(args: ScriptValue[], kwargs: Kwargs, line: number): LasagneLayer {
    const layer = args[0];
    if (!isLayer(layer)) return this.fail(line, "batch_norm() expects a layer");
    const nonlin = layer.args.nonlinearity;
    if (nonlin !== undefined && nonlin !== null) layer.args.nonlinearity = ref(LINEAR);
    if ("b" in layer.args) layer.args.b = null;
    const kw = new Map(kwargs);
    if (layer.name && !kw.has("name")) kw.set("name", `${layer.name}_bn`);
    const bn = this.layer("BatchNormLayer", [layer], kw, line);
    if (nonlin === undefined || nonlin === null || (isKind(nonlin, "ref") && isLinear(nonlin.path))) {
      return bn;
    }
    const nk: Kwargs = new Map();
    if (layer.name) nk.set("name", `${layer.name}_bn_nonlin`);
    return this.layer("NonlinearityLayer", [bn, nonlin], nk, line);
  }
}

function ref(path: string): Ref {
  return { kind: "ref", path };
}

function isLinear(path: string): boolean {
  return /\.(linear|identity)$/.test(path);
}

function isLayer(v: ScriptValue | undefined): v is LasagneLayer {
  return isHost(v, "lasagne-layer");
}

function describe(v: ScriptValue | undefined): string {
  if (isLayer(v)) return `layer ${v.type}`;
  if (v === null) return "None";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v !== "object") return `${typeof v} ${JSON.stringify(v)}`;
  return "kind" in v && v.kind === "ref" ? v.path : `a ${v.kind}`;
}

/** Functions a build script may define to build its network, tried in this order. */
export const BUILD_FUNCTIONS: readonly string[] = [
  "build_network",
  "build_cnn",
  "build_model",
  "build_mlp",
  "build_net",
  "create_network",
];

/** The result of running a build script. */
export interface LasagneScript {
  /** The output layer of the network. */
  output: LasagneLayer;
  /** How the output was found (`build_network()`, or the last layer assigned). */
  entry: string;
}

function pickLayer(v: ScriptValue): LasagneLayer | undefined {
  if (isLayer(v)) return v;
  if (Array.isArray(v)) return v.map(pickLayer).find((l) => l);
  if (isKind(v, "tuple")) return v.items.map(pickLayer).find((l) => l);
  if (isKind(v, "dict")) {
    for (const key of ["model", "out", "output", "l_out", "prob", "network"]) {
      const hit = v.map.get(key);
      if (isLayer(hit)) return hit;
    }
    const layers = [...v.map.values()].filter(isLayer);
    return layers.sort((a, b) => b.id - a.id)[0];
  }
  return undefined;
}

/**
 * Run a build script and return the network's output layer: the result of
 * its build function (see {@linkcode BUILD_FUNCTIONS}; a tuple/list/dict
 * result gives its first layer, or the `'model'`/`'out'`... entry), else
 * the last layer created that feeds no other layer.
 */
export function interpretLasagneScript(source: string, file: string): LasagneScript {
  const body = parseModule(source, file);
  checkLasagneSubset(body, file);
  const host = new LasagneHost(file);
  const ev = new Evaluator(file, host);
  ev.runModule(body);
  for (const name of BUILD_FUNCTIONS) {
    const fn = ev.globals.get(name);
    if (isKind(fn, "function")) {
      const result = ev.callFunction(fn, [], new Map(), fn.def.line);
      const output = pickLayer(result);
      if (!output) {
        throw new ModelFormatError(`${file}:${fn.def.line}: ${name}() returned no Lasagne layer`, { file });
      }
      return { output, entry: `${name}()` };
    }
  }
  const used = new Set(host.layers.flatMap((l) => l.incoming));
  const last = host.layers.filter((l) => !used.has(l)).sort((a, b) => b.id - a.id)[0];
  if (!last) {
    throw new ModelFormatError(
      `${file}: the script builds no Lasagne layer (no ${
        BUILD_FUNCTIONS.join("/")
      } function and no layer at top level)`,
      { file },
    );
  }
  return { output: last, entry: "top-level script" };
}

/** Lasagne's `get_all_layers(output)`: every layer, inputs before the layers that use them. */
export function getAllLayers(output: LasagneLayer): LasagneLayer[] {
  const queue: LasagneLayer[] = [output];
  const seen = new Set<LasagneLayer>();
  const done = new Set<LasagneLayer>();
  const result: LasagneLayer[] = [];
  while (queue.length) {
    const layer = queue[0];
    if (!seen.has(layer)) {
      seen.add(layer);
      queue.unshift(...layer.incoming);
    } else {
      queue.shift();
      if (!done.has(layer)) {
        result.push(layer);
        done.add(layer);
      }
    }
  }
  return result;
}

/**
 * Names of a layer's parameters in Lasagne's `layer.params` order
 * (`W`, `b` for Dense/Conv; `beta`, `gamma`, `mean`, `inv_std` for
 * BatchNorm), leaving out those set to `None`.
 */
export function layerParamNames(layer: LasagneLayer): string[] {
  const present = (k: string): boolean => layer.args[k] !== null && layer.args[k] !== undefined;
  switch (layer.type) {
    case "DenseLayer":
    case "Conv2DLayer":
    case "Conv2DDNNLayer":
      return ["W", "b"].filter((k) => k === "W" || present(k));
    case "BatchNormLayer":
      return ["beta", "gamma", "mean", "inv_std"].filter(present);
    default:
      return [];
  }
}
