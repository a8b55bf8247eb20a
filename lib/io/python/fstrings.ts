/**
 * f-strings of the Python front end: `f"layer{i}"` split into its text and
 * the expressions between braces (`{{`/`}}` are literal braces). Conversions
 * (`!r`) and format specs (`:02d`) are refused: their output depends on
 * Python's formatting rules.
 *
 * @module
 */
import type { Expr } from "./ast.ts";
import { PythonSyntaxError } from "./errors.ts";
import { parseExpression } from "./mod.ts";

/** Text and expressions of an f-string body, in order; every expression gets `line`. */
export function parseFString(text: string, line: number, fail: (msg: string) => never): (string | Expr)[] {
  const parts: (string | Expr)[] = [];
  let lit = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "{" && text[i + 1] === "{") {
      lit += "{";
      i += 2;
      continue;
    }
    if (c === "}" && text[i + 1] === "}") {
      lit += "}";
      i += 2;
      continue;
    }
    if (c === "}") fail("single '}' is not allowed in an f-string");
    if (c !== "{") {
      lit += c;
      i++;
      continue;
    }
    const end = closingBrace(text, i + 1);
    if (end < 0) fail("f-string: expecting '}'");
    const inner = text.slice(i + 1, end);
    if (hasSpec(inner)) fail("f-string conversions and format specs are outside the supported subset");
    if (lit) parts.push(lit);
    lit = "";
    let expr: Expr;
    try {
      expr = parseExpression(inner);
    } catch (err) {
      if (err instanceof PythonSyntaxError) fail(`f-string expression: ${err.message}`);
      throw err;
    }
    parts.push(withLine(expr, line));
    i = end + 1;
  }
  if (lit) parts.push(lit);
  return parts;
}

/** Offset of the `}` closing the expression starting at `start` (brackets and quotes skipped), or -1. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let quote = "";
  for (let j = start; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = "";
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]".includes(c)) depth--;
    else if (c === "}") {
      if (depth === 0) return j;
      depth--;
    }
  }
  return -1;
}

/** Whether an f-string field has a `!r` conversion or a `:spec` at its top level. */
function hasSpec(inner: string): boolean {
  let depth = 0;
  let quote = "";
  for (let j = 0; j < inner.length; j++) {
    const c = inner[j];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (depth === 0 && (c === ":" || (c === "!" && inner[j + 1] !== "="))) return true;
  }
  return false;
}

/** Set `line` on every node of an expression parsed on its own (its lines count from 1). */
function withLine<T>(node: T, line: number): T {
  if (Array.isArray(node)) {
    node.forEach((n) => withLine(n, line));
  } else if (node !== null && typeof node === "object") {
    const rec = node as Record<string, unknown>;
    if (typeof rec.line === "number") rec.line = line;
    for (const v of Object.values(rec)) if (typeof v === "object") withLine(v, line);
  }
  return node;
}
