/**
 * A static interpreter of Lasagne build scripts: runs the declarative
 * subset parsed by {@linkcode parsePythonScript} without Python, with
 * `lasagne.layers.*` constructors building a graph of
 * {@linkcode LasagneLayer} records (arguments bound by Lasagne's
 * signatures and defaults), `lasagne.nonlinearities.*` as names,
 * `batch_norm(...)` rewriting as Lasagne does it, and user functions that
 * return layers (`build_network()`, `build_cnn(input_var=None)`).
 *
 * @module
 */
import { ModelFormatError, UnsupportedLayerError } from "../../errors.ts";
import { type Expr, parsePythonScript, type Stmt } from "../../io/python_syntax.ts";

/** A layer built by a script. */
export interface LasagneLayer {
  /** Discriminator. */
  readonly kind: "layer";
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

/** A dotted reference to something in an imported module (`lasagne.nonlinearities.rectify`). */
export interface Ref {
  /** Discriminator. */
  readonly kind: "ref";
  /** Full dotted path. */
  readonly path: string;
}

/** An opaque value the build does not use (initializers, Theano variables). */
export interface Opaque {
  /** Discriminator. */
  readonly kind: "opaque";
  /** What it is. */
  readonly what: string;
}

/** A tuple. */
export interface TupleValue {
  /** Discriminator. */
  readonly kind: "tuple";
  /** Items. */
  readonly items: ScriptValue[];
}

/** A dict (string or number keys). */
export interface DictValue {
  /** Discriminator. */
  readonly kind: "dict";
  /** Entries in insertion order. */
  readonly map: Map<string | number, ScriptValue>;
}

/** A function defined by the script. */
export interface UserFunction {
  /** Discriminator. */
  readonly kind: "function";
  /** Its definition. */
  readonly def: Extract<Stmt, { t: "def" }>;
  /** Default values of its parameters (`undefined`: none). */
  readonly defaults: (ScriptValue | undefined)[];
  /** The scope it was defined in. */
  readonly closure: Map<string, ScriptValue>;
}

/** Most items a `range(...)` or list repetition of a build script may have (bounds hostile loop counts). */
const MAX_RANGE = 100_000;

/** The value of `range(...)`. */
export interface RangeValue {
  /** Discriminator. */
  readonly kind: "range";
  /** The numbers. */
  readonly items: number[];
}

/** A value of the interpreted script. */
export type ScriptValue =
  | null
  | boolean
  | number
  | string
  | ScriptValue[]
  | TupleValue
  | DictValue
  | LasagneLayer
  | Ref
  | Opaque
  | UserFunction
  | RangeValue;

type Scope = Map<string, ScriptValue>;

const LINEAR = "lasagne.nonlinearities.linear";
const RECTIFY = "lasagne.nonlinearities.rectify";

/** Lasagne signatures: positional parameter names and defaults (`undefined` = required). */
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

class Return {
  constructor(readonly value: ScriptValue) {}
}

/** Interpreter state for one script. */
class Interpreter {
  #nextId = 0;
  /** Enclosing scope of each function-call scope (closures). */
  readonly #parents = new WeakMap<Scope, Scope>();
  readonly layers: LasagneLayer[] = [];
  readonly globals: Scope = new Map();

  constructor(readonly file: string) {}

  fail(line: number, msg: string): never {
    throw new ModelFormatError(`${this.file}:${line}: ${msg}`, { file: this.file });
  }

  run(body: Stmt[], scope: Scope): void {
    for (const s of body) this.exec(s, scope);
  }

  exec(s: Stmt, scope: Scope): void {
    switch (s.t) {
      case "import": {
        const alias = s.alias ?? s.module.split(".")[0];
        scope.set(alias, { kind: "ref", path: s.alias ? s.module : s.module.split(".")[0] });
        return;
      }
      case "from":
        for (const [name, alias] of s.names) {
          if (name === "*") {
            if (LAYER_MODULES.test(s.module)) {
              for (const t of [...LASAGNE_LAYER_TYPES, "batch_norm"]) {
                scope.set(t, { kind: "ref", path: `lasagne.layers.${t}` });
              }
            } else if (s.module === "lasagne.nonlinearities") {
              for (
                const n of ["rectify", "softmax", "sigmoid", "tanh", "linear", "identity", "elu", "softplus"]
              ) {
                scope.set(n, { kind: "ref", path: `lasagne.nonlinearities.${n}` });
              }
            } else this.fail(s.line, `'from ${s.module} import *' is outside the supported subset`);
          } else scope.set(alias, { kind: "ref", path: `${s.module}.${name}` });
        }
        return;
      case "assign": {
        const value = this.eval(s.value, scope);
        for (const target of s.targets) this.assign(target, value, scope, s.line);
        return;
      }
      case "augassign": {
        const cur = this.eval(s.target, scope);
        this.assign(s.target, this.binary(s.op, cur, this.eval(s.value, scope), s.line), scope, s.line);
        return;
      }
      case "expr":
        if (s.value.t === "str") return; // docstring
        this.eval(s.value, scope);
        return;
      case "def": {
        const defaults = s.params.map((p) => (p.default ? this.eval(p.default, scope) : undefined));
        scope.set(s.name, { kind: "function", def: s, defaults, closure: scope });
        return;
      }
      case "return":
        throw new Return(s.value ? this.eval(s.value, scope) : null);
      case "for": {
        const iter = this.eval(s.iter, scope);
        const items = this.iterate(iter, s.line);
        for (const item of items) {
          this.assign(s.target, item, scope, s.line);
          this.run(s.body, scope);
        }
        return;
      }
      case "pass":
      case "main-guard":
        return;
    }
  }

  iterate(v: ScriptValue, line: number): ScriptValue[] {
    if (Array.isArray(v)) return [...v];
    if (typeof v === "object" && v !== null) {
      if (v.kind === "range" || v.kind === "tuple") return [...v.items];
    }
    return this.fail(line, `cannot loop over ${describe(v)}; supported: range(...), lists and tuples`);
  }

  assign(target: Expr, value: ScriptValue, scope: Scope, line: number): void {
    if (target.t === "name") {
      scope.set(target.id, value);
      return;
    }
    if (target.t === "index") {
      const obj = this.eval(target.obj, scope);
      const key = this.eval(target.index, scope);
      if (isDict(obj) && (typeof key === "string" || typeof key === "number")) {
        obj.map.set(key, value);
        if (isLayer(value) && typeof key === "string") value.hint ??= key;
        return;
      }
      if (Array.isArray(obj) && typeof key === "number") {
        const i = key < 0 ? obj.length + key : key;
        if (i < 0 || i >= obj.length) this.fail(line, `list index ${key} out of range`);
        obj[i] = value;
        return;
      }
      this.fail(line, `cannot assign to an item of ${describe(obj)}`);
    }
    if (target.t === "tuple" || target.t === "list") {
      const items = this.iterate(value, line);
      if (items.length !== target.items.length) {
        this.fail(line, `cannot unpack ${items.length} values into ${target.items.length} names`);
      }
      target.items.forEach((t, i) => this.assign(t, items[i], scope, line));
      return;
    }
    this.fail(line, "unsupported assignment target");
  }

  lookup(name: string, scope: Scope, line: number): ScriptValue {
    for (let s: Scope | undefined = scope; s; s = this.#parents.get(s)) {
      if (s.has(name)) return s.get(name)!;
    }
    if (this.globals.has(name)) return this.globals.get(name)!;
    if (["range", "str", "int", "float", "len", "dict", "list", "tuple", "OrderedDict"].includes(name)) {
      return { kind: "ref", path: `builtins.${name}` };
    }
    return this.fail(line, `name '${name}' is not defined`);
  }

  eval(e: Expr, scope: Scope): ScriptValue {
    switch (e.t) {
      case "num":
      case "str":
        return e.value;
      case "const":
        return e.value;
      case "name":
        return this.lookup(e.id, scope, e.line);
      case "tuple":
        return { kind: "tuple", items: e.items.map((i) => this.eval(i, scope)) };
      case "list":
        return e.items.map((i) => this.eval(i, scope));
      case "dict": {
        const map = new Map<string | number, ScriptValue>();
        for (const [k, v] of e.entries) {
          const key = this.eval(k, scope);
          if (typeof key !== "string" && typeof key !== "number") {
            this.fail(e.line, "dict keys must be strings or numbers");
          }
          map.set(key, this.eval(v, scope));
        }
        return { kind: "dict", map };
      }
      case "attr": {
        const obj = this.eval(e.obj, scope);
        if (isRef(obj)) return { kind: "ref", path: `${obj.path}.${e.name}` };
        if (isLayer(obj)) {
          if (e.name === "name") return obj.name ?? null;
          if (e.name === "output_shape" || e.name === "input_layer") {
            return this.fail(e.line, `layer attribute '${e.name}' is outside the supported subset`);
          }
        }
        return this.fail(e.line, `attribute '${e.name}' of ${describe(obj)} is outside the supported subset`);
      }
      case "index": {
        const obj = this.eval(e.obj, scope);
        const key = this.eval(e.index, scope);
        if (isDict(obj) && (typeof key === "string" || typeof key === "number")) {
          if (!obj.map.has(key)) this.fail(e.line, `key ${JSON.stringify(key)} is not in the dict`);
          return obj.map.get(key)!;
        }
        const seq = Array.isArray(obj)
          ? obj
          : obj && typeof obj === "object" && obj.kind === "tuple"
          ? obj.items
          : null;
        if (seq && typeof key === "number" && Number.isInteger(key)) {
          const i = key < 0 ? seq.length + key : key;
          if (i < 0 || i >= seq.length) this.fail(e.line, `index ${key} out of range`);
          return seq[i];
        }
        return this.fail(e.line, `cannot index ${describe(obj)} with ${describe(key)}`);
      }
      case "unary": {
        const v = this.eval(e.operand, scope);
        if (typeof v !== "number") this.fail(e.line, `unary '${e.op}' on ${describe(v)}`);
        return e.op === "-" ? -v : v;
      }
      case "binary":
        return this.binary(e.op, this.eval(e.left, scope), this.eval(e.right, scope), e.line);
      case "call":
        return this.call(e, scope);
    }
  }

  binary(op: string, a: ScriptValue, b: ScriptValue, line: number): ScriptValue {
    if (typeof a === "number" && typeof b === "number") {
      switch (op) {
        case "+":
          return a + b;
        case "-":
          return a - b;
        case "*":
          return a * b;
        case "/":
          return a / b;
        case "//":
          return Math.floor(a / b);
        case "%":
          return ((a % b) + b) % b;
        case "**":
          return a ** b;
      }
    }
    if (op === "+" && typeof a === "string" && typeof b === "string") return a + b;
    if (op === "%" && typeof a === "string") {
      const args = b && typeof b === "object" && !Array.isArray(b) && b.kind === "tuple" ? [...b.items] : [b];
      return a.replace(/%[sdi]/g, () => String(args.shift()));
    }
    if (op === "*" && Array.isArray(a) && typeof b === "number") {
      if (!Number.isInteger(b) || a.length * Math.max(b, 0) > MAX_RANGE) {
        this.fail(
          line,
          `list * ${b} would have ${a.length * b} items; a build script may make at most ${MAX_RANGE}`,
        );
      }
      return Array.from({ length: Math.max(b, 0) }, () => a).flat();
    }
    return this.fail(
      line,
      `operator '${op}' on ${describe(a)} and ${describe(b)} is outside the supported subset`,
    );
  }

  call(e: Extract<Expr, { t: "call" }>, scope: Scope): ScriptValue {
    const fn = this.eval(e.fn, scope);
    const args = e.args.map((a) => this.eval(a, scope));
    const kwargs = new Map<string, ScriptValue>(e.kwargs.map(([k, v]) => [k, this.eval(v, scope)]));
    if (e.starKwargs) {
      const extra = this.eval(e.starKwargs, scope);
      if (!isDict(extra)) this.fail(e.line, "** arguments must be a dict");
      for (const [k, v] of extra.map) kwargs.set(String(k), v);
    }
    if (fn && typeof fn === "object" && !Array.isArray(fn) && fn.kind === "function") {
      return this.callUser(fn, args, kwargs, e.line);
    }
    if (!isRef(fn)) return this.fail(e.line, `${describe(fn)} is not callable`);
    return this.callRef(fn.path, args, kwargs, e.line);
  }

  callUser(
    fn: UserFunction,
    args: ScriptValue[],
    kwargs: Map<string, ScriptValue>,
    line: number,
  ): ScriptValue {
    const local: Scope = new Map();
    const params = fn.def.params;
    const rest = params.find((p) => p.kwargs);
    const plain = params.filter((p) => !p.kwargs);
    if (args.length > plain.length) {
      this.fail(line, `${fn.def.name}() takes ${plain.length} arguments, ${args.length} given`);
    }
    plain.forEach((p, i) => {
      if (i < args.length) local.set(p.name, args[i]);
    });
    const extra = new Map<string | number, ScriptValue>();
    for (const [k, v] of kwargs) {
      if (plain.some((p) => p.name === k)) local.set(k, v);
      else if (rest) extra.set(k, v);
      else this.fail(line, `${fn.def.name}() got an unexpected keyword argument '${k}'`);
    }
    params.forEach((p, i) => {
      if (p.kwargs) local.set(p.name, { kind: "dict", map: extra });
      else if (!local.has(p.name)) {
        const d = fn.defaults[i];
        if (d === undefined) this.fail(line, `${fn.def.name}() is missing the argument '${p.name}'`);
        local.set(p.name, d);
      }
    });
    // Functions see their own locals, then the scopes they were defined in.
    this.#parents.set(local, fn.closure);
    try {
      this.run(fn.def.body, local);
      return null;
    } catch (err) {
      if (err instanceof Return) return err.value;
      throw err;
    }
  }

  callRef(path: string, args: ScriptValue[], kwargs: Map<string, ScriptValue>, line: number): ScriptValue {
    const last = path.split(".").pop()!;
    const module = path.slice(0, path.length - last.length - 1);
    if (path === "builtins.range") {
      const n = args.map((a) => (typeof a === "number" ? a : this.fail(line, "range() takes numbers")));
      const [start, stop, step] = n.length === 1 ? [0, n[0], 1] : [n[0], n[1], n[2] ?? 1];
      if (step === 0) this.fail(line, "range() step must not be zero");
      const count = Math.max(0, Math.ceil((stop - start) / step));
      if (!Number.isFinite(count) || count > MAX_RANGE) {
        this.fail(
          line,
          `range(${n.join(", ")}) has ${count} items; a build script may loop at most ${MAX_RANGE} times`,
        );
      }
      const items: number[] = [];
      for (let i = start; step > 0 ? i < stop : i > stop; i += step) items.push(i);
      return { kind: "range", items };
    }
    if (path === "builtins.str") return String(args[0]);
    if (path === "builtins.int") return Math.trunc(Number(args[0]));
    if (path === "builtins.float") return Number(args[0]);
    if (path === "builtins.len") return this.iterate(args[0], line).length;
    if (path === "builtins.dict" || path === "builtins.OrderedDict" || path === "collections.OrderedDict") {
      return { kind: "dict", map: new Map([...kwargs].map(([k, v]) => [k, v])) };
    }
    if (path === "builtins.list") return args.length ? this.iterate(args[0], line) : [];
    if (path === "builtins.tuple") {
      return { kind: "tuple", items: args.length ? this.iterate(args[0], line) : [] };
    }
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
      return {
        kind: "ref",
        path: `lasagne.nonlinearities.${last}(${args.map((a) => JSON.stringify(a)).join(",")})`,
      };
    }
    if (/^theano\.tensor\.[a-z]*(scalar|vector|matrix|tensor[0-9]?)$/.test(path)) {
      return { kind: "opaque", what: "theano variable" };
    }
    return this.fail(line, `calling ${path}() is outside the supported subset`);
  }

  layer(type: string, args: ScriptValue[], kwargs: Map<string, ScriptValue>, line: number): LasagneLayer {
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
      const list = this.iterate(bound.incomings, line);
      if (!list.every(isLayer)) this.fail(line, `${type}: 'incomings' must be a list of layers`);
      incoming = list as LasagneLayer[];
    }
    const layer: LasagneLayer = {
      kind: "layer",
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
  batchNorm(args: ScriptValue[], kwargs: Map<string, ScriptValue>, line: number): LasagneLayer {
    const layer = args[0];
    if (!isLayer(layer)) return this.fail(line, "batch_norm() expects a layer");
    const nonlin = layer.args.nonlinearity;
    if (nonlin !== undefined && nonlin !== null) layer.args.nonlinearity = { kind: "ref", path: LINEAR };
    if ("b" in layer.args) layer.args.b = null;
    const kw = new Map(kwargs);
    if (layer.name && !kw.has("name")) kw.set("name", `${layer.name}_bn`);
    const bn = this.layer("BatchNormLayer", [layer], kw, line);
    if (nonlin === undefined || nonlin === null || (isRef(nonlin) && isLinear(nonlin.path))) return bn;
    const nk = new Map<string, ScriptValue>();
    if (layer.name) nk.set("name", `${layer.name}_bn_nonlin`);
    return this.layer("NonlinearityLayer", [bn, nonlin], nk, line);
  }
}

function isLinear(path: string): boolean {
  return /\.(linear|identity)$/.test(path);
}

function isLayer(v: ScriptValue | undefined): v is LasagneLayer {
  return typeof v === "object" && v !== null && !Array.isArray(v) && v.kind === "layer";
}

function isRef(v: ScriptValue | undefined): v is Ref {
  return typeof v === "object" && v !== null && !Array.isArray(v) && v.kind === "ref";
}

function isDict(v: ScriptValue | undefined): v is DictValue {
  return typeof v === "object" && v !== null && !Array.isArray(v) && v.kind === "dict";
}

function describe(v: ScriptValue | undefined): string {
  if (v === null) return "None";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v !== "object") return `${typeof v} ${JSON.stringify(v)}`;
  switch (v.kind) {
    case "layer":
      return `layer ${v.type}`;
    case "ref":
      return v.path;
    case "opaque":
      return v.what;
    case "function":
      return `function ${v.def.name}`;
    default:
      return `a ${v.kind}`;
  }
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
  if (v && typeof v === "object" && v.kind === "tuple") return v.items.map(pickLayer).find((l) => l);
  if (isDict(v)) {
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
  const interp = new Interpreter(file);
  const body = parsePythonScript(source, file);
  interp.run(body, interp.globals);
  for (const name of BUILD_FUNCTIONS) {
    const fn = interp.globals.get(name);
    if (fn && typeof fn === "object" && !Array.isArray(fn) && fn.kind === "function") {
      const result = interp.callUser(fn, [], new Map(), fn.def.line);
      const output = pickLayer(result);
      if (!output) {
        throw new ModelFormatError(`${file}:${fn.def.line}: ${name}() returned no Lasagne layer`, { file });
      }
      return { output, entry: `${name}()` };
    }
  }
  const used = new Set(interp.layers.flatMap((l) => l.incoming));
  const last = interp.layers.filter((l) => !used.has(l)).sort((a, b) => b.id - a.id)[0];
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
