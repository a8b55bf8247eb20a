/**
 * Python's text forms of literal values: `repr()` (floats, strings with
 * CPython's quote choice and escapes, containers), `str()`, and a JSON view.
 *
 * @module
 */
import type { PyValue } from "./types.ts";

/** A value JSON can hold, as {@linkcode toJson} returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Python `repr()` of a float (`1.0`, `1e-05`, `1e+16`, `inf`, `nan`). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const sign = mant.startsWith("-") ? "-" : "";
  const digits = mant.replace("-", "").replace(".", "");
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac || "0"}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, "0");
  return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python `repr()` of a `str` (quote choice and escapes as CPython does). */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === q || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, "0")}`;
      else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, "0")}`;
      else out += `\\U${code.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + q;
}

/**
 * Python `repr()` of a literal value. A `number` that is a safe integer
 * prints as an int (`1`), any other as a float (`0.5`, `1e+16`); use
 * {@linkcode pyFloatRepr} to force float notation.
 */
export function pyRepr(value: PyValue): string {
  if (value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return pyStrRepr(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && !Object.is(value, -0) ? value.toString() : pyFloatRepr(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  switch (value.kind) {
    case "tuple":
      return value.items.length === 1
        ? `(${pyRepr(value.items[0])},)`
        : `(${value.items.map(pyRepr).join(", ")})`;
    case "set":
      return value.items.length ? `{${value.items.map(pyRepr).join(", ")}}` : "set()";
    case "dict":
      return `{${value.entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
}

/** Python `str()` of a literal value: strings as they are, everything else as {@linkcode pyRepr}. */
export function pyStr(value: PyValue): string {
  return typeof value === "string" ? value : pyRepr(value);
}

/**
 * A JSON view of a literal value: tuples and sets become arrays, dicts
 * objects (keys as Python's `json.dumps` writes them: `1` → `"1"`, `True` →
 * `"true"`, `None` → `"null"`, other keys by {@linkcode pyRepr}), bigints
 * decimal strings, and `inf`/`-inf`/`nan` the strings `"Infinity"`,
 * `"-Infinity"`, `"NaN"`.
 */
export function toJson(value: PyValue): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (value.kind !== "dict") return value.items.map(toJson);
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of value.entries) out[jsonKey(k)] = toJson(v);
  return out;
}

function jsonKey(k: PyValue): string {
  if (typeof k === "string") return k;
  if (k === null) return "null";
  if (typeof k === "boolean") return k ? "true" : "false";
  return pyRepr(k);
}
