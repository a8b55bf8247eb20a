/**
 * A safe evaluator for the Python literals the toolbox stores in its INI
 * files (the `ast.literal_eval` subset, never `eval`), over the syntax tree
 * of the shared Python front end (`lib/io/python`).
 *
 * Supported: strings (single, double and triple quotes, `r`/`u` prefixes,
 * escapes, adjacent-string concatenation), ints (`_` separators,
 * `0x`/`0o`/`0b`; beyond 2^53 as `bigint`), floats (`1e-3`, `.5`, `5.`),
 * `True`/`False`/`None`, lists, tuples, sets, `set()`, dicts, nesting, unary
 * `+`/`-` on numbers, and, beyond `ast.literal_eval`, set union `a | b`
 * between set displays or `set()` (the toolbox's `[restrictions]` section
 * uses it; the Python toolbox evaluates those values with `eval`). Errors are
 * {@linkcode PythonConfigError}s whose `pythonError` is the class Python
 * raises (`SyntaxError`, `ValueError`, `TypeError`) and whose message names
 * the text and the position.
 *
 * Not supported (a `ValueError` saying so): bytes, complex numbers, `...`,
 * and `\N{name}` escapes.
 *
 * @example
 * ```ts
 * import { literalEval } from "./literal.ts";
 * import { pyRepr } from "./py_repr.ts";
 * const v = literalEval("{'a', 'b'} | {'c'}");
 * pyRepr(v); // "{'a', 'b', 'c'}"
 * ```
 *
 * @module
 */
import type { PyDict, PySet, PyTuple, PyValue } from "./types.ts";
import { PythonConfigError } from "./errors.ts";
import { describeExpr, type Expr, parseExpression, PythonSyntaxError } from "../io/python/mod.ts";
import { hashKey, SetBuilder, unhashableType } from "./py_values.ts";

function fail(kind: "ValueError" | "TypeError", message: string, node: Expr): never {
  throw new PythonSyntaxError(message, node.pos, node.line, kind);
}

/** The `ValueError` for a node that is valid Python but not a literal. */
function malformed(node: Expr): never {
  if (node.t === "name") {
    const name = node.id;
    const hint = ["true", "false", "none"].includes(name.toLowerCase())
      ? `; write ${name[0].toUpperCase()}${name.slice(1).toLowerCase()}`
      : `; strings need quotes, e.g. '${name}'`;
    return fail("ValueError", `the name '${name}' is not a literal${hint}`, node);
  }
  return fail("ValueError", `${describeExpr(node)} is not a literal`, node);
}

/** Why a literal node cannot be represented (complex, bytes, `...`, `\N{}`), or `undefined`. */
function unsupported(node: Expr): string | undefined {
  if (node.t === "num" && node.complex) return "complex numbers are not supported";
  if (node.t === "ellipsis") return "Ellipsis ('...') is not supported";
  if (node.t === "str" && !node.fstring) {
    if (node.bytes) return "bytes literals are not supported";
    return node.unsupported;
  }
  return undefined;
}

function convertNum(node: Expr): number | bigint {
  const why = unsupported(node);
  if (why) return fail("ValueError", why, node);
  if (node.t !== "num") return malformed(node);
  return node.value;
}

function convertSigned(node: Expr): PyValue {
  if (node.t === "unary" && (node.op === "-" || node.op === "+")) {
    const v = convertNum(node.operand);
    if (node.op === "+") return v;
    if (typeof v === "bigint") return normalizeInt(-v);
    return -v;
  }
  return convertNum(node);
}

function normalizeInt(v: bigint): number | bigint {
  return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function checkHashable(v: PyValue, node: Expr): void {
  const bad = unhashableType(v);
  if (bad) fail("TypeError", `unhashable type: '${bad}'`, node);
}

function isEmptySetCall(node: Expr): boolean {
  return node.t === "call" && node.fn.t === "name" && node.fn.id === "set" && node.args.length === 0 &&
    node.keywords.length === 0;
}

function evaluate(node: Expr): PyValue {
  switch (node.t) {
    case "const":
      return node.value;
    case "str":
      if (node.fstring) return malformed(node);
      return unsupported(node) ? fail("ValueError", unsupported(node)!, node) : node.value;
    case "tuple":
      return { kind: "tuple", items: node.items.map(evaluate) } satisfies PyTuple;
    case "list":
      return node.items.map(evaluate);
    case "set": {
      const set = new SetBuilder();
      for (const item of node.items) {
        const v = evaluate(item);
        checkHashable(v, item);
        set.add(v);
      }
      return { kind: "set", items: set.items } satisfies PySet;
    }
    case "dict": {
      if (node.keys.some((k) => k === null)) {
        return fail("ValueError", "'**' unpacking is not a literal", node);
      }
      // Python keeps the first key object and the last value of equal keys.
      const entries: [PyValue, PyValue][] = [];
      const index = new Map<string, number>();
      node.keys.forEach((keyNode, j) => {
        const k = evaluate(keyNode as Expr);
        const v = evaluate(node.values[j]);
        checkHashable(k, keyNode as Expr);
        const key = hashKey(k);
        const at = index.get(key);
        if (at === undefined) {
          index.set(key, entries.length);
          entries.push([k, v]);
        } else entries[at][1] = v;
      });
      return { kind: "dict", entries } satisfies PyDict;
    }
    case "call":
      if (isEmptySetCall(node)) return { kind: "set", items: [] } satisfies PySet;
      return malformed(node);
    case "binary":
      if (node.op === "|") return union(node);
      if (node.op === "+" || node.op === "-") {
        convertSigned(node.left);
        convertNum(node.right);
        return fail("ValueError", "only a complex number may follow a binary '+'/'-'", node);
      }
      return malformed(node);
    default:
      return convertSigned(node);
  }
}

/** Whether `node` is written as a set: a display `{a, b}`, `set()`, or a union of those. */
function isSetNode(node: Expr): boolean {
  if (node.t === "set") return true;
  if (node.t === "call") return isEmptySetCall(node);
  return node.t === "binary" && node.op === "|" && isSetNode(node.left) && isSetNode(node.right);
}

/** Set union `a | b` (our extension of `ast.literal_eval`, as the toolbox's `eval` allows). */
function union(node: Extract<Expr, { t: "binary" }>): PySet {
  if (!isSetNode(node.left) || !isSetNode(node.right)) {
    return fail("ValueError", "'|' is only allowed between sets, e.g. {'a'} | {'b'}", node);
  }
  const left = evaluate(node.left) as PySet;
  const right = evaluate(node.right) as PySet;
  const set = new SetBuilder();
  for (const v of [...left.items, ...right.items]) set.add(v);
  return { kind: "set", items: set.items };
}

/** Line and column (1-based) of offset `pos` in `text`. */
function lineCol(text: string, pos: number): [number, number] {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const col = pos - (before.lastIndexOf("\n") + 1) + 1;
  return [line, col];
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/**
 * Evaluate `text` as a Python literal, like Python's `ast.literal_eval`
 * (leading spaces and tabs ignored; comments and line breaks inside brackets
 * allowed), extended with set union `a | b`. Never executes code.
 *
 * Ints within ±(2^53 − 1) become `number`, larger ones `bigint`; floats become
 * `number` (so `1.0` and `1` are the same value here).
 *
 * @throws {PythonConfigError} `SyntaxError` for text Python cannot parse,
 * `ValueError` for valid Python that is not a literal (names, calls,
 * arithmetic), `TypeError` for unhashable set items or dict keys; the
 * message names the text and the line/column.
 */
export function literalEval(text: string): PyValue {
  const src = text.replace(/^[ \t]+/, "");
  const offset = text.length - src.length;
  try {
    return evaluate(parseExpression(src));
  } catch (err) {
    if (!(err instanceof PythonSyntaxError)) throw err;
    const [line, col] = lineCol(text, err.pos + offset);
    const where = text.includes("\n") ? `line ${line}, column ${col}` : `column ${col}`;
    throw new PythonConfigError(`${err.message} (${where} of ${excerpt(text)})`, {
      pythonError: err.kind,
      value: text,
    });
  }
}
