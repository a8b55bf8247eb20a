/**
 * Python's operators on script values: arithmetic with Python's rounding
 * (`//`, `%`), string and list concatenation and repetition (bounded by
 * `MAX_ITEMS`), `%`-formatting, `==` across numbers and booleans,
 * orderings of numbers, strings and sequences, and `in`/`is`. Operators
 * with a reader's object go to its host first.
 *
 * @module
 */
import type { Host } from "./evaluator.ts";
import { isKind, type ScriptValue, sequenceItems, truthy } from "./values.ts";

/** Most items a string, list or tuple repetition may make. */
export const MAX_ITEMS = 100_000;

/** Most characters a string built by a script may have. */
export const MAX_CHARS = 1_000_000;

/** `true` when `size` is within `max`; else the error that a script built `what` that large. */
export function bounded(ctx: OperatorContext, size: number, max: number, what: string, line: number): true {
  if (size > max) ctx.fail(line, `${what} of ${size} items; a model script may build at most ${max}`);
  return true;
}

/** What the operators need from the evaluator. */
export interface OperatorContext {
  /** The reader's host (its objects' operators). */
  readonly host: Host;
  /** Throw an error at `line`. */
  fail(line: number, msg: string): never;
  /** A value as errors name it. */
  describe(v: ScriptValue | undefined): string;
  /** Python `str(v)`. */
  str(v: ScriptValue, line: number): string;
  /** The items a `for` loop over `v` visits. */
  iterate(v: ScriptValue, line: number): ScriptValue[];
}

/** A unary operator (`-`, `+`, `~`, `not`). */
export function unaryOp(ctx: OperatorContext, op: string, v: ScriptValue, line: number): ScriptValue {
  if (op === "not") return !truthy(v);
  const n = typeof v === "boolean" ? Number(v) : v;
  if (typeof n !== "number") {
    const hv = isKind(v, "host") ? ctx.host.binary?.(`unary${op}`, v, null, line) : undefined;
    if (hv !== undefined) return hv;
    return ctx.fail(line, `unary '${op}' on ${ctx.describe(v)}`);
  }
  return op === "-" ? -n : op === "~" ? ~n : n;
}

/** A binary operator (`+ - * / // % ** | & ^ << >>`). */
export function binaryOp(
  ctx: OperatorContext,
  op: string,
  a: ScriptValue,
  b: ScriptValue,
  line: number,
): ScriptValue {
  if (isKind(a, "host") || isKind(b, "host")) {
    const v = ctx.host.binary?.(op, a, b, line);
    if (v !== undefined) return v;
  }
  const x = typeof a === "boolean" ? Number(a) : a;
  const y = typeof b === "boolean" ? Number(b) : b;
  if (typeof x === "number" && typeof y === "number") return arithmetic(ctx, op, x, y, line);
  if (op === "+" && typeof a === "string" && typeof b === "string") {
    return bounded(ctx, a.length + b.length, MAX_CHARS, "a string", line) && a + b;
  }
  if (op === "%" && typeof a === "string") return percentFormat(ctx, a, b, line);
  if (op === "+" && Array.isArray(a) && Array.isArray(b)) {
    return bounded(ctx, a.length + b.length, MAX_ITEMS, "a list", line) && [...a, ...b];
  }
  if (op === "+" && isKind(a, "tuple") && isKind(b, "tuple")) {
    bounded(ctx, a.items.length + b.items.length, MAX_ITEMS, "a tuple", line);
    return { kind: "tuple", items: [...a.items, ...b.items] };
  }
  if (
    op === "*" && typeof y === "number" && (Array.isArray(a) || isKind(a, "tuple") || typeof a === "string")
  ) {
    const items = typeof a === "string" ? [a] : sequenceItems(a)!;
    const what = typeof a === "string" ? "str" : Array.isArray(a) ? "list" : "tuple";
    const size = typeof a === "string" ? a.length : items.length;
    if (!Number.isInteger(y) || size * Math.max(y, 0) > MAX_ITEMS) {
      ctx.fail(
        line,
        `${what} * ${y} would have ${size * y} items; a build script may make at most ${MAX_ITEMS}`,
      );
    }
    const out = Array.from({ length: Math.max(y, 0) }, () => items).flat();
    if (typeof a === "string") return out.join("");
    return Array.isArray(a) ? out : { kind: "tuple", items: out };
  }
  return ctx.fail(
    line,
    `operator '${op}' on ${ctx.describe(a)} and ${ctx.describe(b)} is outside the supported subset`,
  );
}

/** Python arithmetic on numbers (floor division and modulo as Python rounds them). */
function arithmetic(ctx: OperatorContext, op: string, a: number, b: number, line: number): number {
  const nonzero = () => b !== 0 || ctx.fail(line, "division by zero");
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      nonzero();
      return a / b;
    case "//":
      nonzero();
      return Math.floor(a / b);
    case "%":
      nonzero();
      return ((a % b) + b) % b;
    case "**":
      return a ** b;
    case "|":
      return a | b;
    case "&":
      return a & b;
    case "^":
      return a ^ b;
    case "<<":
      return a * 2 ** b;
    case ">>":
      return Math.floor(a / 2 ** b);
  }
  return ctx.fail(line, `operator '${op}' on numbers is outside the supported subset`);
}

/** `"%s_%d" % args`. */
function percentFormat(ctx: OperatorContext, fmt: string, b: ScriptValue, line: number): string {
  const args = isKind(b, "tuple") ? [...b.items] : [b];
  return fmt.replace(/%([sdif%])/g, (_m, c: string) => {
    if (c === "%") return "%";
    const v = args.shift();
    if (v === undefined) return ctx.fail(line, "not enough arguments for format string");
    if (c === "d" || c === "i") return String(Math.trunc(Number(v)));
    return ctx.str(v, line);
  });
}

/** Python `==` on script values (numbers, strings, None, booleans, containers; objects by identity). */
export function pyEquals(a: ScriptValue, b: ScriptValue): boolean {
  const na = typeof a === "boolean" ? Number(a) : a;
  const nb = typeof b === "boolean" ? Number(b) : b;
  if (typeof na === "number" || typeof nb === "number") return na === nb;
  const sa = sequenceItems(a);
  const sb = sequenceItems(b);
  if (sa && sb) {
    return Array.isArray(a) === Array.isArray(b) && sa.length === sb.length &&
      sa.every((x, i) => pyEquals(x, sb[i]));
  }
  if (isKind(a, "ref") && isKind(b, "ref")) return a.path === b.path;
  return a === b;
}

/** One comparison (`==`, `<`, `in`, `is not`, ...). */
export function compareOp(
  ctx: OperatorContext,
  op: string,
  a: ScriptValue,
  b: ScriptValue,
  line: number,
): boolean {
  switch (op) {
    case "==":
      return pyEquals(a, b);
    case "!=":
      return !pyEquals(a, b);
    case "is":
      return a === b || (isKind(a, "ref") && isKind(b, "ref") && a.path === b.path);
    case "is not":
      return !(a === b || (isKind(a, "ref") && isKind(b, "ref") && a.path === b.path));
    case "in":
    case "not in": {
      let found: boolean;
      if (typeof b === "string" && typeof a === "string") found = b.includes(a);
      else if (isKind(b, "dict")) found = (typeof a === "string" || typeof a === "number") && b.map.has(a);
      else found = ctx.iterate(b, line).some((x) => pyEquals(a, x));
      return op === "in" ? found : !found;
    }
  }
  const c = pyOrder(ctx, a, b, line, op);
  return op === "<" ? c < 0 : op === ">" ? c > 0 : op === "<=" ? c <= 0 : c >= 0;
}

/** Python's ordering of numbers, strings, and lists/tuples (item by item): negative, zero or positive. */
export function pyOrder(
  ctx: OperatorContext,
  a: ScriptValue,
  b: ScriptValue,
  line: number,
  op = "<",
): number {
  const x = typeof a === "boolean" ? Number(a) : a;
  const y = typeof b === "boolean" ? Number(b) : b;
  if (
    (typeof x === "number" && typeof y === "number") || (typeof x === "string" && typeof y === "string")
  ) {
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const sa = sequenceItems(a);
  const sb = sequenceItems(b);
  if (sa && sb && Array.isArray(a) === Array.isArray(b)) {
    for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
      const c = pyOrder(ctx, sa[i], sb[i], line, op);
      if (c !== 0) return c;
    }
    return sa.length - sb.length;
  }
  return ctx.fail(
    line,
    `comparing ${ctx.describe(a)} and ${ctx.describe(b)} with '${op}' is outside the supported subset`,
  );
}
