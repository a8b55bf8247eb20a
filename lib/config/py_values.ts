/**
 * Python semantics of literal values (`PyValue`): `==` across numbers,
 * booleans and bigints, hashability, the equality key sets and dicts are
 * deduplicated by, and iteration (`list(v)`).
 *
 * @module
 */
import type { PyDict, PySet, PyTuple, PyValue } from "./types.ts";

/** Python `type(v).__name__` of a literal value (`list`, `NoneType`, `int`, ...). */
export function pyTypeName(v: PyValue): string {
  if (Array.isArray(v)) return "list";
  if (v === null) return "NoneType";
  if (typeof v === "object") return v.kind;
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  return Number.isInteger(v) ? "int" : "float";
}

/** The name of the type that makes `v` unhashable (a list, set or dict, possibly inside a tuple), or `undefined`. */
export function unhashableType(v: PyValue): string | undefined {
  if (Array.isArray(v) || (v !== null && typeof v === "object" && v.kind !== "tuple")) return pyTypeName(v);
  if (v !== null && typeof v === "object" && v.kind === "tuple") {
    for (const x of v.items) {
      const bad = unhashableType(x);
      if (bad) return bad;
    }
  }
  return undefined;
}

/**
 * A string that is equal for two hashable values exactly when Python's `==`
 * holds (`1`, `1.0`, `True` and `1n` share one key), for O(1) set and dict
 * lookups.
 */
export function hashKey(v: PyValue): string {
  return JSON.stringify(hashShape(v));
}

function hashShape(v: PyValue): unknown {
  if (typeof v === "string") return ["s", v];
  if (v === null) return ["n"];
  if (typeof v === "boolean") return ["#", v ? "1" : "0"];
  if (typeof v === "bigint") return ["#", v.toString()];
  if (typeof v === "number") return ["#", Number.isInteger(v) ? BigInt(v).toString() : String(v)];
  if (!Array.isArray(v) && v.kind === "tuple") return ["t", v.items.map(hashShape)];
  throw new Error(`unhashable value reached hashKey: ${pyTypeName(v)}`);
}

/** A set under construction: first-seen items, deduplicated by Python equality. */
export class SetBuilder {
  /** The items, in first-seen order. */
  readonly items: PyValue[] = [];
  readonly #seen = new Set<string>();

  /** Add `v` unless an equal item is already there. */
  add(v: PyValue): void {
    const key = hashKey(v);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.items.push(v);
  }
}

/**
 * Python `==` between two literal values: numbers, bigints and booleans
 * compare by numeric value (`1 == 1.0 == True`), tuples item by item.
 */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  const num = (v: PyValue): number | bigint | undefined =>
    typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "number" || typeof v === "bigint" ? v : undefined;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    if (typeof na === typeof nb) return na === nb;
    const [n, big] = typeof na === "number" ? [na, nb as bigint] : [nb as number, na as bigint];
    return Number.isInteger(n) && BigInt(n) === big;
  }
  if (typeof a === "string" || a === null) return a === b;
  if (typeof b === "string" || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((x, i) => pyEquals(x, b[i]));
  }
  const ca = a as PyTuple | PySet | PyDict;
  const cb = b as PyTuple | PySet | PyDict;
  if (ca.kind === "dict" || cb.kind === "dict") {
    if (ca.kind !== "dict" || cb.kind !== "dict") return false;
    return ca.entries.length === cb.entries.length &&
      ca.entries.every(([k, v]) => cb.entries.some(([k2, v2]) => pyEquals(k, k2) && pyEquals(v, v2)));
  }
  if (ca.kind !== cb.kind) return false;
  if (ca.kind === "set") {
    return ca.items.length === cb.items.length && ca.items.every((x) => cb.items.some((y) => pyEquals(x, y)));
  }
  return ca.items.length === cb.items.length && ca.items.every((x, i) => pyEquals(x, cb.items[i]));
}

/** Whether `v` is a {@linkcode PySet}. */
export function isPySet(v: PyValue): v is PySet {
  return v !== null && typeof v === "object" && !Array.isArray(v) && v.kind === "set";
}

/** The items of a list, tuple or set, or the keys of a dict (Python `list(v)` for these); `undefined` otherwise. */
export function pyIterable(v: PyValue): PyValue[] | undefined {
  if (Array.isArray(v)) return v;
  if (v === null || typeof v !== "object") return typeof v === "string" ? [...v] : undefined;
  return v.kind === "dict" ? v.entries.map((e) => e[0]) : v.items;
}
