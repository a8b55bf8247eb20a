/**
 * Protobuf text format (what `.prototxt` files are) parsed into a
 * {@linkcode PbMessage} tree, without a schema: a real tokenizer for
 * strings (both quote styles, C escapes, adjacent-literal concatenation),
 * `#` comments, numbers (ints, floats, exponents, `inf`/`nan`, `f`
 * suffixes, hex), identifiers (enum values, `true`/`false`), nested
 * messages in `{}` or `<>`, optional `:` before a message, `[a, b]` list
 * values and `,`/`;` separators.
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import { addField, type PbMessage, type PbValue } from "./message.ts";

type TokenKind = "ident" | "number" | "string" | "punct" | "eof";

interface Token {
  kind: TokenKind;
  /** Identifier name, punctuation character or decoded string. */
  text: string;
  /** Numeric value of a number token. */
  value: number;
  line: number;
  col: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.]/;
const PUNCT = "{}<>:[],;";

class Tokenizer {
  #pos = 0;
  #line = 1;
  #col = 1;
  #peeked: Token | undefined;

  constructor(readonly text: string, readonly file: string) {}

  peek(): Token {
    this.#peeked ??= this.#read();
    return this.#peeked;
  }

  next(): Token {
    const t = this.peek();
    this.#peeked = undefined;
    return t;
  }

  fail(msg: string, tok: Token): never {
    throw new ModelFormatError(`${this.file}:${tok.line}:${tok.col}: ${msg}`, { file: this.file });
  }

  #advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.text[this.#pos] === "\n") {
        this.#line++;
        this.#col = 1;
      } else this.#col++;
      this.#pos++;
    }
  }

  #skipSpaceAndComments(): void {
    while (this.#pos < this.text.length) {
      const c = this.text[this.#pos];
      if (c === "#") {
        while (this.#pos < this.text.length && this.text[this.#pos] !== "\n") this.#advance();
      } else if (/\s/.test(c)) this.#advance();
      else break;
    }
  }

  #read(): Token {
    this.#skipSpaceAndComments();
    const line = this.#line;
    const col = this.#col;
    const tok = (kind: TokenKind, text: string, value = NaN): Token => ({ kind, text, value, line, col });
    if (this.#pos >= this.text.length) return tok("eof", "end of file");
    const c = this.text[this.#pos];
    if (PUNCT.includes(c)) {
      this.#advance();
      return tok("punct", c);
    }
    if (c === '"' || c === "'") {
      let s = this.#readString();
      // Adjacent string literals concatenate, as in C.
      for (;;) {
        this.#skipSpaceAndComments();
        const d = this.text[this.#pos];
        if (d !== '"' && d !== "'") break;
        s += this.#readString();
      }
      return tok("string", s);
    }
    const numMatch =
      /^[-+]?(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fF]?|inf(inity)?|nan)(?![A-Za-z0-9_])/i
        .exec(this.text.slice(this.#pos, this.#pos + 64));
    if (numMatch && (/[-+\d.]/.test(c) || /^[-+]?(inf|nan)/i.test(numMatch[0]))) {
      const raw = numMatch[0];
      this.#advance(raw.length);
      return tok("number", raw, parseNumber(raw));
    }
    if (c === "-" || c === "+") {
      this.#advance();
      this.#skipSpaceAndComments();
      const after = this.#read();
      if (after.kind !== "number") this.fail(`expected a number after '${c}', found '${after.text}'`, after);
      return { ...after, line, col, value: c === "-" ? -after.value : after.value };
    }
    if (IDENT_START.test(c)) {
      let end = this.#pos;
      while (end < this.text.length && IDENT_PART.test(this.text[end])) end++;
      const word = this.text.slice(this.#pos, end);
      this.#advance(word.length);
      return tok("ident", word);
    }
    this.fail(`unexpected character '${c}'`, tok("punct", c));
  }

  #readString(): string {
    const quote = this.text[this.#pos];
    const startLine = this.#line;
    const startCol = this.#col;
    this.#advance();
    const bytes: number[] = [];
    const enc = new TextEncoder();
    while (this.#pos < this.text.length) {
      const c = this.text[this.#pos];
      if (c === quote) {
        this.#advance();
        return new TextDecoder().decode(new Uint8Array(bytes));
      }
      if (c === "\n") break;
      if (c === "\\") {
        const e = this.text[this.#pos + 1] ?? "";
        const simple: Record<string, number> = {
          n: 10,
          t: 9,
          r: 13,
          a: 7,
          b: 8,
          f: 12,
          v: 11,
          "\\": 92,
          "'": 39,
          '"': 34,
          "?": 63,
        };
        if (e in simple) {
          bytes.push(simple[e]);
          this.#advance(2);
          continue;
        }
        const oct = /^[0-7]{1,3}/.exec(this.text.slice(this.#pos + 1, this.#pos + 4));
        if (oct) {
          bytes.push(parseInt(oct[0], 8) & 0xff);
          this.#advance(1 + oct[0].length);
          continue;
        }
        const hex = /^[xX]([0-9a-fA-F]{1,2})/.exec(this.text.slice(this.#pos + 1, this.#pos + 4));
        if (hex) {
          bytes.push(parseInt(hex[1], 16));
          this.#advance(1 + hex[0].length);
          continue;
        }
        this.fail(`unknown escape '\\${e}' in string`, {
          kind: "string",
          text: "",
          value: NaN,
          line: this.#line,
          col: this.#col,
        });
      }
      const cp = this.text.codePointAt(this.#pos) ?? 0;
      const ch = String.fromCodePoint(cp);
      bytes.push(...enc.encode(ch));
      this.#advance(ch.length);
    }
    this.fail("unterminated string", {
      kind: "string",
      text: "",
      value: NaN,
      line: startLine,
      col: startCol,
    });
  }
}

function parseNumber(raw: string): number {
  const lower = raw.toLowerCase();
  const s = /^[-+]?0x/.test(lower) ? lower : lower.replace(/f$/, "");
  const sign = s.startsWith("-") ? -1 : 1;
  const body = s.replace(/^[-+]/, "");
  if (body.startsWith("inf")) return sign * Infinity;
  if (body === "nan") return NaN;
  if (body.startsWith("0x")) return sign * parseInt(body.slice(2), 16);
  return sign * Number(body);
}

function parseValue(tz: Tokenizer): PbValue {
  const t = tz.next();
  if (t.kind === "number") return t.value;
  if (t.kind === "string") return t.text;
  if (t.kind === "ident") {
    if (t.text === "true" || t.text === "True") return true;
    if (t.text === "false" || t.text === "False") return false;
    return t.text; // an enum value name
  }
  return tz.fail(`expected a value, found '${t.text}'`, t);
}

function parseFields(tz: Tokenizer, close: string | undefined): PbMessage {
  const msg: PbMessage = {};
  for (;;) {
    const t = tz.next();
    if (t.kind === "eof") {
      if (close !== undefined) tz.fail(`expected '${close}' before the end of the file`, t);
      return msg;
    }
    if (t.kind === "punct" && t.text === close) return msg;
    if (t.kind === "punct" && (t.text === "," || t.text === ";")) continue;
    if (t.kind !== "ident") tz.fail(`expected a field name, found '${t.text}'`, t);
    const name = t.text;
    let colon = false;
    if (tz.peek().kind === "punct" && tz.peek().text === ":") {
      tz.next();
      colon = true;
    }
    const p = tz.peek();
    if (p.kind === "punct" && (p.text === "{" || p.text === "<")) {
      tz.next();
      addField(msg, name, parseFields(tz, p.text === "{" ? "}" : ">"));
    } else if (colon && p.kind === "punct" && p.text === "[") {
      tz.next();
      parseList(tz, msg, name);
    } else if (colon) {
      addField(msg, name, parseValue(tz));
    } else {
      tz.fail(`expected ':' or '{' after field '${name}', found '${p.text}'`, p);
    }
  }
}

function parseList(tz: Tokenizer, msg: PbMessage, name: string): void {
  if (tz.peek().kind === "punct" && tz.peek().text === "]") {
    tz.next();
    return;
  }
  for (;;) {
    const p = tz.peek();
    if (p.kind === "punct" && (p.text === "{" || p.text === "<")) {
      tz.next();
      addField(msg, name, parseFields(tz, p.text === "{" ? "}" : ">"));
    } else addField(msg, name, parseValue(tz));
    const sep = tz.next();
    if (sep.kind === "punct" && sep.text === "]") return;
    if (!(sep.kind === "punct" && sep.text === ",")) {
      tz.fail(`expected ',' or ']' in list '${name}', found '${sep.text}'`, sep);
    }
  }
}

/**
 * Parse protobuf text format. `file` names the source in error messages
 * (`file:line:col: what was expected, what was found`).
 *
 * @example
 * ```ts
 * const msg = parseTextFormat('name: "LeNet" layer { type: "ReLU" }', "net.prototxt");
 * // msg.name → ["LeNet"], msg.layer → [{ type: ["ReLU"] }]
 * ```
 */
export function parseTextFormat(text: string, file = "<text>"): PbMessage {
  return parseFields(new Tokenizer(text, file), undefined);
}
