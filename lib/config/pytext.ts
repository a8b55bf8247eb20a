/**
 * Python's text rules the configuration layer needs: which characters
 * `str.strip()` and `str.isspace()` treat as whitespace, and which strings
 * `int()` and `float()` accept.
 *
 * @module
 */

/** Characters Python's `str.isspace()` is true for (differs from JS `\s`: adds U+001C–U+001F and U+0085, drops U+FEFF). */
export const PY_WHITESPACE =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

const WS_SET = new Set(PY_WHITESPACE);

/** Python `ch.isspace()` for one character. */
export function isPySpace(ch: string): boolean {
  return WS_SET.has(ch);
}

/** Python `s.strip()` (no argument). */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && WS_SET.has(s[start])) start++;
  while (end > start && WS_SET.has(s[end - 1])) end--;
  return s.slice(start, end);
}

/** Python `s.rstrip()` (no argument). */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && WS_SET.has(s[end - 1])) end--;
  return s.slice(0, end);
}

/** Index of the first non-whitespace character of `s` (Python `re.search(r"\S")`), or -1. */
export function firstNonSpace(s: string): number {
  for (let i = 0; i < s.length; i++) if (!WS_SET.has(s[i])) return i;
  return -1;
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const INT_RE = new RegExp(`^[+-]?${DIGITS}$`);
const FLOAT_RE = new RegExp(
  `^[+-]?(?:(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.?)(?:[eE][+-]?${DIGITS})?|inf(?:inity)?|nan)$`,
  "i",
);

/** Python `int(text)` for a `str` argument (base 10), or `undefined` where Python raises `ValueError`. */
export function parsePyInt(text: string): bigint | undefined {
  const s = pyStrip(text);
  if (!INT_RE.test(s)) return undefined;
  return BigInt(s.replaceAll("_", ""));
}

/** Python `float(text)` for a `str` argument, or `undefined` where Python raises `ValueError`. */
export function parsePyFloat(text: string): number | undefined {
  const s = pyStrip(text);
  if (!FLOAT_RE.test(s)) return undefined;
  const lower = s.toLowerCase();
  const sign = lower.startsWith("-") ? -1 : 1;
  const body = lower.replace(/^[+-]/, "");
  if (body === "nan") return NaN;
  if (body === "inf" || body === "infinity") return sign * Infinity;
  return Number(s.replaceAll("_", ""));
}
