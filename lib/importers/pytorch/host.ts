/**
 * What `torch` means to the static evaluator when it runs a PyTorch model
 * script: `nn.*` constructors build module records, script classes derived
 * from `nn.Module` register their submodules in assignment order (as
 * PyTorch's `_modules` does), and, once a graph is being traced, calling a
 * module or a functional (`F.relu`, `torch.cat`, `x.view`, `+`) adds ONNX
 * nodes to it. Everything here runs in eval mode: dropout is the
 * identity, batch norm uses its running statistics.
 *
 * @module
 */
import type { Evaluator, Host, Kwargs } from "../../io/python/evaluator.ts";
import { ScriptError } from "../../io/python/errors.ts";
import { bindMethod, classAttr, foreignBases } from "../../io/python/classes.ts";
import {
  type HostObject,
  type InstanceValue,
  isHost,
  isKind,
  type Ref,
  type ScriptValue,
  sequenceItems,
} from "../../io/python/values.ts";
import { BATCH_SIZE, isTensor, type PoolArgs, type Tensor, type TorchGraph, type Weight } from "./graph.ts";
import {
  bindModuleArgs,
  CONTAINERS,
  intTuple,
  isTorchModule,
  type Module,
  moduleProblem,
  SIGNATURES,
  SUPPORTED_MODULES,
  type TorchModule,
} from "./modules.ts";

/** A method of a module, tensor or parameter, bound to it (`x.view`, `self.layers.append`). */
interface HostMethod extends HostObject {
  readonly hostType: "method";
  readonly self: ScriptValue;
  readonly name: string;
}

function method(self: ScriptValue, name: string): HostMethod {
  return { kind: "host", hostType: "method", self, name };
}

/** `module.weight` / `module.bias` while building: only initializers touch it (`nn.init.*`), never the forward pass. */
const PARAMETER: HostObject = { kind: "host", hostType: "parameter" };

const MODULE_BASES = ["torch.nn.Module", "torch.nn.Sequential", "torch.nn.ModuleList"];

/** `torch.nn.modules.conv.Conv2d` → `torch.nn.Conv2d`; `torch.nn.functional` kept. */
export function canonicalTorchPath(path: string): string {
  return path.replace(/^torch\.nn\.modules\.[a-z_]+\./, "torch.nn.");
}

type Sig = [string, ScriptValue | undefined][];

const F_SIGNATURES: Record<string, Sig> = {
  relu: [["input", undefined], ["inplace", false]],
  relu6: [["input", undefined], ["inplace", false]],
  max_pool2d: [
    ["input", undefined],
    ["kernel_size", undefined],
    ["stride", null],
    ["padding", 0],
    ["dilation", 1],
    ["ceil_mode", false],
    ["return_indices", false],
  ],
  avg_pool2d: [
    ["input", undefined],
    ["kernel_size", undefined],
    ["stride", null],
    ["padding", 0],
    ["ceil_mode", false],
    ["count_include_pad", true],
    ["divisor_override", null],
  ],
  adaptive_avg_pool2d: [["input", undefined], ["output_size", undefined]],
  dropout: [["input", undefined], ["p", 0.5], ["training", true], ["inplace", false]],
  softmax: [["input", undefined], ["dim", null], ["_stacklevel", 3], ["dtype", null]],
  log_softmax: [["input", undefined], ["dim", null], ["_stacklevel", 3], ["dtype", null]],
  cat: [["tensors", undefined], ["dim", 0]],
  flatten: [["input", undefined], ["start_dim", 0], ["end_dim", -1]],
  reshape: [["input", undefined], ["shape", undefined]],
  add: [["input", undefined], ["other", undefined], ["alpha", 1]],
};
F_SIGNATURES.dropout2d = F_SIGNATURES.dropout;
F_SIGNATURES.concat = F_SIGNATURES.cat;

/** Functions of `torch.nn.functional` and `torch` a forward pass may call. */
export const SUPPORTED_FUNCTIONS: readonly string[] = [
  "F.relu",
  "F.relu6",
  "F.max_pool2d",
  "F.avg_pool2d",
  "F.adaptive_avg_pool2d",
  "F.dropout",
  "F.softmax",
  "F.log_softmax",
  "torch.relu",
  "torch.cat",
  "torch.flatten",
  "torch.reshape",
  "torch.add",
  "torch.softmax",
  "torch.log_softmax",
  "x.view",
  "x.reshape",
  "x.flatten",
  "x.size",
  "+",
];

/** The `torch` host of one script run. */
export class TorchHost implements Host {
  /** The evaluator running the script (set by the loader). */
  ev!: Evaluator;
  /** The graph being traced, while `forward` runs. */
  graph?: TorchGraph;
  /** State-dict path of every module, set once the model is built. */
  readonly paths = new Map<Module, string>();
  /** Weights of each `torch.nn` module by entry name (`weight`, `running_mean`), set before tracing. */
  weights: (m: TorchModule, key: string) => Weight | undefined = () => undefined;
  readonly #children = new WeakMap<InstanceValue, Map<string, Module>>();
  readonly #scope: string[] = [];

  /** A host for the script `file`. */
  constructor(readonly file: string) {}

  fail(line: number, msg: string): never {
    throw new ScriptError(this.file, line, msg);
  }

  /** Whether `v` is a module (a `torch.nn` record or an instance of an `nn.Module` subclass). */
  isModule(v: ScriptValue | undefined): v is Module {
    return isTorchModule(v) || (isKind(v, "instance") && this.#children.has(v));
  }

  /** The child modules of a module, in registration order. */
  children(m: Module): Map<string, Module> {
    return isTorchModule(m) ? m.children : this.#children.get(m)!;
  }

  /** Every module under `root` (itself first), depth first, each once, with its dotted path. */
  namedModules(root: Module, prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, path: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([path, m]);
      for (const [name, child] of this.children(m)) visit(child, path ? `${path}.${name}` : name);
    };
    visit(root, prefix);
    return out;
  }

  describe(obj: HostObject): string {
    if (isTorchModule(obj)) return `nn.${obj.type}`;
    if (isTensor(obj)) return `a tensor of shape [N, ${obj.dims.join(", ")}]`;
    if (obj === BATCH_SIZE) return "the batch size (x.size(0))";
    if (obj.hostType === "method") return `method ${(obj as HostMethod).name}`;
    if (obj === PARAMETER) return "a module parameter";
    return obj.hostType;
  }

  created(inst: InstanceValue): void {
    const bases = foreignBases(inst.cls).map((r) => canonicalTorchPath(r.path));
    if (bases.some((b) => MODULE_BASES.includes(b))) this.#children.set(inst, new Map());
  }

  setAttr(inst: InstanceValue, name: string, value: ScriptValue): void {
    const children = this.#children.get(inst);
    if (!children) return;
    if (this.isModule(value)) children.set(name, value);
    else children.delete(name);
  }

  instanceAttr(inst: InstanceValue, name: string): ScriptValue | undefined {
    const children = this.#children.get(inst);
    if (!children) return undefined;
    if (children.has(name)) return children.get(name)!;
    if (name === "training") return false;
    return this.#moduleMethod(inst, name);
  }

  #moduleMethod(m: Module, name: string): HostMethod | undefined {
    const methods = [
      "modules",
      "children",
      "named_modules",
      "named_children",
      "add_module",
      "register_module",
      "eval",
      "train",
      "forward",
      "append",
      "extend",
      "insert",
    ];
    return methods.includes(name) ? method(m, name) : undefined;
  }

  getAttr(obj: HostObject, name: string, line: number): ScriptValue | undefined {
    if (isTorchModule(obj)) {
      if (name in obj.args) return obj.args[name];
      if (name === "weight" || name === "bias") return PARAMETER;
      if (name === "training") return false;
      if (name === "running_mean" || name === "running_var") return PARAMETER;
      return this.#moduleMethod(obj, name);
    }
    if (isTensor(obj)) {
      if (name === "shape") return { kind: "tuple", items: [BATCH_SIZE, ...obj.dims] };
      if (name === "ndim") return obj.dims.length + 1;
      const methods = ["view", "reshape", "flatten", "size", "dim", "contiguous", "relu", "relu_", "add"];
      if (methods.includes(name)) return method(obj, name);
      return undefined;
    }
    if (obj === PARAMETER) {
      if (name === "data") return PARAMETER;
      // In-place initializers (`m.weight.data.fill_(1)`): the weights come from the state_dict.
      if (name.endsWith("_")) return method(obj, name);
    }
    void line;
    return undefined;
  }

  isInstance(v: ScriptValue, type: Ref): boolean | undefined {
    const path = canonicalTorchPath(type.path);
    if (!path.startsWith("torch.nn.")) return undefined;
    const cls = path.slice("torch.nn.".length);
    if (cls === "Module") return this.isModule(v);
    if (isTorchModule(v)) return v.type === cls;
    if (isKind(v, "instance")) {
      return foreignBases(v.cls).some((b) => canonicalTorchPath(b.path) === path);
    }
    return false;
  }

  iterate(obj: HostObject | InstanceValue): ScriptValue[] | undefined {
    if (this.isModule(obj) && (isKind(obj, "instance") || CONTAINERS.includes(obj.type))) {
      return [...this.children(obj).values()];
    }
    return undefined;
  }

  index(obj: HostObject | InstanceValue, key: ScriptValue, line: number): ScriptValue | undefined {
    if (!this.isModule(obj)) return undefined;
    const items = [...this.children(obj).values()];
    if (typeof key === "number" && Number.isInteger(key)) {
      const i = key < 0 ? items.length + key : key;
      if (i < 0 || i >= items.length) this.fail(line, `index ${key} out of range of ${items.length} modules`);
      return items[i];
    }
    if (typeof key === "string" && this.children(obj).has(key)) return this.children(obj).get(key)!;
    return undefined;
  }

  binary(op: string, a: ScriptValue, b: ScriptValue, line: number): ScriptValue | undefined {
    if (op === "+" && isTensor(a) && isTensor(b)) {
      return this.#graph(line).add(this.#opName("add"), a, b, line);
    }
    if (isTensor(a) || isTensor(b)) {
      this.fail(
        line,
        `operator '${op}' on ${this.ev.describe(a)} and ${
          this.ev.describe(b)
        } is outside the supported subset (tensor + tensor is supported)`,
      );
    }
    return undefined;
  }

  // ---- calls ---------------------------------------------------------------

  callRef(ref: Ref, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue | undefined {
    const path = canonicalTorchPath(ref.path);
    if (ref.self !== undefined) return this.#baseMethod(path, args, kwargs, line);
    if (path.startsWith("torch.nn.init.")) return null; // weights come from the state_dict
    if (path.startsWith("torch.nn.functional.")) return this.#functional(path.slice(20), args, kwargs, line);
    if (path === "torch.nn.Parameter" || path === "torch.nn.parameter.Parameter") {
      this.fail(line, "nn.Parameter (weights that belong to no module) is outside the supported subset");
    }
    if (path.startsWith("torch.nn.")) return this.#construct(path.slice(9), args, kwargs, line);
    const fn = /^torch\.([a-z_]+)$/.exec(path)?.[1];
    if (fn && ["relu", "cat", "concat", "flatten", "reshape", "add", "softmax", "log_softmax"].includes(fn)) {
      return this.#functional(fn, args, kwargs, line);
    }
    return undefined;
  }

  /** `super().__init__(...)` / `nn.Module.__init__(self)` and other base-class methods on a script instance. */
  #baseMethod(path: string, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue | undefined {
    const [self, ...rest] = args;
    const m = /^torch\.nn\.(Module|Sequential|ModuleList)\.(\w+)$/.exec(path);
    if (!m || !isKind(self, "instance") || !this.#children.has(self)) return undefined;
    const [, base, name] = m;
    if (name === "__init__") {
      if (base === "Module") return null;
      this.#fill(self, base, rest, kwargs, line);
      return null;
    }
    return this.#callMethod(method(self, name), rest, kwargs, line);
  }

  /** Register the children a `Sequential`/`ModuleList` constructor gets. */
  #fill(target: Module, type: string, args: ScriptValue[], kwargs: Kwargs, line: number): void {
    const children = this.children(target);
    if (kwargs.size) this.fail(line, `nn.${type} takes no keyword arguments`);
    let items: [string, ScriptValue][];
    if (type === "ModuleList") {
      if (args.length > 1) this.fail(line, "nn.ModuleList takes one list of modules");
      items = (args.length && args[0] !== null ? this.ev.iterate(args[0], line) : []).map((
        v,
        i,
      ) => [String(i), v]);
    } else if (args.length === 1 && isKind(args[0], "dict")) {
      items = [...args[0].map].map(([k, v]) => [String(k), v]);
    } else items = args.map((v, i) => [String(i), v]);
    for (const [name, v] of items) {
      if (!this.isModule(v)) {
        this.fail(line, `nn.${type} holds ${this.ev.describe(v)}, which is not a module`);
      }
      children.set(name, v);
    }
  }

  #construct(type: string, args: ScriptValue[], kwargs: Kwargs, line: number): TorchModule {
    if (!SUPPORTED_MODULES.includes(type)) {
      this.fail(
        line,
        `nn.${type} is outside the supported subset; supported modules: ${SUPPORTED_MODULES.join(", ")}`,
      );
    }
    const m: TorchModule = {
      kind: "host",
      hostType: "torch-module",
      type,
      args: {},
      children: new Map(),
      line,
    };
    if (!(type in SIGNATURES)) {
      this.#fill(m, type, args, kwargs, line);
      return m;
    }
    const bound = bindModuleArgs(type, args, kwargs);
    if (typeof bound === "string") this.fail(line, bound);
    Object.assign(m.args, bound);
    const problem = moduleProblem(m);
    if (problem) this.fail(line, `nn.${type}: ${problem}`);
    return m;
  }

  call(
    fn: HostObject | InstanceValue,
    args: ScriptValue[],
    kwargs: Kwargs,
    line: number,
  ): ScriptValue | undefined {
    if (isHost(fn, "method")) return this.#callMethod(fn as HostMethod, args, kwargs, line);
    if (!this.isModule(fn)) return undefined;
    return this.#callModule(fn, args, kwargs, line);
  }

  /** Call a module on a tensor: its forward (script classes) or its operation (`torch.nn` modules). */
  #callModule(m: Module, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue {
    const path = this.paths.get(m);
    if (isKind(m, "instance")) {
      const forward = classAttr(m.cls, "forward");
      this.#scope.push(path ?? "");
      try {
        if (forward) return this.ev.callValue(bindMethod(forward.value, m), args, kwargs, line);
        const seqBase = foreignBases(m.cls).some((b) => canonicalTorchPath(b.path) === "torch.nn.Sequential");
        if (seqBase) return this.#sequential(m, args, line);
        return this.fail(line, `${m.cls.name} has no forward() method`);
      } finally {
        this.#scope.pop();
      }
    }
    if (m.type === "ModuleList") this.fail(line, "an nn.ModuleList is not callable; loop over it");
    if (kwargs.size || args.length !== 1) this.fail(line, `nn.${m.type} is called with one tensor`);
    if (m.type === "Sequential") return this.#sequential(m, args, line);
    const x = this.#tensor(args[0], `nn.${m.type}`, line);
    const g = this.#graph(line);
    g.definedAt = m.line;
    try {
      return this.#apply(m, path ?? m.type, x, line);
    } finally {
      g.definedAt = undefined;
    }
  }

  #sequential(m: Module, args: ScriptValue[], line: number): ScriptValue {
    let x = args[0];
    for (const child of this.children(m).values()) x = this.ev.callValue(child, [x], new Map(), line);
    return x;
  }

  #graph(line: number): TorchGraph {
    if (!this.graph) this.fail(line, "tensor operations outside forward() are outside the supported subset");
    return this.graph;
  }

  #tensor(v: ScriptValue | undefined, what: string, line: number): Tensor {
    if (!isTensor(v)) this.fail(line, `${what} expects a tensor, got ${this.ev.describe(v)}`);
    return v;
  }

  #weight(m: TorchModule, key: string, path: string, line: number): Weight {
    const w = this.weights(m, key);
    if (!w) this.fail(line, `the state_dict has no '${path}.${key}'`);
    return w;
  }

  /** The ONNX operation of a `torch.nn` module. */
  #apply(m: TorchModule, path: string, x: Tensor, line: number): Tensor {
    const g = this.#graph(line);
    const a = m.args;
    const w = (key: string) => this.#weight(m, key, path, line);
    switch (m.type) {
      case "Conv1d":
      case "Conv2d": {
        const n = m.type === "Conv1d" ? 1 : 2;
        const padding = a.padding === "same" || a.padding === "valid" ? a.padding : intTuple(a.padding, n)!;
        return g.conv(path, x, w("weight"), a.bias ? w("bias") : undefined, {
          stride: intTuple(a.stride, n)!,
          padding,
          dilation: intTuple(a.dilation, n)!,
          groups: a.groups as number,
        }, line);
      }
      case "Linear":
        return g.linear(path, x, w("weight"), a.bias ? w("bias") : undefined, line);
      case "BatchNorm1d":
      case "BatchNorm2d":
        return g.batchNorm(path, x, {
          weight: a.affine ? w("weight") : undefined,
          bias: a.affine ? w("bias") : undefined,
          mean: w("running_mean"),
          variance: w("running_var"),
          eps: a.eps as number,
          twoD: m.type === "BatchNorm2d",
        }, line);
      case "ReLU":
        return g.relu(path, x, line);
      case "ReLU6":
        return g.relu6(path, x, line);
      case "MaxPool2d":
      case "AvgPool2d":
        return g.pool(m.type === "MaxPool2d" ? "max" : "avg", path, x, this.#poolArgs(a, line), line);
      case "AdaptiveAvgPool2d":
        return g.adaptiveAvgPool(path, x, this.#outputSize(a.output_size, line), line);
      case "Flatten":
        return g.flatten(path, x, a.start_dim as number, a.end_dim as number, line);
      case "Softmax":
      case "LogSoftmax":
        return g.softmax(path, x, a.dim as number | null, m.type === "LogSoftmax", line);
      default: // Dropout (eval mode), Identity
        return x;
    }
  }

  #poolArgs(a: Record<string, ScriptValue>, line: number): PoolArgs {
    const kernel = intTuple(a.kernel_size, 2);
    const stride = a.stride === null ? kernel : intTuple(a.stride, 2);
    const padding = intTuple(a.padding, 2);
    if (!kernel || !stride || !padding) return this.fail(line, "pooling sizes must be ints or pairs of ints");
    return {
      kernel,
      stride,
      padding,
      ceilMode: a.ceil_mode === true,
      countIncludePad: a.count_include_pad !== false,
    };
  }

  #outputSize(v: ScriptValue, line: number): (number | null)[] {
    if (typeof v === "number") return [v, v];
    const items = sequenceItems(v);
    if (items?.length === 2 && items.every((x) => x === null || typeof x === "number")) {
      return items as (number | null)[];
    }
    return this.fail(line, "adaptive pooling output_size must be an int or a pair");
  }

  /** A name for a functional operation: the calling module's path and the operation. */
  #opName(op: string): string {
    const scope = this.#scope[this.#scope.length - 1];
    return scope ? `${scope}.${op}` : op;
  }

  #bind(name: string, args: ScriptValue[], kwargs: Kwargs, line: number): Record<string, ScriptValue> {
    const sig = F_SIGNATURES[name];
    if (args.length > sig.length) this.fail(line, `${name}() takes at most ${sig.length} arguments`);
    const out: Record<string, ScriptValue> = {};
    sig.forEach(([p], i) => {
      if (i < args.length) out[p] = args[i];
    });
    for (const [k, v] of kwargs) {
      if (!sig.some(([p]) => p === k)) this.fail(line, `${name}() got an unexpected keyword argument '${k}'`);
      out[k] = v;
    }
    for (const [p, d] of sig) {
      if (p in out) continue;
      if (d === undefined) this.fail(line, `${name}() is missing the argument '${p}'`);
      out[p] = d;
    }
    return out;
  }

  #functional(name: string, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue | undefined {
    if (!(name in F_SIGNATURES)) return undefined;
    const a = this.#bind(name, args, kwargs, line);
    const g = this.#graph(line);
    const op = this.#opName(name);
    switch (name) {
      case "relu":
        return g.relu(op, this.#tensor(a.input, name, line), line);
      case "relu6":
        return g.relu6(op, this.#tensor(a.input, name, line), line);
      case "max_pool2d":
        if (a.return_indices) this.fail(line, "max_pool2d with return_indices=True");
        if (!intTuple(a.dilation, 2)?.every((d) => d === 1)) {
          this.fail(line, "max_pool2d with a dilation other than 1");
        }
        return g.pool("max", op, this.#tensor(a.input, name, line), this.#poolArgs(a, line), line);
      case "avg_pool2d":
        if (a.divisor_override !== null) this.fail(line, "avg_pool2d with divisor_override");
        return g.pool("avg", op, this.#tensor(a.input, name, line), this.#poolArgs(a, line), line);
      case "adaptive_avg_pool2d":
        return g.adaptiveAvgPool(
          op,
          this.#tensor(a.input, name, line),
          this.#outputSize(a.output_size, line),
          line,
        );
      case "dropout":
      case "dropout2d":
        return this.#tensor(a.input, name, line); // eval mode
      case "softmax":
      case "log_softmax":
        return g.softmax(
          op,
          this.#tensor(a.input, name, line),
          this.#dim(a.dim, line),
          name === "log_softmax",
          line,
        );
      case "cat":
      case "concat": {
        const items = sequenceItems(a.tensors) ??
          this.fail(line, "torch.cat takes a list or tuple of tensors");
        return g.concat(
          op,
          items.map((t) => this.#tensor(t, "torch.cat", line)),
          this.#dim(a.dim, line)!,
          line,
        );
      }
      case "flatten":
        return g.flatten(
          op,
          this.#tensor(a.input, name, line),
          this.#int(a.start_dim, line),
          this.#int(a.end_dim, line),
          line,
        );
      case "reshape":
        return g.reshape(op, this.#tensor(a.input, name, line), this.#shapeArgs([a.shape], line), line);
      case "add":
        if (a.alpha !== 1) this.fail(line, "torch.add with alpha");
        return g.add(op, this.#tensor(a.input, name, line), this.#tensor(a.other, name, line), line);
    }
    return undefined;
  }

  #int(v: ScriptValue, line: number): number {
    if (typeof v !== "number" || !Number.isInteger(v)) {
      return this.fail(line, `expected an int, got ${this.ev.describe(v)}`);
    }
    return v;
  }

  #dim(v: ScriptValue, line: number): number | null {
    return v === null ? null : this.#int(v, line);
  }

  /** `view(-1, 288)`, `view((-1, 288))`, `view(x.size(0), -1)` → the target dims. */
  #shapeArgs(args: ScriptValue[], line: number): (number | HostObject)[] {
    const list = args.length === 1 && sequenceItems(args[0]) ? sequenceItems(args[0])! : args;
    return list.map((d) => {
      if (d === BATCH_SIZE) return d;
      if (typeof d === "number" && Number.isInteger(d)) return d;
      return this.fail(line, `view/reshape sizes must be ints or x.size(0), got ${this.ev.describe(d)}`);
    });
  }

  /** Methods of modules, tensors and parameters. */
  #callMethod(m: HostMethod, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue {
    const self = m.self;
    if (self === PARAMETER) return null; // in-place initialization: ignored
    if (isTensor(self)) return this.#tensorMethod(self, m.name, args, kwargs, line);
    if (!this.isModule(self)) return this.fail(line, `${m.name}() is outside the supported subset`);
    const children = this.children(self);
    switch (m.name) {
      case "modules":
        return this.namedModules(self).map(([, mod]) => mod);
      case "named_modules":
        return this.namedModules(self).map(([p, mod]) => ({ kind: "tuple", items: [p, mod] }));
      case "children":
        return [...children.values()];
      case "named_children":
        return [...children].map(([p, mod]) => ({ kind: "tuple", items: [p, mod] }));
      case "add_module":
      case "register_module": {
        const [name, mod] = args;
        if (typeof name !== "string" || !this.isModule(mod ?? null)) {
          this.fail(line, `${m.name}(name, module) expects a name and a module`);
        }
        children.set(name, mod as Module);
        if (isKind(self, "instance")) self.attrs.set(name, mod as Module);
        return null;
      }
      case "append":
      case "extend":
      case "insert": {
        const items = m.name === "extend"
          ? this.ev.iterate(args[0] ?? null, line)
          : [m.name === "insert" ? args[1] : args[0]];
        const list = [...children.values()];
        for (const item of items) {
          if (!this.isModule(item ?? null)) {
            this.fail(line, `${m.name}() of ${this.ev.describe(item)}, which is not a module`);
          }
        }
        if (m.name === "insert") list.splice(Number(args[0]), 0, items[0] as Module);
        else list.push(...(items as Module[]));
        children.clear();
        list.forEach((mod, i) => children.set(String(i), mod));
        return m.name === "append" ? self : null;
      }
      case "eval":
      case "train":
        return self;
      case "forward":
        return this.#callModule(self, args, kwargs, line);
    }
    return this.fail(line, `${m.name}() is outside the supported subset`);
  }

  #tensorMethod(x: Tensor, name: string, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue {
    const g = this.#graph(line);
    const op = this.#opName(name);
    switch (name) {
      case "view":
      case "reshape":
        if (kwargs.size) this.fail(line, `${name}() takes sizes only`);
        return g.reshape(op, x, this.#shapeArgs(args, line), line);
      case "flatten": {
        const start = args[0] ?? kwargs.get("start_dim") ?? 0;
        const end = args[1] ?? kwargs.get("end_dim") ?? -1;
        return g.flatten(op, x, this.#int(start, line), this.#int(end, line), line);
      }
      case "size": {
        const rank = x.dims.length + 1;
        const d = args[0] ?? kwargs.get("dim");
        if (d === undefined) return { kind: "tuple", items: [BATCH_SIZE, ...x.dims] };
        const i = this.#int(d, line);
        const k = i < 0 ? i + rank : i;
        if (k < 0 || k >= rank) this.fail(line, `size(${i}) of a ${rank}-D tensor`);
        return k === 0 ? BATCH_SIZE : x.dims[k - 1];
      }
      case "dim":
        return x.dims.length + 1;
      case "contiguous":
        return x;
      case "relu":
      case "relu_":
        return g.relu(op, x, line);
      case "add":
        return g.add(op, x, this.#tensor(args[0], "add", line), line);
    }
    return this.fail(line, `tensor.${name}() is outside the supported subset`);
  }
}
