/**
 * The Python builtins a model script may use while it builds a network
 * (`range`, `len`, `zip`, `enumerate`, `dict`, `OrderedDict`, `min`, ...)
 * and the methods of lists, dicts and strings (`append`, `items`,
 * `format`, ...), evaluated on script values. Anything else is left to the
 * reader's host (and refused there).
 *
 * @module
 */
import type { Evaluator, Kwargs } from "./evaluator.ts";
import { MAX_ITEMS } from "./operators.ts";
import { ScriptError } from "./errors.ts";
import { type DictValue, isKind, type Ref, type ScriptValue, sequenceItems, truthy } from "./values.ts";

const BUILTINS = new Set([
  "range",
  "xrange",
  "str",
  "int",
  "float",
  "bool",
  "len",
  "dict",
  "list",
  "tuple",
  "OrderedDict",
  "zip",
  "enumerate",
  "min",
  "max",
  "abs",
  "sum",
  "round",
  "print",
  "getattr",
  "setattr",
  "hasattr",
  "reversed",
  "sorted",
  "any",
  "all",
  "super",
  "isinstance",
  "object",
]);

/** Module paths that name a builtin (`collections.OrderedDict`). */
const ALIASES: Record<string, string> = { "collections.OrderedDict": "OrderedDict" };

/** Whether `name` is a builtin the evaluator knows. */
export function isBuiltinName(name: string): boolean {
  return BUILTINS.has(name);
}

/** The builtin a module path stands for (`collections.OrderedDict` → `OrderedDict`), or `undefined`. */
export function builtinAlias(path: string): string | undefined {
  return ALIASES[path];
}

function numbers(ev: Evaluator, what: string, args: ScriptValue[], line: number): number[] {
  return args.map((a) =>
    typeof a === "number" ? a : typeof a === "boolean" ? Number(a) : ev.fail(line, `${what}() takes numbers`)
  );
}

function range(ev: Evaluator, args: ScriptValue[], line: number): ScriptValue {
  const n = numbers(ev, "range", args, line);
  if (n.length === 0 || n.length > 3) ev.fail(line, "range() takes 1 to 3 numbers");
  const [start, stop, step] = n.length === 1 ? [0, n[0], 1] : [n[0], n[1], n[2] ?? 1];
  if (step === 0) ev.fail(line, "range() step must not be zero");
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (!Number.isFinite(count) || count > MAX_ITEMS) {
    ev.fail(
      line,
      `range(${n.join(", ")}) has ${count} items; a build script may loop at most ${MAX_ITEMS} times`,
    );
  }
  const items: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) items.push(i);
  return { kind: "range", items };
}

/** Python's `round()` (half to even). */
function pyRound(x: number, digits: number): number {
  const f = 10 ** digits;
  const y = x * f;
  const r = Math.round(y);
  const even = Math.abs(y % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even / f;
}

function pairsToDict(ev: Evaluator, src: ScriptValue | undefined, kwargs: Kwargs, line: number): DictValue {
  const map = new Map<string | number, ScriptValue>();
  if (src !== undefined) {
    if (isKind(src, "dict")) { for (const [k, v] of src.map) map.set(k, v); }
    else {
      for (const pair of ev.iterate(src, line)) {
        const kv = sequenceItems(pair);
        if (!kv || kv.length !== 2) ev.fail(line, "dict() needs (key, value) pairs");
        const [k, v] = kv;
        if (typeof k !== "string" && typeof k !== "number") {
          ev.fail(line, "dict keys must be strings or numbers");
        }
        map.set(k, v);
      }
    }
  }
  for (const [k, v] of kwargs) map.set(k, v);
  return { kind: "dict", map };
}

function minMax(ev: Evaluator, name: string, args: ScriptValue[], line: number): number {
  const items = args.length === 1 ? ev.iterate(args[0], line) : args;
  const n = numbers(ev, name, items, line);
  if (!n.length) ev.fail(line, `${name}() of an empty sequence`);
  return name === "min" ? Math.min(...n) : Math.max(...n);
}

/** Call builtin `name`; `undefined` when it is not one the evaluator implements. */
export function callBuiltin(
  ev: Evaluator,
  name: string,
  args: ScriptValue[],
  kwargs: Kwargs,
  line: number,
): ScriptValue | undefined {
  const [a, b, c] = args;
  switch (name) {
    case "range":
    case "xrange":
      return range(ev, args, line);
    case "str":
      return a === undefined ? "" : ev.str(a, line);
    case "int":
      return Math.trunc(Number(a ?? 0));
    case "float":
      return Number(a ?? 0);
    case "bool":
      return a === undefined ? false : truthy(a);
    case "len":
      return isKind(a, "dict") ? a.map.size : ev.iterate(a ?? null, line).length;
    case "dict":
    case "OrderedDict":
      return pairsToDict(ev, a, kwargs, line);
    case "list":
      return a === undefined ? [] : ev.iterate(a, line);
    case "tuple":
      return { kind: "tuple", items: a === undefined ? [] : ev.iterate(a, line) };
    case "zip": {
      const lists = args.map((x) => ev.iterate(x, line));
      const n = lists.length ? Math.min(...lists.map((l) => l.length)) : 0;
      return Array.from({ length: n }, (_, i) => ({ kind: "tuple", items: lists.map((l) => l[i]) }));
    }
    case "enumerate": {
      const start = Number(b ?? kwargs.get("start") ?? 0);
      return ev.iterate(a ?? null, line).map((x, i) => ({ kind: "tuple", items: [start + i, x] }));
    }
    case "min":
    case "max":
      return minMax(ev, name, args, line);
    case "abs":
      return Math.abs(numbers(ev, "abs", [a ?? null], line)[0]);
    case "sum":
      return numbers(ev, "sum", ev.iterate(a ?? null, line), line).reduce((x, y) => x + y, Number(b ?? 0));
    case "round":
      return pyRound(numbers(ev, "round", [a ?? null], line)[0], Number(b ?? 0));
    case "print":
      return null;
    case "getattr":
    case "hasattr": {
      if (typeof b !== "string") return ev.fail(line, `${name}() needs an attribute name`);
      try {
        const v = ev.getAttr(a ?? null, b, line);
        return name === "hasattr" ? true : v;
      } catch (err) {
        if (!(err instanceof ScriptError)) throw err;
        if (name === "hasattr") return false;
        if (args.length < 3) throw err;
        return c;
      }
    }
    case "setattr":
      if (typeof b !== "string") return ev.fail(line, "setattr() needs an attribute name");
      ev.setAttr(a ?? null, b, c ?? null, line);
      return null;
    case "reversed":
      return ev.iterate(a ?? null, line).reverse();
    case "sorted": {
      const sorted = [...ev.iterate(a ?? null, line)].sort((x, y) => ev.order(x, y, line));
      return truthy(kwargs.get("reverse") ?? false) ? sorted.reverse() : sorted;
    }
    case "any":
      return ev.iterate(a ?? null, line).some(truthy);
    case "all":
      return ev.iterate(a ?? null, line).every(truthy);
    case "object":
      return { kind: "opaque", what: "object" };
  }
  return undefined;
}

const METHODS: Record<string, readonly string[]> = {
  list: ["append", "extend", "insert", "pop", "copy", "index"],
  dict: ["items", "keys", "values", "get", "update", "pop", "copy", "setdefault"],
  str: ["format", "join", "upper", "lower", "replace", "startswith", "endswith", "split", "strip"],
};

/** A bound method of a list, dict or string (`layers.append`), or `undefined`. */
export function methodOf(obj: ScriptValue, name: string): Ref | undefined {
  const type = Array.isArray(obj)
    ? "list"
    : isKind(obj, "dict")
    ? "dict"
    : typeof obj === "string"
    ? "str"
    : "";
  if (!type || !METHODS[type].includes(name)) return undefined;
  return { kind: "ref", path: `builtins.${type}.${name}`, self: obj };
}

function format(ev: Evaluator, fmt: string, args: ScriptValue[], kwargs: Kwargs, line: number): string {
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    if (/[!:]/.test(field!)) ev.fail(line, "format specs in str.format are outside the supported subset");
    const v = field === "" ? args[auto++] : /^\d+$/.test(field!) ? args[Number(field)] : kwargs.get(field!);
    if (v === undefined) return ev.fail(line, `str.format has no value for '{${field}}'`);
    return ev.str(v, line);
  });
}

/** Call a method of a list, dict or string; `undefined` for an unknown one. */
export function callBuiltinMethod(
  ev: Evaluator,
  path: string,
  self: ScriptValue,
  args: ScriptValue[],
  kwargs: Kwargs,
  line: number,
): ScriptValue | undefined {
  const method = path.slice(path.lastIndexOf(".") + 1);
  const [a, b] = args;
  if (Array.isArray(self)) {
    switch (method) {
      case "append":
        self.push(a ?? null);
        return null;
      case "extend":
        self.push(...ev.iterate(a ?? null, line));
        if (self.length > MAX_ITEMS) ev.fail(line, `a list of more than ${MAX_ITEMS} items`);
        return null;
      case "insert":
        self.splice(Number(a), 0, b ?? null);
        return null;
      case "pop": {
        if (!self.length) return ev.fail(line, "pop from an empty list");
        const i = a === undefined ? self.length - 1 : Number(a) < 0 ? self.length + Number(a) : Number(a);
        return self.splice(i, 1)[0] ?? null;
      }
      case "copy":
        return [...self];
      case "index": {
        const i = self.findIndex((x) => ev.equals(x, a ?? null));
        return i < 0 ? ev.fail(line, "value is not in the list") : i;
      }
    }
  }
  if (isKind(self, "dict")) {
    switch (method) {
      case "items":
        return [...self.map].map(([k, v]) => ({ kind: "tuple", items: [k, v] }));
      case "keys":
        return [...self.map.keys()];
      case "values":
        return [...self.map.values()];
      case "get":
        return typeof a === "string" || typeof a === "number" ? self.map.get(a) ?? b ?? null : b ?? null;
      case "update":
        for (const [k, v] of pairsToDict(ev, a, kwargs, line).map) self.map.set(k, v);
        return null;
      case "pop": {
        if (typeof a !== "string" && typeof a !== "number") {
          return ev.fail(line, "dict keys must be strings or numbers");
        }
        const v = self.map.get(a) ?? b;
        if (v === undefined) return ev.fail(line, `key ${JSON.stringify(a)} is not in the dict`);
        self.map.delete(a);
        return v;
      }
      case "copy":
        return { kind: "dict", map: new Map(self.map) };
      case "setdefault": {
        if (typeof a !== "string" && typeof a !== "number") {
          return ev.fail(line, "dict keys must be strings or numbers");
        }
        if (!self.map.has(a)) self.map.set(a, b ?? null);
        return self.map.get(a)!;
      }
    }
  }
  if (typeof self === "string") {
    switch (method) {
      case "format":
        return format(ev, self, args, kwargs, line);
      case "join":
        return ev.iterate(a ?? null, line).map((x) => ev.str(x, line)).join(self);
      case "upper":
        return self.toUpperCase();
      case "lower":
        return self.toLowerCase();
      case "replace":
        return self.split(String(a)).join(String(b));
      case "startswith":
        return self.startsWith(String(a));
      case "endswith":
        return self.endsWith(String(a));
      case "split":
        return a === undefined || a === null
          ? self.trim().split(/\s+/).filter(Boolean)
          : self.split(String(a));
      case "strip":
        return self.trim();
    }
  }
  return undefined;
}
