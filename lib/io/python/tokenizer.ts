/**
 * The tokenizer of the Python front end: Python 3 tokens (names, numbers,
 * strings with Python's prefixes and escapes, operators) with their offset
 * and line. In `file` mode it also yields the NEWLINE / INDENT / DEDENT
 * tokens of a module; in `eval` mode (one expression, as `ast.literal_eval`
 * reads it) indentation is an error where Python says so.
 *
 * @module
 */
import { PythonSyntaxError } from "./errors.ts";
import { readNumber, readString } from "./literals.ts";

/** One token. `pos` is the character offset, `line` the 1-based line. */
export type Token =
  | { t: "num"; v: number | bigint; float: boolean; complex: boolean; pos: number; line: number }
  | {
    t: "str";
    v: string;
    bytes: boolean;
    fstring: boolean;
    /** Why the string cannot be represented (a `\N{...}` escape), if so. */
    unsupported?: string;
    pos: number;
    line: number;
  }
  | { t: "name" | "op"; v: string; pos: number; line: number }
  | { t: "newline" | "indent" | "dedent" | "end"; pos: number; line: number };

/** A token before its line is known. */
type Unlined = WithoutLine<Token>;
type WithoutLine<T> = T extends unknown ? Omit<T, "line"> : never;

/** `eval`: one expression (`ast.parse(mode='eval')`); `file`: a module with statements. */
export type TokenizeMode = "eval" | "file";

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
/** Python's limit on open brackets (`too many nested parentheses`). */
const MAX_BRACKETS = 200;
/** Python's limit on indentation levels. */
const MAX_INDENT = 100;

/** Offsets of line starts, for turning offsets into line numbers. */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.#starts.push(i + 1);
    }
  }

  /** The 1-based line of offset `pos`. */
  line(pos: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

/** Split Python text into tokens; throws {@linkcode PythonSyntaxError} where Python's tokenizer does. */
export function tokenize(src: string, mode: TokenizeMode = "file"): Token[] {
  const lines = new LineIndex(src);
  const fail = (msg: string, pos: number): never => {
    throw new PythonSyntaxError(msg, pos, lines.line(pos));
  };
  const tokens: Token[] = [];
  const push = (tok: Unlined): void => {
    tokens.push({ ...tok, line: lines.line(tok.pos) } as Token);
  };
  const brackets: string[] = [];
  const openedAt: number[] = [];
  const indents = [0];
  let i = 0;
  let lineStart = true;
  let lineHasTokens = false;
  while (i < src.length) {
    if (mode === "file" && lineStart && brackets.length === 0) {
      // Indentation of a logical line: blank and comment-only lines do not count.
      let col = 0;
      let j = i;
      while (j < src.length && " \t\f".includes(src[j])) {
        col = src[j] === "\t" ? col + 8 - (col % 8) : src[j] === "\f" ? 0 : col + 1;
        j++;
      }
      const blank = j >= src.length || src[j] === "\n" || src[j] === "\r" || src[j] === "#";
      if (!blank && !(src[j] === "\\" && /^\\\r?\n/.test(src.slice(j, j + 3)))) {
        if (col > indents[indents.length - 1]) {
          if (indents.length > MAX_INDENT) fail("too many levels of indentation", j);
          indents.push(col);
          push({ t: "indent", pos: j });
        }
        while (col < indents[indents.length - 1]) {
          indents.pop();
          push({ t: "dedent", pos: j });
        }
        if (col !== indents[indents.length - 1]) {
          fail("unindent does not match any outer indentation level", j);
        }
      }
      i = j;
      lineStart = false;
      if (i >= src.length) break;
    }
    const ch = src[i];
    if (ch === " " || ch === "\t" || ch === "\f") {
      if (mode === "eval" && lineStart && brackets.length === 0) {
        // Leading whitespace of a logical line: only harmless if the line is blank.
        let j = i;
        while (j < src.length && " \t\f".includes(src[j])) j++;
        const indentsContent = j < src.length && src[j] !== "\n" && src[j] !== "#" && src[j] !== "\\";
        // Python also rejects a last line of only spaces/tabs (it reads it as an indent).
        const trailingIndent = j === src.length && /[ \t]/.test(src.slice(i, j));
        if ((indentsContent && tokens.length === 0) || trailingIndent) fail("unexpected indent", j);
      }
      i++;
      continue;
    }
    if (ch === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (ch === "\n" || ch === "\r") {
      if (brackets.length === 0 && lineHasTokens) push({ t: "newline", pos: i });
      lineHasTokens = brackets.length > 0 && lineHasTokens;
      lineStart = brackets.length === 0;
      i += ch === "\r" && src[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    if (ch === "\\") {
      const next = src[i + 1];
      if (next === "\n" || next === "\r") {
        i += next === "\r" && src[i + 2] === "\n" ? 3 : 2;
        if (i >= src.length) fail("unexpected end of text after '\\'", i);
        continue;
      }
      fail("unexpected character after line continuation character", i);
    }
    lineStart = false;
    lineHasTokens = true;
    const rest = src.slice(i, i + 8);
    const sp = STRING_PREFIX_RE.exec(rest);
    if (sp && VALID_PREFIXES.has(sp[1].toLowerCase())) {
      const prefix = sp[1].toLowerCase();
      const s = readString(src, i, prefix, sp[2], i + sp[0].length, fail);
      push({
        t: "str",
        v: s.value,
        bytes: prefix.includes("b"),
        fstring: prefix.includes("f"),
        ...s.extra,
        pos: i,
      });
      i = s.end;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const n = readNumber(src, i, fail);
      push({ t: "num", v: n.value, float: n.float, complex: n.complex, pos: i });
      i = n.end;
      continue;
    }
    const name = NAME_RE.exec(src.slice(i, i + 256));
    if (name) {
      let end = i + name[0].length;
      while (end < src.length && /[\p{ID_Continue}]/u.test(src[end])) end++; // names longer than the window
      push({ t: "name", v: src.slice(i, end), pos: i });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      if ("([{".includes(op)) {
        if (brackets.length >= MAX_BRACKETS) fail("too many nested parentheses", i);
        brackets.push(op);
        openedAt.push(i);
      } else if (op in CLOSERS) {
        const open = brackets.pop();
        openedAt.pop();
        if (open !== CLOSERS[op]) {
          fail(
            open === undefined ? `unmatched '${op}'` : `closing '${op}' does not match opening '${open}'`,
            i,
          );
        }
      }
      push({ t: "op", v: op, pos: i });
      i += op.length;
      continue;
    }
    fail(`invalid character ${JSON.stringify(ch)}`, i);
  }
  if (brackets.length) {
    // Python points at the bracket in a file; the literal reader keeps the end of the text.
    fail(
      `'${brackets[brackets.length - 1]}' was never closed`,
      mode === "file" ? openedAt[openedAt.length - 1] : src.length,
    );
  }
  if (mode === "file") {
    if (lineHasTokens) push({ t: "newline", pos: src.length });
    while (indents.length > 1) {
      indents.pop();
      push({ t: "dedent", pos: src.length });
    }
  }
  push({ t: "end", pos: src.length });
  return tokens;
}
