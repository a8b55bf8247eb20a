/**
 * Python's object model as the evaluator needs it, on script values:
 * method resolution order, attribute lookup through base classes, bound
 * methods, builtin types for `isinstance`, and binding call arguments to
 * a function's parameters.
 *
 * @module
 */
import type { Param } from "./ast.ts";
import {
  type BoundMethod,
  type ClassValue,
  isKind,
  type Ref,
  type Scope,
  type ScriptValue,
} from "./values.ts";

/** The classes of `cls` in method resolution order (depth-first, left to right, first occurrence). */
export function mro(cls: ClassValue): (ClassValue | Ref)[] {
  const out: (ClassValue | Ref)[] = [];
  const seen = new Set<ClassValue | string>();
  const visit = (c: ClassValue | Ref): void => {
    const key = isKind(c, "class") ? c : c.path;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
    if (isKind(c, "class")) c.bases.forEach(visit);
  };
  visit(cls);
  return out;
}

/** Module classes (references) among the bases of `cls`, e.g. `torch.nn.Module`. */
export function foreignBases(cls: ClassValue): Ref[] {
  return mro(cls).filter((c): c is Ref => isKind(c, "ref") && c.path !== "builtins.object");
}

/**
 * Attribute `name` of a script class, looked up along its method
 * resolution order (from the class after `after`, as `super()` does), with
 * the class that defines it.
 */
export function classAttr(
  cls: ClassValue,
  name: string,
  after?: ClassValue,
): { value: ScriptValue; owner: ClassValue } | undefined {
  const order = mro(cls);
  const start = after ? order.indexOf(after) + 1 : 0;
  for (const c of order.slice(start)) {
    if (isKind(c, "class") && c.attrs.has(name)) return { value: c.attrs.get(name)!, owner: c };
  }
  return undefined;
}

/** A class attribute as read through an instance `self`: functions become bound methods (not static ones). */
export function bindMethod(value: ScriptValue, self: ScriptValue): ScriptValue {
  if (isKind(value, "function")) {
    const deco = value.def.decorators[0];
    if (deco?.t === "name" && deco.id === "staticmethod") return value;
    return { kind: "method", self, fn: value } satisfies BoundMethod;
  }
  return value;
}

/** `isinstance(v, builtins.<type>)` for Python's builtin types; `undefined` for other paths. */
export function isBuiltinInstance(v: ScriptValue, path: string): boolean | undefined {
  switch (path) {
    case "builtins.int":
      return typeof v === "number" && Number.isInteger(v);
    case "builtins.float":
      return typeof v === "number";
    case "builtins.str":
      return typeof v === "string";
    case "builtins.bool":
      return typeof v === "boolean";
    case "builtins.list":
      return Array.isArray(v);
    case "builtins.tuple":
      return isKind(v, "tuple");
    case "builtins.dict":
      return isKind(v, "dict");
    default:
      return undefined;
  }
}

/** A call's arguments, as {@linkcode bindArguments} binds them. */
export interface CallArguments {
  /** Positional arguments. */
  readonly args: readonly ScriptValue[];
  /** Keyword arguments. */
  readonly kwargs: ReadonlyMap<string, ScriptValue>;
}

/**
 * Bind a call's arguments to the parameters of function `name` in `local`
 * with Python's rules (positional, keyword, defaults, `*args`,
 * `**kwargs`); `fail` reports a mismatch.
 */
export function bindArguments(
  name: string,
  params: readonly Param[],
  defaults: readonly (ScriptValue | undefined)[],
  { args, kwargs }: CallArguments,
  local: Scope,
  fail: (msg: string) => never,
): void {
  const positional = params.filter((p) => p.kind === "plain" && !p.keywordOnly);
  const star = params.find((p) => p.kind === "star");
  const double = params.find((p) => p.kind === "double");
  if (args.length > positional.length && !star) {
    fail(`${name}() takes ${positional.length} arguments, ${args.length} given`);
  }
  positional.forEach((p, i) => {
    if (i < args.length) local.set(p.name, args[i]);
  });
  if (star) local.set(star.name, { kind: "tuple", items: args.slice(positional.length) });
  const extra = new Map<string | number, ScriptValue>();
  for (const [k, v] of kwargs) {
    if (params.some((p) => p.kind === "plain" && p.name === k)) {
      if (local.has(k)) fail(`${name}() got multiple values for the argument '${k}'`);
      local.set(k, v);
    } else if (double) extra.set(k, v);
    else fail(`${name}() got an unexpected keyword argument '${k}'`);
  }
  if (double) local.set(double.name, { kind: "dict", map: extra });
  params.forEach((p, i) => {
    if (p.kind !== "plain" || local.has(p.name)) return;
    const d = defaults[i];
    if (d === undefined) fail(`${name}() is missing the argument '${p.name}'`);
    local.set(p.name, d);
  });
}
