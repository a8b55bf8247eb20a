/**
 * A static evaluator of Python scripts: runs the syntax tree of
 * `parseModule` without Python, over {@linkcode ScriptValue}s — names and
 * scopes, arithmetic, comparisons, containers, `if`/`for`/`while`,
 * functions with defaults and `*args`/`**kwargs`, classes with
 * inheritance, `super()` and bound methods, comprehensions. What imported
 * modules do (`lasagne.layers.DenseLayer(...)`, `nn.Conv2d(...)`,
 * `x.view(...)`) is up to a {@linkcode Host} the reader supplies; nothing
 * outside the script and the host is ever reached.
 *
 * Hostile scripts are bounded: `range()` and list repetition by
 * {@linkcode MAX_ITEMS}, the work of a run by {@linkcode MAX_STEPS}, call
 * nesting by {@linkcode MAX_CALL_DEPTH}. Errors are {@linkcode ScriptError}s
 * `file:line: what`.
 *
 * @module
 */
import type { Expr, Stmt } from "./ast.ts";
import { STATEMENT_NAMES } from "./ast.ts";
import { ScriptError } from "./errors.ts";
import { builtinAlias, callBuiltin, callBuiltinMethod, isBuiltinName, methodOf } from "./builtins.ts";
import { parseFString } from "./fstrings.ts";
import { bindArguments, bindMethod, classAttr, foreignBases, isBuiltinInstance, mro } from "./classes.ts";
import { binaryOp, bounded, compareOp, MAX_ITEMS, pyEquals, pyOrder, unaryOp } from "./operators.ts";
import {
  type ClassValue,
  describeValue,
  type DictValue,
  type FunctionValue,
  type HostObject,
  type InstanceValue,
  isKind,
  type Ref,
  type Scope,
  type ScriptValue,
  sequenceItems,
  truthy,
} from "./values.ts";

export { MAX_ITEMS } from "./operators.ts";
/** Most statements and calls one run may execute. */
export const MAX_STEPS = 5_000_000;
/** Deepest nesting of calls (recursion). */
export const MAX_CALL_DEPTH = 200;

/** Keyword arguments of a call, in order. */
export type Kwargs = Map<string, ScriptValue>;

/**
 * What a reader adds to the evaluator: the meaning of the modules a script
 * imports and of the reader's own objects. Every hook is optional except
 * `callRef`; a hook returning `undefined` means "not supported" and the
 * evaluator reports the construct.
 */
export interface Host {
  /** Call a reference into an imported module (`torch.nn.Conv2d`, `lasagne.layers.DenseLayer`). */
  callRef(ref: Ref, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue | undefined;
  /** How a host object reads in errors. */
  describe?(obj: HostObject): string;
  /** The names `from module import *` binds (`undefined`: refused). */
  starImport?(module: string, line: number): Map<string, ScriptValue> | undefined;
  /** An attribute of a host object. */
  getAttr?(obj: HostObject, name: string, line: number): ScriptValue | undefined;
  /** An attribute of an instance that neither the instance nor its classes define (inherited from a module class). */
  instanceAttr?(inst: InstanceValue, name: string, line: number): ScriptValue | undefined;
  /** An instance attribute was set (after it is stored). */
  setAttr?(inst: InstanceValue, name: string, value: ScriptValue, line: number): void;
  /** Call a host object, or an instance of a class with a module base and no `__call__`. */
  call?(
    fn: HostObject | InstanceValue,
    args: ScriptValue[],
    kwargs: Kwargs,
    line: number,
  ): ScriptValue | undefined;
  /** A binary operator with a host operand. */
  binary?(op: string, a: ScriptValue, b: ScriptValue, line: number): ScriptValue | undefined;
  /** The items of a host object or module instance in a `for` loop. */
  iterate?(obj: HostObject | InstanceValue, line: number): ScriptValue[] | undefined;
  /** `obj[key]` of a host object or module instance. */
  index?(obj: HostObject | InstanceValue, key: ScriptValue, line: number): ScriptValue | undefined;
  /** A value was stored in a dict under `key` (Lasagne names layers after their key). */
  storedInDict?(key: string | number, value: ScriptValue): void;
  /** `isinstance(v, type)` for a type from an imported module (`nn.Conv2d`); `undefined`: not known. */
  isInstance?(v: ScriptValue, type: Ref): boolean | undefined;
  /** An instance of a script class was created, before its `__init__` runs. */
  created?(inst: InstanceValue, line: number): void;
}

class Return {
  constructor(readonly value: ScriptValue) {}
}
class Break {}
class Continue {}

/** Runs one script's statements; keeps its globals. */
export class Evaluator {
  /** The module's global names. */
  readonly globals: Scope = new Map();
  readonly #parents = new WeakMap<Scope, Scope>();
  readonly #classScopes = new WeakMap<Scope, ClassValue>();
  readonly #frames: { fn: FunctionValue; self?: ScriptValue }[] = [];
  /** Why names a reader left unbound could not be computed (named when a script uses them). */
  readonly unavailable: Map<string, string> = new Map();
  #steps = 0;

  /** Evaluate scripts of `file` with `host` giving meaning to imported modules. */
  constructor(readonly file: string, readonly host: Host) {}

  /** Throw a {@linkcode ScriptError} at `line`. */
  fail(line: number, msg: string): never {
    throw new ScriptError(this.file, line, msg);
  }

  /** Describe a value for errors (host objects as the host names them). */
  describe(v: ScriptValue | undefined): string {
    return describeValue(v, this.host.describe?.bind(this.host));
  }

  #step(line: number): void {
    if (++this.#steps > MAX_STEPS) {
      this.fail(
        line,
        `the script runs more than ${MAX_STEPS} steps; a model definition should not loop that long`,
      );
    }
  }

  /** Run a module's statements in the global scope. */
  runModule(body: readonly Stmt[]): void {
    this.run(body, this.globals);
  }

  /** Run statements in `scope` (control-flow signals propagate). */
  run(body: readonly Stmt[], scope: Scope): void {
    for (const s of body) this.exec(s, scope);
  }

  /** Execute one statement. */
  exec(s: Stmt, scope: Scope): void {
    this.#step(s.line);
    switch (s.t) {
      case "expr":
        this.eval(s.value, scope);
        return;
      case "assign": {
        const value = this.eval(s.value, scope);
        for (const target of s.targets) this.assign(target, value, scope, s.line);
        return;
      }
      case "augassign": {
        const cur = this.eval(s.target, scope);
        const rhs = this.eval(s.value, scope);
        if (Array.isArray(cur) && s.op === "+") {
          const more = this.iterate(rhs, s.line);
          bounded(this, cur.length + more.length, MAX_ITEMS, "a list", s.line);
          for (const item of more) cur.push(item); // list += iterable extends in place
          return;
        }
        this.assign(s.target, this.binary(s.op, cur, rhs, s.line), scope, s.line);
        return;
      }
      case "annassign":
        if (s.value) this.assign(s.target, this.eval(s.value, scope), scope, s.line);
        return;
      case "import":
        for (const { module, alias } of s.names) {
          if (alias) scope.set(alias, { kind: "ref", path: module });
          else scope.set(module.split(".")[0], { kind: "ref", path: module.split(".")[0] });
        }
        return;
      case "from":
        return this.fromImport(s, scope);
      case "def":
        scope.set(s.name, this.makeFunction(s, scope));
        return;
      case "class":
        scope.set(s.name, this.makeClass(s, scope));
        return;
      case "return":
        throw new Return(s.value ? this.eval(s.value, scope) : null);
      case "if":
        this.run(truthy(this.eval(s.test, scope)) ? s.body : s.orelse, scope);
        return;
      case "for":
        return this.forLoop(s, scope);
      case "while":
        return this.whileLoop(s, scope);
      case "break":
        throw new Break();
      case "continue":
        throw new Continue();
      case "pass":
      case "print":
      case "main-guard":
        return;
      case "assert":
        if (!truthy(this.eval(s.test, scope))) this.fail(s.line, "assertion failed");
        return;
      case "raise":
        return this.fail(s.line, "the script raises an exception here");
      case "del":
        for (const target of s.targets) this.delete(target, scope, s.line);
        return;
      default:
        return this.fail(s.line, `${STATEMENT_NAMES[s.t]} are outside the supported subset`);
    }
  }

  fromImport(s: Extract<Stmt, { t: "from" }>, scope: Scope): void {
    const module = ".".repeat(s.level) + s.module;
    for (const [name, alias] of s.names) {
      if (name === "*") {
        const names = this.host.starImport?.(module, s.line);
        if (!names) this.fail(s.line, `'from ${module} import *' is outside the supported subset`);
        for (const [k, v] of names) scope.set(k, v);
      } else scope.set(alias, { kind: "ref", path: `${module}.${name}` });
    }
  }

  forLoop(s: Extract<Stmt, { t: "for" }>, scope: Scope): void {
    const items = this.iterate(this.eval(s.iter, scope), s.line);
    for (const item of items) {
      this.assign(s.target, item, scope, s.line);
      if (this.#loopBody(s.body, scope) === "break") return;
    }
    this.run(s.orelse, scope);
  }

  whileLoop(s: Extract<Stmt, { t: "while" }>, scope: Scope): void {
    while (truthy(this.eval(s.test, scope))) {
      this.#step(s.line);
      if (this.#loopBody(s.body, scope) === "break") return;
    }
    this.run(s.orelse, scope);
  }

  /** Run one pass of a loop body; says whether it ended with `break`. */
  #loopBody(body: readonly Stmt[], scope: Scope): "break" | "next" {
    try {
      this.run(body, scope);
    } catch (sig) {
      if (sig instanceof Break) return "break";
      if (!(sig instanceof Continue)) throw sig;
    }
    return "next";
  }

  makeFunction(def: Extract<Stmt, { t: "def" }>, scope: Scope): FunctionValue {
    if (def.decorators.length) {
      const allowed = def.decorators.every((d) =>
        d.t === "name" && ["staticmethod", "property"].includes(d.id)
      );
      if (!allowed) this.fail(def.line, "decorators are outside the supported subset");
    }
    if (def.async) this.fail(def.line, "async code is outside the supported subset");
    const defaults = def.params.map((p) => (p.default ? this.eval(p.default, scope) : undefined));
    // Functions defined in a class body see the class's enclosing scope, not the class's names.
    const owner = this.#classScopes.get(scope);
    const closure = owner ? this.#parents.get(scope) ?? this.globals : scope;
    return { kind: "function", def, defaults, closure, owner };
  }

  makeClass(s: Extract<Stmt, { t: "class" }>, scope: Scope): ClassValue {
    if (s.decorators.length) this.fail(s.line, "class decorators are outside the supported subset");
    const bases: (ClassValue | Ref)[] = [];
    for (const b of s.bases) {
      const v = this.eval(b, scope);
      if (isKind(v, "class") || isKind(v, "ref")) bases.push(v);
      else this.fail(s.line, `class ${s.name} derives from ${this.describe(v)}, which is not a class`);
    }
    const cls: ClassValue = { kind: "class", name: s.name, bases, attrs: new Map(), line: s.line };
    const body: Scope = new Map();
    this.#parents.set(body, scope);
    this.#classScopes.set(body, cls);
    this.run(s.body, body);
    for (const [k, v] of body) cls.attrs.set(k, v);
    return cls;
  }

  /** Bind `value` to an assignment target. */
  assign(target: Expr, value: ScriptValue, scope: Scope, line: number): void {
    switch (target.t) {
      case "name":
        scope.set(target.id, value);
        return;
      case "index": {
        const obj = this.eval(target.obj, scope);
        const key = this.eval(target.index, scope);
        if (isKind(obj, "dict")) {
          if (typeof key !== "string" && typeof key !== "number") {
            this.fail(line, "dict keys must be strings or numbers");
          }
          obj.map.set(key, value);
          this.host.storedInDict?.(key, value);
          return;
        }
        if (Array.isArray(obj) && typeof key === "number") {
          const i = key < 0 ? obj.length + key : key;
          if (i < 0 || i >= obj.length) this.fail(line, `list index ${key} out of range`);
          obj[i] = value;
          return;
        }
        return this.fail(line, `cannot assign to an item of ${this.describe(obj)}`);
      }
      case "attr":
        return this.setAttr(this.eval(target.obj, scope), target.name, value, line);
      case "tuple":
      case "list": {
        const items = this.iterate(value, line);
        const star = target.items.findIndex((t) => t.t === "starred");
        if (star < 0) {
          if (items.length !== target.items.length) {
            this.fail(line, `cannot unpack ${items.length} values into ${target.items.length} names`);
          }
          target.items.forEach((t, i) => this.assign(t, items[i], scope, line));
          return;
        }
        const after = target.items.length - star - 1;
        if (items.length < target.items.length - 1) {
          this.fail(
            line,
            `cannot unpack ${items.length} values into ${target.items.length - 1} or more names`,
          );
        }
        target.items.forEach((t, i) => {
          if (i < star) this.assign(t, items[i], scope, line);
          else if (i > star) this.assign(t, items[items.length - (target.items.length - i)], scope, line);
          else if (t.t === "starred") {
            this.assign(t.value, items.slice(star, items.length - after), scope, line);
          }
        });
        return;
      }
      default:
        return this.fail(line, "unsupported assignment target");
    }
  }

  delete(target: Expr, scope: Scope, line: number): void {
    if (target.t === "name") {
      scope.delete(target.id);
      return;
    }
    if (target.t === "index") {
      const obj = this.eval(target.obj, scope);
      const key = this.eval(target.index, scope);
      if (isKind(obj, "dict") && (typeof key === "string" || typeof key === "number")) {
        obj.map.delete(key);
        return;
      }
    }
    this.fail(line, "del of this target is outside the supported subset");
  }

  setAttr(obj: ScriptValue, name: string, value: ScriptValue, line: number): void {
    if (isKind(obj, "instance")) {
      obj.attrs.set(name, value);
      this.host.setAttr?.(obj, name, value, line);
      return;
    }
    if (isKind(obj, "class")) {
      obj.attrs.set(name, value);
      return;
    }
    this.fail(line, `cannot set attribute '${name}' of ${this.describe(obj)}`);
  }

  /** Look a name up: local scopes outwards, then globals, then builtins. */
  lookup(name: string, scope: Scope, line: number): ScriptValue {
    for (let s: Scope | undefined = scope; s; s = this.#parents.get(s)) {
      if (s.has(name)) return s.get(name)!;
    }
    if (this.globals.has(name)) return this.globals.get(name)!;
    if (isBuiltinName(name)) return { kind: "ref", path: `builtins.${name}` };
    const why = this.unavailable.get(name);
    return this.fail(line, `name '${name}' is not defined${why ? ` (${why})` : ""}`);
  }

  /** Evaluate an expression. */
  eval(e: Expr, scope: Scope): ScriptValue {
    switch (e.t) {
      case "num":
        if (e.complex) this.fail(e.line, "complex numbers are outside the supported subset");
        return Number(e.value);
      case "str":
        return e.fstring ? this.fstring(e.value, e.line, scope) : e.value;
      case "const":
        return e.value;
      case "ellipsis":
        return { kind: "opaque", what: "Ellipsis" };
      case "name":
        return this.lookup(e.id, scope, e.line);
      case "tuple":
        return { kind: "tuple", items: this.evalItems(e.items, scope) };
      case "list":
        return this.evalItems(e.items, scope);
      case "set":
        return this.fail(e.line, "set displays are outside the supported subset");
      case "dict":
        return this.dict(e, scope);
      case "attr":
        return this.getAttr(this.eval(e.obj, scope), e.name, e.line);
      case "index":
        return this.index(this.eval(e.obj, scope), e.index, scope, e.line);
      case "call":
        return this.callExpr(e, scope);
      case "unary":
        return this.unary(e.op, this.eval(e.operand, scope), e.line);
      case "binary":
        return this.binary(e.op, this.eval(e.left, scope), this.eval(e.right, scope), e.line);
      case "boolop": {
        let v: ScriptValue = null;
        for (const operand of e.values) {
          v = this.eval(operand, scope);
          if (e.op === "and" ? !truthy(v) : truthy(v)) return v;
        }
        return v;
      }
      case "compare": {
        let left = this.eval(e.left, scope);
        for (let i = 0; i < e.ops.length; i++) {
          const right = this.eval(e.comparators[i], scope);
          if (!this.compare(e.ops[i], left, right, e.line)) return false;
          left = right;
        }
        return true;
      }
      case "ifexp":
        return truthy(this.eval(e.test, scope)) ? this.eval(e.body, scope) : this.eval(e.orelse, scope);
      case "lambda":
        return this.makeFunction({
          t: "def",
          name: "<lambda>",
          params: e.params,
          body: [{ t: "return", value: e.body, pos: e.pos, line: e.line }],
          decorators: [],
          async: false,
          pos: e.pos,
          line: e.line,
        }, scope);
      case "comp":
        return this.comprehension(e, scope);
      default:
        return this.fail(
          e.line,
          `${e.t === "slice" ? "slices outside []" : `'${e.t}'`} is outside the supported subset`,
        );
    }
  }

  evalItems(items: Expr[], scope: Scope): ScriptValue[] {
    const out: ScriptValue[] = [];
    for (const item of items) {
      if (item.t === "starred") out.push(...this.iterate(this.eval(item.value, scope), item.line));
      else out.push(this.eval(item, scope));
    }
    return out;
  }

  dict(e: Extract<Expr, { t: "dict" }>, scope: Scope): DictValue {
    const map = new Map<string | number, ScriptValue>();
    e.keys.forEach((k, i) => {
      if (k === null) {
        const other = this.eval(e.values[i], scope);
        if (!isKind(other, "dict")) this.fail(e.line, "** in a dict display needs a dict");
        for (const [kk, vv] of other.map) map.set(kk, vv);
        return;
      }
      const key = this.eval(k, scope);
      if (typeof key !== "string" && typeof key !== "number") {
        this.fail(e.line, "dict keys must be strings or numbers");
      }
      map.set(key, this.eval(e.values[i], scope));
    });
    return { kind: "dict", map };
  }

  comprehension(e: Extract<Expr, { t: "comp" }>, scope: Scope): ScriptValue {
    if (e.kind === "set") this.fail(e.line, "set comprehensions are outside the supported subset");
    const local: Scope = new Map();
    this.#parents.set(local, scope);
    const out: ScriptValue[] = [];
    const map = new Map<string | number, ScriptValue>();
    const loop = (g: number): void => {
      if (g === e.generators.length) {
        this.#step(e.line);
        if (e.kind === "dict") {
          const key = this.eval(e.elt, local);
          if (typeof key !== "string" && typeof key !== "number") {
            this.fail(e.line, "dict keys must be strings or numbers");
          }
          map.set(key, this.eval(e.value!, local));
        } else out.push(this.eval(e.elt, local));
        return;
      }
      const { target, iter, ifs } = e.generators[g];
      for (const item of this.iterate(this.eval(iter, g === 0 ? scope : local), e.line)) {
        this.assign(target, item, local, e.line);
        if (ifs.every((cond) => truthy(this.eval(cond, local)))) loop(g + 1);
      }
    };
    loop(0);
    return e.kind === "dict" ? { kind: "dict", map } : out;
  }

  fstring(text: string, line: number, scope: Scope): string {
    return parseFString(text, line, (msg) => this.fail(line, msg))
      .map((part) => typeof part === "string" ? part : this.str(this.eval(part, scope), line))
      .join("");
  }

  /** Python `str(v)` for the values a script formats (numbers, strings, None, booleans). */
  str(v: ScriptValue, line: number): string {
    if (v === null) return "None";
    if (typeof v === "boolean") return v ? "True" : "False";
    if (typeof v === "number" || typeof v === "string") return String(v);
    return this.fail(line, `formatting ${this.describe(v)} as text is outside the supported subset`);
  }

  /** An attribute of any value. */
  getAttr(obj: ScriptValue, name: string, line: number): ScriptValue {
    if (isKind(obj, "ref")) return { kind: "ref", path: `${obj.path}.${name}` };
    if (isKind(obj, "instance")) return this.instanceAttr(obj, name, line);
    if (isKind(obj, "super")) return this.superAttr(obj.cls, obj.self, name, line);
    if (isKind(obj, "class")) {
      const hit = classAttr(obj, name);
      if (hit !== undefined) return hit.value;
      return this.fail(line, `class ${obj.name} has no attribute '${name}'`);
    }
    if (isKind(obj, "host")) {
      const v = this.host.getAttr?.(obj, name, line);
      if (v !== undefined) return v;
      return this.fail(line, `attribute '${name}' of ${this.describe(obj)} is outside the supported subset`);
    }
    const method = methodOf(obj, name);
    if (method) return method;
    return this.fail(line, `attribute '${name}' of ${this.describe(obj)} is outside the supported subset`);
  }

  instanceAttr(inst: InstanceValue, name: string, line: number): ScriptValue {
    if (inst.attrs.has(name)) return inst.attrs.get(name)!;
    const hit = classAttr(inst.cls, name);
    if (hit !== undefined) {
      const deco = isKind(hit.value, "function") ? hit.value.def.decorators[0] : undefined;
      if (deco?.t === "name" && deco.id === "property") {
        return this.callValue(hit.value, [inst], new Map(), line);
      }
      return bindMethod(hit.value, inst);
    }
    if (name === "__class__") return inst.cls;
    const v = this.host.instanceAttr?.(inst, name, line);
    if (v !== undefined) return v;
    return this.fail(line, `'${inst.cls.name}' object has no attribute '${name}'`);
  }

  superAttr(cls: ClassValue, self: ScriptValue, name: string, line: number): ScriptValue {
    const type = isKind(self, "instance") ? self.cls : cls;
    const hit = classAttr(type, name, cls);
    if (hit !== undefined) return bindMethod(hit.value, self);
    const order = mro(type);
    const foreign = order.slice(order.indexOf(cls) + 1).find((c): c is Ref => isKind(c, "ref"));
    if (foreign) return { kind: "ref", path: `${foreign.path}.${name}`, self };
    return this.fail(line, `super() of ${cls.name} has no attribute '${name}'`);
  }

  index(obj: ScriptValue, keyExpr: Expr, scope: Scope, line: number): ScriptValue {
    if (keyExpr.t === "slice") {
      const seq = sequenceItems(obj) ?? (typeof obj === "string" ? [...obj] : undefined);
      if (!seq) return this.fail(line, `slicing ${this.describe(obj)} is outside the supported subset`);
      const n = seq.length;
      const num = (x: Expr | undefined, dflt: number): number => {
        const v = x ? this.eval(x, scope) : null;
        if (v === null) return dflt;
        if (typeof v !== "number" || !Number.isInteger(v)) {
          return this.fail(line, "slice bounds must be integers");
        }
        return v;
      };
      const step = num(keyExpr.step, 1);
      if (step === 0) this.fail(line, "slice step cannot be zero");
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
      const start = clamp(num(keyExpr.lower, step > 0 ? 0 : n - 1), step > 0 ? 0 : -1, step > 0 ? n : n - 1);
      const stop = clamp(num(keyExpr.upper, step > 0 ? n : -n - 1), step > 0 ? 0 : -1, step > 0 ? n : n - 1);
      const out: ScriptValue[] = [];
      for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(seq[i]);
      if (typeof obj === "string") return out.join("");
      return Array.isArray(obj) ? out : { kind: "tuple", items: out };
    }
    return this.item(obj, this.eval(keyExpr, scope), line);
  }

  /** `obj[key]`. */
  item(obj: ScriptValue, key: ScriptValue, line: number): ScriptValue {
    if (isKind(obj, "dict") && (typeof key === "string" || typeof key === "number")) {
      if (!obj.map.has(key)) this.fail(line, `key ${JSON.stringify(key)} is not in the dict`);
      return obj.map.get(key)!;
    }
    const seq = sequenceItems(obj) ??
      (isKind(obj, "range") ? obj.items : typeof obj === "string" ? [...obj] : null);
    if (seq && typeof key === "number" && Number.isInteger(key)) {
      const i = key < 0 ? seq.length + key : key;
      if (i < 0 || i >= seq.length) this.fail(line, `index ${key} out of range`);
      return seq[i];
    }
    if (isKind(obj, "host") || isKind(obj, "instance")) {
      const v = this.host.index?.(obj, key, line);
      if (v !== undefined) return v;
    }
    return this.fail(line, `cannot index ${this.describe(obj)} with ${this.describe(key)}`);
  }

  /** The items a `for` loop over `v` visits. */
  iterate(v: ScriptValue, line: number): ScriptValue[] {
    if (Array.isArray(v)) return [...v];
    if (isKind(v, "range") || isKind(v, "tuple")) return [...v.items];
    if (isKind(v, "dict")) return [...v.map.keys()];
    if (typeof v === "string") return [...v];
    if (isKind(v, "host") || isKind(v, "instance")) {
      const items = this.host.iterate?.(v, line);
      if (items) return items;
    }
    return this.fail(line, `cannot loop over ${this.describe(v)}; supported: range(...), lists and tuples`);
  }

  /** A unary operator (`-`, `+`, `~`, `not`). */
  unary(op: string, v: ScriptValue, line: number): ScriptValue {
    return unaryOp(this, op, v, line);
  }

  /** A binary operator (`+ - * / // % ** | & ^ << >>`). */
  binary(op: string, a: ScriptValue, b: ScriptValue, line: number): ScriptValue {
    return binaryOp(this, op, a, b, line);
  }

  /** Python `==`. */
  equals(a: ScriptValue, b: ScriptValue): boolean {
    return pyEquals(a, b);
  }

  /** One comparison of a chain. */
  compare(op: string, a: ScriptValue, b: ScriptValue, line: number): boolean {
    return compareOp(this, op, a, b, line);
  }

  /** Python's ordering (negative, zero or positive). */
  order(a: ScriptValue, b: ScriptValue, line: number): number {
    return pyOrder(this, a, b, line);
  }

  callExpr(e: Extract<Expr, { t: "call" }>, scope: Scope): ScriptValue {
    // `super()` needs the class and instance of the method it is called in.
    if (e.fn.t === "name" && e.fn.id === "super" && e.args.length === 0 && !scope.has("super")) {
      const frame = this.#frames[this.#frames.length - 1];
      if (!frame?.fn.owner || frame.self === undefined) this.fail(e.line, "super() outside a method");
      return { kind: "super", cls: frame.fn.owner, self: frame.self };
    }
    const fn = this.eval(e.fn, scope);
    const args = this.evalItems(e.args, scope);
    const kwargs: Kwargs = new Map();
    for (const { name, value } of e.keywords) {
      const v = this.eval(value, scope);
      if (name !== null) {
        kwargs.set(name, v);
        continue;
      }
      if (!isKind(v, "dict")) this.fail(e.line, "** arguments must be a dict");
      for (const [k, x] of v.map) kwargs.set(String(k), x);
    }
    return this.callValue(fn, args, kwargs, e.line);
  }

  /** Call any callable value. */
  callValue(fn: ScriptValue, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue {
    this.#step(line);
    if (isKind(fn, "function")) return this.callFunction(fn, args, kwargs, line);
    if (isKind(fn, "method")) return this.callFunction(fn.fn, [fn.self, ...args], kwargs, line);
    if (isKind(fn, "class")) return this.instantiate(fn, args, kwargs, line);
    if (isKind(fn, "ref")) return this.callRef(fn, args, kwargs, line);
    if (isKind(fn, "instance")) {
      const call = classAttr(fn.cls, "__call__");
      if (call) return this.callValue(bindMethod(call.value, fn), args, kwargs, line);
    }
    if (isKind(fn, "instance") || isKind(fn, "host")) {
      const v = this.host.call?.(fn, args, kwargs, line);
      if (v !== undefined) return v;
    }
    return this.fail(line, `${this.describe(fn)} is not callable`);
  }

  callRef(ref: Ref, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue {
    if (ref.path === "builtins.super") {
      const [cls, self] = args;
      if (!isKind(cls, "class") || self === undefined) {
        this.fail(line, "super() needs a class and an instance");
      }
      return { kind: "super", cls, self };
    }
    if (ref.path === "builtins.isinstance") return this.isInstance(args[0], args[1], line);
    const alias = builtinAlias(ref.path);
    if (alias) return callBuiltin(this, alias, args, kwargs, line)!;
    if (ref.path.startsWith("builtins.")) {
      const v = ref.self !== undefined
        ? callBuiltinMethod(this, ref.path, ref.self, args, kwargs, line)
        : callBuiltin(this, ref.path.slice("builtins.".length), args, kwargs, line);
      if (v !== undefined) return v;
    }
    const v = this.host.callRef(ref, ref.self !== undefined ? [ref.self, ...args] : args, kwargs, line);
    if (v !== undefined) return v;
    return this.fail(line, `calling ${ref.path}() is outside the supported subset`);
  }

  isInstance(v: ScriptValue, types: ScriptValue, line: number): boolean {
    const list = sequenceItems(types) ?? [types];
    return list.some((t) => {
      if (isKind(t, "class")) return isKind(v, "instance") && mro(v.cls).includes(t);
      if (isKind(t, "ref")) {
        const builtin = isBuiltinInstance(v, t.path);
        if (builtin !== undefined) return builtin;
        const known = this.host.isInstance?.(v, t);
        if (known !== undefined) return known;
      }
      return this.fail(line, `isinstance(..., ${this.describe(t)}) is outside the supported subset`);
    });
  }

  instantiate(cls: ClassValue, args: ScriptValue[], kwargs: Kwargs, line: number): InstanceValue {
    const inst: InstanceValue = { kind: "instance", cls, attrs: new Map() };
    this.host.created?.(inst, line);
    const init = classAttr(cls, "__init__");
    if (init) {
      this.callValue(bindMethod(init.value, inst), args, kwargs, line);
      return inst;
    }
    const foreign = foreignBases(cls)[0];
    if (foreign) {
      this.callRef({ kind: "ref", path: `${foreign.path}.__init__`, self: inst }, args, kwargs, line);
    } else if (args.length || kwargs.size) this.fail(line, `${cls.name}() takes no arguments`);
    return inst;
  }

  /** Call a function of the script with Python's argument binding. */
  callFunction(fn: FunctionValue, args: ScriptValue[], kwargs: Kwargs, line: number): ScriptValue {
    if (this.#frames.length >= MAX_CALL_DEPTH) {
      this.fail(line, `calls nested more than ${MAX_CALL_DEPTH} deep (endless recursion?)`);
    }
    const local: Scope = new Map();
    const { name, params } = fn.def;
    bindArguments(name, params, fn.defaults, { args, kwargs }, local, (msg) => this.fail(line, msg));
    this.#parents.set(local, fn.closure);
    this.#frames.push({ fn, self: fn.owner ? args[0] : undefined });
    try {
      this.run(fn.def.body, local);
      return null;
    } catch (sig) {
      if (sig instanceof Return) return sig.value;
      if (sig instanceof Break || sig instanceof Continue) {
        this.fail(line, "'break' or 'continue' outside a loop");
      }
      throw sig;
    } finally {
      this.#frames.pop();
    }
  }

  /** Call method `name` of an instance (a reader calls `forward` this way). */
  callMethod(
    inst: InstanceValue,
    name: string,
    args: ScriptValue[],
    kwargs: Kwargs,
    line: number,
  ): ScriptValue {
    return this.callValue(this.instanceAttr(inst, name, line), args, kwargs, line);
  }
}
