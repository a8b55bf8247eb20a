/**
 * A safe evaluator for the Python literals the toolbox stores in its INI
 * files (the `ast.literal_eval` subset, never `eval`), plus `repr()`-style
 * printing and a JSON view of the values.
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
 * import { literalEval, pyRepr } from "./literal.ts";
 * const v = literalEval("{'a', 'b'} | {'c'}");
 * pyRepr(v); // "{'a', 'b', 'c'}"
 * ```
 *
 * @module
 */
import type { PyDict, PySet, PyTuple, PyValue } from "./types.ts";
import { PythonConfigError, type PythonErrorName } from "./errors.ts";

/** A value JSON can hold, as {@linkcode toJson} returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

// ---------------------------------------------------------------- tokens --

type Token =
  | { t: "num"; v: number | bigint; complex: boolean; pos: number }
  | { t: "str"; v: string; bytes: boolean; fstring: boolean; unsupported?: string; pos: number }
  | { t: "name"; v: string; pos: number }
  | { t: "op"; v: string; pos: number }
  | { t: "newline"; pos: number }
  | { t: "end"; pos: number };

class LiteralFailure extends Error {
  constructor(readonly kind: PythonErrorName, message: string, readonly pos: number) {
    super(message);
  }
}

const DIG = String.raw`\d(?:_?\d)*`;
const EXP = String.raw`[eE][+-]?${DIG}`;
const NUMBER_RES: [RegExp, "float" | "int"][] = [
  [new RegExp(`^(?:(?:${DIG})?\\.${DIG}(?:${EXP})?|${DIG}\\.(?:${EXP})?|${DIG}${EXP})`), "float"],
  [/^0[xX](?:_?[0-9a-fA-F])+/, "int"],
  [/^0[oO](?:_?[0-7])+/, "int"],
  [/^0[bB](?:_?[01])+/, "int"],
  [/^(?:[1-9](?:_?\d)*|0(?:_?0)*)/, "int"],
];
const OPERATORS = [
  "**=",
  "//=",
  ">>=",
  "<<=",
  "...",
  "**",
  "//",
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "->",
  ":=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "@=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "@",
  "&",
  "|",
  "^",
  "~",
  "<",
  ">",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  ".",
  ";",
  "=",
];
const CLOSERS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
const NAME_RE = /^[\p{ID_Start}_][\p{ID_Continue}]*/u;
const STRING_PREFIX_RE = /^([rRuUbBfF]{0,2})('''|"""|'|")/;
const VALID_PREFIXES = new Set(["", "r", "u", "b", "f", "br", "rb", "fr", "rf"]);
const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const brackets: string[] = [];
  let i = 0;
  let lineStart = true;
  let lineHasTokens = false;
  while (i < src.length) {
    const ch = src[i];
    if (ch === " " || ch === "\t" || ch === "\f") {
      if (lineStart && brackets.length === 0) {
        // Leading whitespace of a logical line: only harmless if the line is blank.
        let j = i;
        while (j < src.length && " \t\f".includes(src[j])) j++;
        const indentsContent = j < src.length && src[j] !== "\n" && src[j] !== "#" && src[j] !== "\\";
        // Python also rejects a last line of only spaces/tabs (it reads it as an indent).
        const trailingIndent = j === src.length && /[ \t]/.test(src.slice(i, j));
        if ((indentsContent && tokens.length === 0) || trailingIndent) {
          throw new LiteralFailure("SyntaxError", "unexpected indent", j);
        }
      }
      i++;
      continue;
    }
    if (ch === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (ch === "\n" || ch === "\r") {
      if (brackets.length === 0 && lineHasTokens) tokens.push({ t: "newline", pos: i });
      lineHasTokens = brackets.length > 0 && lineHasTokens;
      lineStart = brackets.length === 0;
      i += ch === "\r" && src[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    if (ch === "\\") {
      const next = src[i + 1];
      if (next === "\n" || next === "\r") {
        i += next === "\r" && src[i + 2] === "\n" ? 3 : 2;
        if (i >= src.length) throw new LiteralFailure("SyntaxError", "unexpected end of text after '\\'", i);
        continue;
      }
      throw new LiteralFailure("SyntaxError", "unexpected character after line continuation character", i);
    }
    lineStart = false;
    lineHasTokens = true;
    const rest = src.slice(i);
    const sp = STRING_PREFIX_RE.exec(rest);
    if (sp && VALID_PREFIXES.has(sp[1].toLowerCase())) {
      const [tok, end] = readString(src, i, sp[1].toLowerCase(), sp[2], i + sp[0].length);
      tokens.push(tok);
      i = end;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const [tok, end] = readNumber(src, i);
      tokens.push(tok);
      i = end;
      continue;
    }
    const name = NAME_RE.exec(rest);
    if (name) {
      tokens.push({ t: "name", v: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) {
      if ("([{".includes(op)) brackets.push(op);
      else if (op in CLOSERS) {
        const open = brackets.pop();
        if (open !== CLOSERS[op]) {
          throw new LiteralFailure(
            "SyntaxError",
            open === undefined ? `unmatched '${op}'` : `closing '${op}' does not match opening '${open}'`,
            i,
          );
        }
      }
      tokens.push({ t: "op", v: op, pos: i });
      i += op.length;
      continue;
    }
    throw new LiteralFailure("SyntaxError", `invalid character ${JSON.stringify(ch)}`, i);
  }
  if (brackets.length) {
    throw new LiteralFailure(
      "SyntaxError",
      `'${brackets[brackets.length - 1]}' was never closed`,
      src.length,
    );
  }
  tokens.push({ t: "end", pos: src.length });
  return tokens;
}

function readNumber(src: string, start: number): [Token, number] {
  const rest = src.slice(start);
  for (const [re, kind] of NUMBER_RES) {
    const m = re.exec(rest);
    if (!m) continue;
    let end = start + m[0].length;
    let complex = false;
    if (src[end] === "j" || src[end] === "J") {
      complex = true;
      end++;
    }
    // Python 3.11 still accepts a keyword right after a number (`1if x else y`), with a warning.
    const keywordNext = /^(?:and|else|for|if|in|is|not|or)/.test(src.slice(end));
    if (!keywordNext && /[\p{ID_Continue}]/u.test(src[end] ?? "")) {
      const leadingZero = kind === "int" && /^0\d*[1-9]/.test(rest.replaceAll("_", ""));
      throw new LiteralFailure(
        "SyntaxError",
        leadingZero
          ? "leading zeros in decimal integer literals are not permitted"
          : "invalid number literal",
        start,
      );
    }
    if (kind === "int" && !complex && /^0\d*[1-9]/.test(m[0].replaceAll("_", ""))) {
      throw new LiteralFailure(
        "SyntaxError",
        "leading zeros in decimal integer literals are not permitted",
        start,
      );
    }
    const text = m[0].replaceAll("_", "");
    let v: number | bigint;
    if (kind === "float" || complex) v = Number(text);
    else {
      const big = BigInt(text);
      v = big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    return [{ t: "num", v, complex, pos: start }, end];
  }
  throw new LiteralFailure("SyntaxError", "invalid number literal", start);
}

function readString(
  src: string,
  start: number,
  prefix: string,
  quote: string,
  bodyStart: number,
): [Token, number] {
  const raw = prefix.includes("r");
  const triple = quote.length === 3;
  let out = "";
  let unsupported: string | undefined;
  let i = bodyStart;
  for (;;) {
    if (i >= src.length) {
      throw new LiteralFailure(
        "SyntaxError",
        triple ? "unterminated triple-quoted string literal" : "unterminated string literal",
        start,
      );
    }
    if (src.startsWith(quote, i)) {
      i += quote.length;
      break;
    }
    const ch = src[i];
    if (!triple && ch === "\n") throw new LiteralFailure("SyntaxError", "unterminated string literal", start);
    if (ch !== "\\") {
      out += ch;
      i++;
      continue;
    }
    const next = src[i + 1];
    if (next === undefined) {
      throw new LiteralFailure("SyntaxError", "unterminated string literal", start);
    }
    if (raw) {
      out += ch + next;
      i += 2;
      continue;
    }
    if (next === "N" && !prefix.includes("b")) {
      // A named character: Python resolves the name; we have no Unicode name table.
      unsupported ??= "\\N{name} escapes are not supported; write the character itself";
      const close = src.indexOf("}", i);
      const name = close < 0 ? "" : src.slice(i + 2, close);
      if (!/^\{[A-Za-z0-9 -]+$/.test(name)) {
        throw new LiteralFailure("SyntaxError", "malformed \\N character escape", start);
      }
      i = close + 1;
      continue;
    }
    const [text, len] = decodeEscape(src, i, start, prefix.includes("b"));
    out += text;
    i += len;
  }
  const tok = { v: out, bytes: prefix.includes("b"), fstring: prefix.includes("f"), unsupported, pos: start };
  return [{ t: "str", ...tok }, i];
}

/** Decode the escape at `src[i]` (a backslash); returns the text and the length consumed. */
function decodeEscape(src: string, i: number, strStart: number, bytes: boolean): [string, number] {
  const next = src[i + 1];
  if (next === "\n") return ["", 2];
  if (next in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[next], 2];
  const oct = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4));
  if (oct) return [String.fromCodePoint(parseInt(oct[0], 8)), 1 + oct[0].length];
  const hexLen = next === "x" ? 2 : bytes ? 0 : next === "u" ? 4 : next === "U" ? 8 : 0;
  if (hexLen) {
    const hex = src.slice(i + 2, i + 2 + hexLen);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) {
      throw new LiteralFailure("SyntaxError", `truncated \\${next}${"X".repeat(hexLen)} escape`, strStart);
    }
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) throw new LiteralFailure("SyntaxError", "illegal Unicode character", strStart);
    return [String.fromCodePoint(code), 2 + hexLen];
  }
  return ["\\" + next, 2];
}

// ---------------------------------------------------------------- syntax --

type Node =
  | { n: "const"; v: PyValue; pos: number }
  | { n: "unsupported"; what: string; pos: number }
  | { n: "list" | "tuple" | "set"; items: Node[]; pos: number }
  | { n: "dict"; keys: Node[]; values: Node[]; pos: number }
  | { n: "unary"; op: string; operand: Node; pos: number }
  | { n: "binop"; op: string; left: Node; right: Node; pos: number }
  | { n: "call"; fn: Node; args: number; pos: number }
  | { n: "other"; what: string; name?: string; pos: number };

const COMPARISONS = new Set(["<", ">", "==", ">=", "<=", "!="]);
const BINARY_LEVELS: string[][] = [["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/", "//", "%", "@"]];
const NON_LITERAL_KEYWORDS = new Set(["await", "yield"]);
const PY_KEYWORDS = new Set(
  ("False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "),
);
const STATEMENT_KEYWORDS = new Set([
  "def",
  "class",
  "import",
  "from",
  "pass",
  "return",
  "del",
  "global",
  "nonlocal",
  "assert",
  "raise",
  "try",
  "except",
  "finally",
  "while",
  "with",
  "break",
  "continue",
  "elif",
  "as",
]);

/** A recursive-descent parser for a (permissive) Python expression, enough to classify errors like Python. */
class Parser {
  #i = 0;
  constructor(readonly tokens: Token[]) {}

  get peek(): Token {
    return this.tokens[this.#i];
  }

  #next(): Token {
    return this.tokens[this.#i++];
  }

  #isOp(v: string): boolean {
    const t = this.peek;
    return t.t === "op" && t.v === v;
  }

  #isName(v: string): boolean {
    const t = this.peek;
    return t.t === "name" && t.v === v;
  }

  #expectOp(v: string): void {
    if (!this.#isOp(v)) throw this.#syntax(`expected '${v}'`);
    this.#i++;
  }

  #syntax(msg = "invalid syntax"): LiteralFailure {
    const t = this.peek;
    const found = t.t === "end"
      ? "end of text"
      : t.t === "newline"
      ? "a line break"
      : t.t === "str"
      ? "a string"
      : t.t === "num"
      ? "a number"
      : `'${t.v}'`;
    return new LiteralFailure("SyntaxError", `${msg}; found ${found}`, t.pos);
  }

  /** The whole input: an expression list (bare tuple allowed), then only line breaks. */
  parseInput(): Node {
    const node = this.#exprList(true);
    while (this.peek.t === "newline") this.#i++;
    if (this.peek.t !== "end") throw this.#syntax();
    return node;
  }

  #exprList(allowBareTuple: boolean): Node {
    const pos = this.peek.pos;
    const first = this.#expr();
    if (!allowBareTuple || !this.#isOp(",")) return first;
    const items = [first];
    while (this.#isOp(",")) {
      this.#i++;
      if (this.#startsExpr()) items.push(this.#expr());
      else break;
    }
    return { n: "tuple", items, pos };
  }

  #startsExpr(): boolean {
    const t = this.peek;
    if (t.t === "num" || t.t === "str") return true;
    if (t.t === "name") {
      return !STATEMENT_KEYWORDS.has(t.v) && !["in", "is", "and", "or", "if", "else", "for"].includes(t.v);
    }
    if (t.t === "op") return ["(", "[", "{", "-", "+", "~", "...", "*"].includes(t.v);
    return false;
  }

  #expr(): Node {
    const pos = this.peek.pos;
    if (this.#isName("lambda")) return this.#lambda();
    const node = this.#orTest();
    if (this.#isName("if")) {
      this.#i++;
      this.#orTest();
      if (!this.#isName("else")) throw this.#syntax("expected 'else'");
      this.#i++;
      this.#expr();
      return { n: "other", what: "a conditional expression", pos };
    }
    return node;
  }

  /** `lambda params: expr` — parameters skipped up to the `:`, body parsed for syntax. */
  #lambda(): Node {
    const pos = this.peek.pos;
    this.#i++;
    while (!this.#isOp(":")) {
      const t = this.peek;
      if (t.t === "end" || t.t === "newline" || (t.t === "op" && "([{)]}".includes(t.v))) {
        throw this.#syntax();
      }
      this.#i++;
    }
    this.#i++;
    this.#expr();
    return { n: "other", what: "a lambda", pos };
  }

  #orTest(): Node {
    return this.#boolChain("or", () => this.#boolChain("and", () => this.#notTest()));
  }

  #boolChain(word: string, operand: () => Node): Node {
    const pos = this.peek.pos;
    let node = operand();
    while (this.#isName(word)) {
      this.#i++;
      operand();
      node = { n: "other", what: `'${word}'`, pos };
    }
    return node;
  }

  #notTest(): Node {
    const pos = this.peek.pos;
    if (this.#isName("not")) {
      this.#i++;
      this.#notTest();
      return { n: "other", what: "'not'", pos };
    }
    return this.#comparison();
  }

  #comparison(): Node {
    const pos = this.peek.pos;
    let node = this.#binary(0);
    for (;;) {
      const t = this.peek;
      if (t.t === "op" && COMPARISONS.has(t.v)) this.#i++;
      else if (t.t === "name" && (t.v === "in" || t.v === "is")) {
        this.#i++;
        if (t.v === "is" && this.#isName("not")) this.#i++;
      } else if (t.t === "name" && t.v === "not" && this.tokens[this.#i + 1]?.t === "name") {
        const after = this.tokens[this.#i + 1] as { v: string };
        if (after.v !== "in") break;
        this.#i += 2;
      } else break;
      this.#binary(0);
      node = { n: "other", what: "a comparison", pos };
    }
    return node;
  }

  #binary(level: number): Node {
    if (level >= BINARY_LEVELS.length) return this.#factor();
    let node = this.#binary(level + 1);
    for (;;) {
      const t = this.peek;
      if (t.t !== "op" || !BINARY_LEVELS[level].includes(t.v)) return node;
      this.#i++;
      const right = this.#binary(level + 1);
      node = { n: "binop", op: t.v, left: node, right, pos: t.pos };
    }
  }

  #factor(): Node {
    const t = this.peek;
    if (t.t === "op" && (t.v === "-" || t.v === "+" || t.v === "~")) {
      this.#i++;
      return { n: "unary", op: t.v, operand: this.#factor(), pos: t.pos };
    }
    const base = this.#primary();
    if (this.#isOp("**")) {
      const pos = this.peek.pos;
      this.#i++;
      this.#factor();
      return { n: "other", what: "'**'", pos };
    }
    return base;
  }

  #primary(): Node {
    let node = this.#atom();
    for (;;) {
      const pos = this.peek.pos;
      if (this.#isOp("(")) {
        this.#i++;
        const args = this.#callArgs();
        node = { n: "call", fn: node, args, pos };
      } else if (this.#isOp("[")) {
        this.#i++;
        this.#subscript();
        node = { n: "other", what: "a subscript", pos };
      } else if (this.#isOp(".")) {
        this.#i++;
        const attr = this.peek;
        if (attr.t !== "name" || PY_KEYWORDS.has(attr.v)) throw this.#syntax("expected an attribute name");
        this.#i++;
        node = { n: "other", what: "an attribute", pos };
      } else return node;
    }
  }

  #callArgs(): number {
    let count = 0;
    while (!this.#isOp(")")) {
      if (this.#isOp("*") || this.#isOp("**")) this.#i++;
      else if (this.peek.t === "name" && this.tokens[this.#i + 1]?.t === "op") {
        const after = this.tokens[this.#i + 1] as { v: string };
        if (after.v === "=") this.#i += 2;
      }
      this.#expr();
      this.#comprehensionTail();
      count++;
      if (!this.#isOp(",")) break;
      this.#i++;
    }
    this.#expectOp(")");
    return count;
  }

  #subscript(): void {
    do {
      if (this.#isOp("]") || this.#isOp(",")) throw this.#syntax("expected a subscript");
      if (!this.#isOp(":") && !this.#isOp("]") && !this.#isOp(",")) this.#expr();
      while (this.#isOp(":")) {
        this.#i++;
        if (!this.#isOp(":") && !this.#isOp("]") && !this.#isOp(",")) this.#expr();
      }
      if (!this.#isOp(",")) break;
      this.#i++;
    } while (!this.#isOp("]"));
    this.#expectOp("]");
  }

  /** `for ... in ... [if ...]` after an element: parsed for syntax, marked non-literal. */
  #comprehensionTail(): boolean {
    let found = false;
    while (this.#isName("for") || (this.#isName("async"))) {
      found = true;
      if (this.#isName("async")) this.#i++;
      this.#i++;
      this.#targetList();
      if (!this.#isName("in")) throw this.#syntax("expected 'in'");
      this.#i++;
      this.#orTest();
      while (this.#isName("if")) {
        this.#i++;
        this.#orTest();
      }
    }
    return found;
  }

  #targetList(): void {
    do {
      this.#binary(0);
      if (!this.#isOp(",")) break;
      this.#i++;
    } while (!this.#isName("in"));
  }

  #starredOrExpr(): Node {
    if (this.#isOp("*")) {
      const pos = this.peek.pos;
      this.#i++;
      this.#binary(0);
      return { n: "other", what: "a starred expression", pos };
    }
    return this.#expr();
  }

  #atom(): Node {
    const t = this.peek;
    switch (t.t) {
      case "num":
        this.#i++;
        if (t.complex) return { n: "unsupported", what: "complex numbers are not supported", pos: t.pos };
        return { n: "const", v: t.v, pos: t.pos };
      case "str":
        return this.#strings();
      case "name":
        return this.#nameAtom(t);
      case "op":
        if (t.v === "(") return this.#parenthesized();
        if (t.v === "[") return this.#bracketed();
        if (t.v === "{") return this.#braced();
        if (t.v === "...") {
          this.#i++;
          return { n: "unsupported", what: "Ellipsis ('...') is not supported", pos: t.pos };
        }
        throw this.#syntax();
      default:
        throw this.#syntax();
    }
  }

  #nameAtom(t: { v: string; pos: number }): Node {
    if (PY_KEYWORDS.has(t.v) && !["True", "False", "None"].includes(t.v) && !NON_LITERAL_KEYWORDS.has(t.v)) {
      throw this.#syntax();
    }
    if (NON_LITERAL_KEYWORDS.has(t.v)) {
      throw new LiteralFailure("ValueError", `'${t.v}' is not a literal`, t.pos);
    }
    this.#i++;
    if (t.v === "True") return { n: "const", v: true, pos: t.pos };
    if (t.v === "False") return { n: "const", v: false, pos: t.pos };
    if (t.v === "None") return { n: "const", v: null, pos: t.pos };
    return { n: "other", what: `the name '${t.v}'`, name: t.v, pos: t.pos };
  }

  #strings(): Node {
    const first = this.peek as Extract<Token, { t: "str" }>;
    let value = "";
    let fstring = false;
    let bytes: boolean | undefined;
    let unsupported: string | undefined;
    while (this.peek.t === "str") {
      const s = this.#next() as Extract<Token, { t: "str" }>;
      if (bytes !== undefined && bytes !== s.bytes) {
        throw new LiteralFailure("SyntaxError", "cannot mix bytes and nonbytes literals", s.pos);
      }
      bytes = s.bytes;
      fstring ||= s.fstring;
      unsupported ??= s.unsupported;
      value += s.v;
    }
    if (fstring) return { n: "other", what: "an f-string", pos: first.pos };
    if (bytes) return { n: "unsupported", what: "bytes literals are not supported", pos: first.pos };
    if (unsupported) return { n: "unsupported", what: unsupported, pos: first.pos };
    return { n: "const", v: value, pos: first.pos };
  }

  #parenthesized(): Node {
    const pos = this.peek.pos;
    this.#i++;
    if (this.#isOp(")")) {
      this.#i++;
      return { n: "tuple", items: [], pos };
    }
    const first = this.#starredOrExpr();
    if (this.#comprehensionTail()) {
      this.#expectOp(")");
      return { n: "other", what: "a generator expression", pos };
    }
    if (this.#isOp(")")) {
      this.#i++;
      return first;
    }
    const items = [first];
    while (this.#isOp(",")) {
      this.#i++;
      if (this.#isOp(")")) break;
      items.push(this.#starredOrExpr());
    }
    this.#expectOp(")");
    return { n: "tuple", items, pos };
  }

  #bracketed(): Node {
    const pos = this.peek.pos;
    this.#i++;
    const items: Node[] = [];
    if (!this.#isOp("]")) {
      items.push(this.#starredOrExpr());
      if (this.#comprehensionTail()) {
        this.#expectOp("]");
        return { n: "other", what: "a list comprehension", pos };
      }
      while (this.#isOp(",")) {
        this.#i++;
        if (this.#isOp("]")) break;
        items.push(this.#starredOrExpr());
      }
    }
    this.#expectOp("]");
    return { n: "list", items, pos };
  }

  #braced(): Node {
    const pos = this.peek.pos;
    this.#i++;
    if (this.#isOp("}")) {
      this.#i++;
      return { n: "dict", keys: [], values: [], pos };
    }
    if (this.#isOp("**")) return this.#dictRest(pos, [], []);
    const first = this.#starredOrExpr();
    if (this.#isOp(":")) {
      this.#i++;
      const value = this.#expr();
      if (this.#comprehensionTail()) {
        this.#expectOp("}");
        return { n: "other", what: "a dict comprehension", pos };
      }
      return this.#dictRest(pos, [first], [value]);
    }
    if (this.#comprehensionTail()) {
      this.#expectOp("}");
      return { n: "other", what: "a set comprehension", pos };
    }
    const items = [first];
    while (this.#isOp(",")) {
      this.#i++;
      if (this.#isOp("}")) break;
      items.push(this.#starredOrExpr());
    }
    this.#expectOp("}");
    return { n: "set", items, pos };
  }

  #dictRest(pos: number, keys: Node[], values: Node[]): Node {
    let unpack = false;
    for (;;) {
      if (keys.length || unpack) {
        if (!this.#isOp(",")) break;
        this.#i++;
        if (this.#isOp("}")) break;
      }
      if (this.#isOp("**")) {
        this.#i++;
        this.#binary(0);
        unpack = true;
        continue;
      }
      keys.push(this.#expr());
      this.#expectOp(":");
      values.push(this.#expr());
    }
    this.#expectOp("}");
    if (unpack) return { n: "other", what: "'**' unpacking", pos };
    return { n: "dict", keys, values, pos };
  }
}

// ------------------------------------------------------------ evaluation --

function malformed(node: Node): LiteralFailure {
  if (node.n === "other" && node.name !== undefined) {
    const hint = ["true", "false", "none"].includes(node.name.toLowerCase())
      ? `; write ${node.name[0].toUpperCase()}${node.name.slice(1).toLowerCase()}`
      : `; strings need quotes, e.g. '${node.name}'`;
    return new LiteralFailure("ValueError", `${node.what} is not a literal${hint}`, node.pos);
  }
  const what = node.n === "other"
    ? node.what
    : node.n === "call"
    ? "a function call"
    : `this ${node.n} expression`;
  return new LiteralFailure("ValueError", `${what} is not a literal`, node.pos);
}

function convertNum(node: Node): number | bigint {
  if (node.n === "unsupported") throw new LiteralFailure("ValueError", node.what, node.pos);
  if (node.n !== "const" || (typeof node.v !== "number" && typeof node.v !== "bigint")) throw malformed(node);
  return node.v;
}

function convertSigned(node: Node): PyValue {
  if (node.n === "unary" && (node.op === "-" || node.op === "+")) {
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

function typeName(v: PyValue): string {
  if (Array.isArray(v)) return "list";
  if (v === null) return "NoneType";
  if (typeof v === "object") return v.kind;
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  return Number.isInteger(v) ? "int" : "float";
}

function checkHashable(v: PyValue, pos: number): void {
  if (Array.isArray(v) || (v !== null && typeof v === "object" && v.kind !== "tuple")) {
    throw new LiteralFailure("TypeError", `unhashable type: '${typeName(v)}'`, pos);
  }
  if (v !== null && typeof v === "object" && v.kind === "tuple") {
    for (const x of v.items) checkHashable(x, pos);
  }
}

/**
 * A string that is equal for two hashable values exactly when Python's `==`
 * holds (`1`, `1.0`, `True` and `1n` share one key), for O(1) set and dict
 * lookups.
 */
function hashKey(v: PyValue): string {
  return JSON.stringify(hashShape(v));
}

function hashShape(v: PyValue): unknown {
  if (typeof v === "string") return ["s", v];
  if (v === null) return ["n"];
  if (typeof v === "boolean") return ["#", v ? "1" : "0"];
  if (typeof v === "bigint") return ["#", v.toString()];
  if (typeof v === "number") return ["#", Number.isInteger(v) ? BigInt(v).toString() : String(v)];
  if (!Array.isArray(v) && v.kind === "tuple") return ["t", v.items.map(hashShape)];
  throw new Error(`unhashable value reached hashKey: ${typeName(v)}`);
}

/** A set under construction: first-seen items, deduplicated by Python equality. */
class SetBuilder {
  readonly items: PyValue[] = [];
  readonly #seen = new Set<string>();

  add(v: PyValue): void {
    const key = hashKey(v);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.items.push(v);
  }
}

function evaluate(node: Node): PyValue {
  switch (node.n) {
    case "const":
      return node.v;
    case "tuple":
      return { kind: "tuple", items: node.items.map(evaluate) } satisfies PyTuple;
    case "list":
      return node.items.map(evaluate);
    case "set": {
      const set = new SetBuilder();
      for (const item of node.items) {
        const v = evaluate(item);
        checkHashable(v, item.pos);
        set.add(v);
      }
      return { kind: "set", items: set.items } satisfies PySet;
    }
    case "dict": {
      // Python keeps the first key object and the last value of equal keys.
      const entries: [PyValue, PyValue][] = [];
      const index = new Map<string, number>();
      node.keys.forEach((keyNode, j) => {
        const k = evaluate(keyNode);
        const v = evaluate(node.values[j]);
        checkHashable(k, keyNode.pos);
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
      if (node.fn.n === "other" && node.fn.name === "set" && node.args === 0) {
        return { kind: "set", items: [] } satisfies PySet;
      }
      throw malformed(node);
    case "binop":
      if (node.op === "|") return union(node);
      if (node.op === "+" || node.op === "-") {
        convertSigned(node.left);
        convertNum(node.right);
        throw new LiteralFailure("ValueError", "only a complex number may follow a binary '+'/'-'", node.pos);
      }
      throw malformed(node);
    default:
      return convertSigned(node);
  }
}

/** Whether `node` is written as a set: a display `{a, b}`, `set()`, or a union of those. */
function isSetNode(node: Node): boolean {
  if (node.n === "set") return true;
  if (node.n === "call") return node.fn.n === "other" && node.fn.name === "set" && node.args === 0;
  return node.n === "binop" && node.op === "|" && isSetNode(node.left) && isSetNode(node.right);
}

/** Set union `a | b` (our extension of `ast.literal_eval`, as the toolbox's `eval` allows). */
function union(node: Extract<Node, { n: "binop" }>): PySet {
  if (!isSetNode(node.left) || !isSetNode(node.right)) {
    throw new LiteralFailure("ValueError", "'|' is only allowed between sets, e.g. {'a'} | {'b'}", node.pos);
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
    return evaluate(new Parser(tokenize(src)).parseInput());
  } catch (err) {
    if (!(err instanceof LiteralFailure)) throw err;
    const [line, col] = lineCol(text, err.pos + offset);
    const where = text.includes("\n") ? `line ${line}, column ${col}` : `column ${col}`;
    throw new PythonConfigError(`${err.message} (${where} of ${excerpt(text)})`, {
      pythonError: err.kind,
      value: text,
    });
  }
}

// --------------------------------------------------------------- helpers --

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
