/**
 * Number and string literals of Python source, read the way Python's
 * tokenizer reads them: `_` digit separators, `0x`/`0o`/`0b`, floats
 * (`1e-3`, `.5`, `5.`), imaginary `j`; string prefixes `r`/`u`/`b`/`f`,
 * single, double and triple quotes, and every escape of Python 3
 * (`\n \t \x41 \u00e9 \U0001F600 \101`, line continuation; an unknown
 * escape keeps its backslash).
 *
 * @module
 */

/** Reports an error at an offset (throws). */
export type FailAt = (message: string, pos: number) => never;

const DIG = String.raw`\d(?:_?\d)*`;
const EXP = String.raw`[eE][+-]?${DIG}`;
const NUMBER_RES: [RegExp, "float" | "int"][] = [
  [new RegExp(`^(?:(?:${DIG})?\\.${DIG}(?:${EXP})?|${DIG}\\.(?:${EXP})?|${DIG}${EXP})`), "float"],
  [/^0[xX](?:_?[0-9a-fA-F])+/, "int"],
  [/^0[oO](?:_?[0-7])+/, "int"],
  [/^0[bB](?:_?[01])+/, "int"],
  [/^(?:[1-9](?:_?\d)*|0(?:_?0)*)/, "int"],
];

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

/** A number read from source: ints within ±(2^53 − 1) as `number`, larger ones as `bigint`. */
export interface NumberLiteral {
  /** The value (the imaginary part of a complex literal). */
  value: number | bigint;
  /** Written as a float (`1.0`, `1e3`). */
  float: boolean;
  /** Imaginary (`1j`). */
  complex: boolean;
  /** Offset after the literal. */
  end: number;
}

/** Read the number starting at `src[start]` (a digit, or `.` before a digit). */
export function readNumber(src: string, start: number, fail: FailAt): NumberLiteral {
  const rest = src.slice(start, start + 10_000);
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
    const keywordNext = /^(?:and|else|for|if|in|is|not|or)/.test(src.slice(end, end + 5));
    if (!keywordNext && /[\p{ID_Continue}]/u.test(src[end] ?? "")) {
      const leadingZero = kind === "int" && /^0\d*[1-9]/.test(rest.replaceAll("_", ""));
      fail(
        leadingZero
          ? "leading zeros in decimal integer literals are not permitted"
          : "invalid number literal",
        start,
      );
    }
    if (kind === "int" && !complex && /^0\d*[1-9]/.test(m[0].replaceAll("_", ""))) {
      fail("leading zeros in decimal integer literals are not permitted", start);
    }
    const text = m[0].replaceAll("_", "");
    let value: number | bigint;
    if (kind === "float" || complex) value = Number(text);
    else {
      const big = BigInt(text);
      value = big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    return { value, float: kind === "float", complex, end };
  }
  return fail("invalid number literal", start);
}

/** A string read from source. */
export interface StringLiteral {
  /** The decoded text (bytes as latin-1 characters). */
  value: string;
  /** `unsupported`: why the value cannot be represented (a `\N{...}` escape). */
  extra: { unsupported?: string };
  /** Offset after the closing quote. */
  end: number;
}

/**
 * Read the string literal at `src[start]` whose (lower-cased) `prefix` and
 * opening `quote` end at `bodyStart`.
 */
export function readString(
  src: string,
  start: number,
  prefix: string,
  quote: string,
  bodyStart: number,
  fail: FailAt,
): StringLiteral {
  const raw = prefix.includes("r");
  const bytes = prefix.includes("b");
  const triple = quote.length === 3;
  const parts: string[] = [];
  let unsupported: string | undefined;
  let i = bodyStart;
  for (;;) {
    if (i >= src.length) {
      fail(triple ? "unterminated triple-quoted string literal" : "unterminated string literal", start);
    }
    if (src.startsWith(quote, i)) {
      i += quote.length;
      break;
    }
    const ch = src[i];
    if (!triple && ch === "\n") fail("unterminated string literal", start);
    if (ch !== "\\") {
      parts.push(ch);
      i++;
      continue;
    }
    const next = src[i + 1];
    if (next === undefined) fail("unterminated string literal", start);
    if (raw) {
      parts.push(ch + next);
      i += 2;
      continue;
    }
    if (next === "N" && !bytes) {
      // A named character: Python resolves the name; we have no Unicode name table.
      unsupported ??= "\\N{name} escapes are not supported; write the character itself";
      const close = src.indexOf("}", i);
      const name = close < 0 ? "" : src.slice(i + 2, close);
      if (!/^\{[A-Za-z0-9 -]+$/.test(name)) fail("malformed \\N character escape", start);
      i = close + 1;
      continue;
    }
    const [text, len] = decodeEscape(src, i, start, bytes, fail);
    parts.push(text);
    i += len;
  }
  return { value: parts.join(""), extra: unsupported ? { unsupported } : {}, end: i };
}

/** Decode the escape at `src[i]` (a backslash); returns the text and the length consumed. */
function decodeEscape(
  src: string,
  i: number,
  strStart: number,
  bytes: boolean,
  fail: FailAt,
): [string, number] {
  const next = src[i + 1];
  if (next === "\n") return ["", 2];
  if (next === "\r") return ["", src[i + 2] === "\n" ? 3 : 2];
  if (next in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[next], 2];
  const oct = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4));
  if (oct) return [String.fromCodePoint(parseInt(oct[0], 8)), 1 + oct[0].length];
  const hexLen = next === "x" ? 2 : bytes ? 0 : next === "u" ? 4 : next === "U" ? 8 : 0;
  if (hexLen) {
    const hex = src.slice(i + 2, i + 2 + hexLen);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) {
      fail(`truncated \\${next}${"X".repeat(hexLen)} escape`, strStart);
    }
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) fail("illegal Unicode character", strStart);
    return [String.fromCodePoint(code), 2 + hexLen];
  }
  return ["\\" + next, 2];
}
