/**
 * An INI reader with the semantics of Python's `configparser.ConfigParser()`
 * with default arguments: sections, a `[DEFAULT]` section whose options every
 * section inherits, case-insensitive option names, `=` and `:` delimiters,
 * full-line `#`/`;` comments, multi-line values by indentation, strict
 * duplicate checks, and `%(name)s` basic interpolation.
 *
 * @example
 * ```ts
 * import { ConfigParser } from "./configparser.ts";
 * const cfg = new ConfigParser();
 * cfg.readString("[paths]\nroot = /data\nmodels = %(root)s/models\n");
 * cfg.get("paths", "models"); // "/data/models"
 * ```
 *
 * @module
 */
import type { PyValue, ToolboxConfig } from "./types.ts";
import { type ConfigErrorDetails, locationPrefix, PythonConfigError } from "./errors.ts";
import { firstNonSpace, parsePyFloat, parsePyInt, pyRstrip, pyStrip } from "./pytext.ts";
import { literalEval } from "./literal.ts";
import { pyStr } from "./py_repr.ts";
import { pyIterable } from "./py_values.ts";

/** Python's `configparser.MAX_INTERPOLATION_DEPTH`. */
export const MAX_INTERPOLATION_DEPTH = 10;

/**
 * Longest value (in characters) interpolation may produce. Python has no
 * such bound: ten levels that each repeat the previous one ten times expand
 * to 10^10 characters and exhaust the memory; we refuse them instead.
 */
export const MAX_INTERPOLATED_LENGTH = 1 << 20;

/** The words `getBoolean` accepts (lower-cased), as in `RawConfigParser.BOOLEAN_STATES`. */
export const BOOLEAN_STATES: Readonly<Record<string, boolean>> = Object.freeze({
  "1": true,
  yes: true,
  true: true,
  on: true,
  "0": false,
  no: false,
  false: false,
  off: false,
});

/** Options of {@linkcode ConfigParser}. */
export interface ConfigParserOptions {
  /**
   * How option names are normalised (Python's `optionxform`); default lower-cases
   * them. The Python toolbox uses `(s) => s` (case kept).
   */
  optionxform?: (name: string) => string;
  /** Name of the section every other section inherits from; default `"DEFAULT"`. */
  defaultSection?: string;
}

/** Options of {@linkcode ConfigParser.get}. */
export interface GetOptions {
  /** Return the value without interpolation. */
  raw?: boolean;
}

interface Origin {
  file: string;
  line: number;
}

type Section = Map<string, string | string[]>;

const SECTION_RE = /^\[(.+)\]/;
const OPTION_RE = /^(.*?)\s*(=|:)\s*(.*)$/s;
const KEY_RE = /^%\(([^)]+)\)s/;
const COMMENT_PREFIXES = ["#", ";"];

/** A string quoted for an error message (JSON escapes make control characters visible). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * A configuration read from INI text with Python `configparser.ConfigParser()`
 * semantics. Every error is a {@linkcode PythonConfigError} (a `ConfigError`)
 * whose `pythonError` names the exception Python raises for the same input.
 */
export class ConfigParser implements ToolboxConfig {
  /** Name of the section every section inherits options from. */
  readonly defaultSection: string;
  readonly #xform: (name: string) => string;
  readonly #defaults: Section = new Map();
  readonly #sections = new Map<string, Section>();
  readonly #origins = new Map<string, Origin>();
  readonly #sources: string[] = [];

  /** Create an empty configuration. */
  constructor(options: ConfigParserOptions = {}) {
    this.#xform = options.optionxform ?? ((s: string) => s.toLowerCase());
    this.defaultSection = options.defaultSection ?? "DEFAULT";
  }

  /** Python `optionxform`: the stored form of an option name. */
  optionxform(name: string): string {
    return this.#xform(name);
  }

  /** The sources read so far, in order (file paths or source names). */
  get sources(): readonly string[] {
    return this.#sources;
  }

  /**
   * Read and parse files in order; later files override earlier ones. Files
   * that do not exist or cannot be opened are skipped, as Python does; the
   * paths actually read are returned.
   */
  async read(paths: string | readonly string[]): Promise<string[]> {
    const list = typeof paths === "string" ? [paths] : paths;
    const ok: string[] = [];
    for (const path of list) {
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(path);
      } catch {
        continue;
      }
      this.readString(decodeText(bytes, path), path);
      ok.push(path);
    }
    return ok;
  }

  /** Synchronous {@linkcode ConfigParser.read}. */
  readSync(paths: string | readonly string[]): string[] {
    const list = typeof paths === "string" ? [paths] : paths;
    const ok: string[] = [];
    for (const path of list) {
      let bytes: Uint8Array;
      try {
        bytes = Deno.readFileSync(path);
      } catch {
        continue;
      }
      this.readString(decodeText(bytes, path), path);
      ok.push(path);
    }
    return ok;
  }

  /**
   * Parse INI `text` (Python `read_string`); `sourceName` is used in error
   * messages. Line ends `\n`, `\r\n` and `\r` are all accepted.
   */
  readString(text: string, sourceName = "<string>"): void {
    this.#sources.push(sourceName);
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    const added = new Set<string>();
    let cursect: Section | undefined;
    let sectname = "";
    let optname: string | undefined;
    let indentLevel = 0;
    const parseErrors: { line: number; text: string }[] = [];
    try {
      for (let i = 0; i < lines.length; i++) {
        const lineno = i + 1;
        const line = lines[i];
        const stripped = pyStrip(line);
        const isComment = COMMENT_PREFIXES.some((p) => stripped.startsWith(p));
        const value = isComment ? "" : stripped;
        if (!value) {
          // Python keeps blank lines inside multi-line values (trimmed at the end).
          if (!isComment && cursect !== undefined && optname) {
            const cur = cursect.get(optname);
            if (Array.isArray(cur)) cur.push("");
          }
          continue;
        }
        const indent = Math.max(firstNonSpace(line), 0);
        if (cursect !== undefined && optname && indent > indentLevel) {
          const cur = cursect.get(optname);
          if (Array.isArray(cur)) cur.push(value);
          continue;
        }
        indentLevel = indent;
        const header = SECTION_RE.exec(value);
        if (header) {
          sectname = header[1];
          const existing = this.#sections.get(sectname);
          if (existing) {
            if (added.has(sectname)) {
              throw this.#error(
                "DuplicateSectionError",
                `section [${sectname}] appears twice in this file (strict mode); merge the two sections`,
                { file: sourceName, line: lineno, section: sectname },
              );
            }
            cursect = existing;
            added.add(sectname);
          } else if (sectname === this.defaultSection) {
            cursect = this.#defaults;
          } else {
            cursect = new Map();
            this.#sections.set(sectname, cursect);
            added.add(sectname);
          }
          optname = undefined;
          continue;
        }
        if (cursect === undefined) {
          throw this.#error(
            "MissingSectionHeaderError",
            `expected a section header like '[section]' before any option, found ${quote(line)}`,
            { file: sourceName, line: lineno },
          );
        }
        const opt = OPTION_RE.exec(value);
        if (!opt) {
          parseErrors.push({ line: lineno, text: line });
          continue;
        }
        if (!opt[1]) parseErrors.push({ line: lineno, text: line });
        optname = this.#xform(pyRstrip(opt[1]));
        const key = `${sectname}\0${optname}`;
        if (added.has(key)) {
          throw this.#error(
            "DuplicateOptionError",
            `option '${optname}' appears twice in section [${sectname}] of this file (strict mode)`,
            { file: sourceName, line: lineno, section: sectname, option: optname },
          );
        }
        added.add(key);
        cursect.set(optname, [pyStrip(opt[3])]);
        this.#origins.set(key, { file: sourceName, line: lineno });
      }
    } finally {
      this.#joinMultilineValues();
    }
    if (parseErrors.length) {
      // Like Python, bad lines are collected and reported together after the whole file is read.
      const listing = parseErrors.map((e) => `line ${e.line}: ${quote(e.text)}`).join("; ");
      throw this.#error(
        "ParsingError",
        `expected 'key = value', 'key: value', a '[section]' header or a comment; found ${listing}`,
        { file: sourceName, line: parseErrors[0].line },
      );
    }
  }

  /** Section names in file order (the default section excluded). */
  sections(): string[] {
    return [...this.#sections.keys()];
  }

  /** Whether `section` exists (the default section is not acknowledged, as in Python). */
  hasSection(section: string): boolean {
    return this.#sections.has(section);
  }

  /** Option names of `section`: its own, then inherited ones from the default section. */
  options(section: string): string[] {
    const own = this.#sections.get(section);
    if (!own) throw this.#noSection(section);
    const names = [...own.keys()];
    for (const k of this.#defaults.keys()) if (!own.has(k)) names.push(k);
    return names;
  }

  /** Whether `section` has `option` (the default section included); `false` for an unknown section. */
  hasOption(section: string, option: string): boolean {
    const name = this.#xform(option);
    if (!section || section === this.defaultSection) return this.#defaults.has(name);
    const own = this.#sections.get(section);
    if (!own) return false;
    return own.has(name) || this.#defaults.has(name);
  }

  /** The options of the default section (raw, uninterpolated). */
  defaults(): Record<string, string> {
    return Object.fromEntries([...this.#defaults].map(([k, v]) => [k, joinValue(v)]));
  }

  /**
   * The value of `option` in `section` (falling back to the default
   * section), interpolated unless `raw`. Throws `NoSectionError` /
   * `NoOptionError` (as {@linkcode PythonConfigError}) when absent.
   */
  get(section: string, option: string, options: GetOptions = {}): string {
    const map = this.#lookupMap(section);
    const name = this.#xform(option);
    const value = map.get(name);
    if (value === undefined) throw this.#noOption(section, name);
    if (options.raw) return value;
    return this.#interpolate(section, name, value, map);
  }

  /** `getboolean`: `1 yes true on` / `0 no false off`, case-insensitive; anything else is a `ValueError`. */
  getBoolean(section: string, option: string): boolean {
    const value = this.get(section, option);
    const state = BOOLEAN_STATES[value.toLowerCase()];
    if (state === undefined || !Object.hasOwn(BOOLEAN_STATES, value.toLowerCase())) {
      throw this.#valueError(section, option, value, "a boolean (1/yes/true/on or 0/no/false/off)");
    }
    return state;
  }

  /**
   * `getint`: the value as Python's `int()` reads it (surrounding whitespace, `_` separators, sign).
   * Values beyond ±2^53 lose precision (JS number); read them with `get` and `BigInt` when that matters.
   */
  getInt(section: string, option: string): number {
    const value = this.get(section, option);
    const n = parsePyInt(value);
    if (n === undefined) throw this.#valueError(section, option, value, "an integer");
    return Number(n);
  }

  /** `getfloat`: the value as Python's `float()` reads it (`1e-3`, `.5`, `inf`, `nan`, ...). */
  getFloat(section: string, option: string): number {
    const value = this.get(section, option);
    const n = parsePyFloat(value);
    if (n === undefined) throw this.#valueError(section, option, value, "a number");
    return n;
  }

  /** The value evaluated as a Python literal ({@linkcode literalEval}); errors name section and option. */
  getLiteral(section: string, option: string): PyValue {
    const value = this.get(section, option);
    try {
      return literalEval(value);
    } catch (err) {
      const name = this.#xform(option);
      const where = this.#where(section, name);
      const inner = err instanceof PythonConfigError ? err : undefined;
      throw new PythonConfigError(
        `${locationPrefix({ ...where, section, option: name })}expected a Python literal, ${
          inner ? inner.message : String(err)
        }`,
        {
          pythonError: inner?.pythonError ?? "ValueError",
          ...where,
          section,
          option: name,
          value,
          cause: err,
        },
      );
    }
  }

  /**
   * The value as a set of strings, like the toolbox's `config_string_to_set_of_strings`
   * (`{str(s) for s in set(eval(value))}`): a set, list, tuple or dict literal (its keys);
   * items in first-seen order, duplicates dropped. Anything else is a `TypeError`.
   */
  getStringSet(section: string, option: string): string[] {
    const items = pyIterable(this.getLiteral(section, option));
    if (!items) {
      const value = this.get(section, option);
      throw this.#error("TypeError", `expected a set, list or dict literal, found ${quote(value)}`, {
        ...this.#where(section, this.#xform(option)),
        section,
        option: this.#xform(option),
        value,
      });
    }
    return [...new Set(items.map(pyStr))];
  }

  /** Interpolated options of `section` (default section merged in) as a record. */
  items(section: string): Record<string, string> {
    return Object.fromEntries(this.entries(section));
  }

  /**
   * Interpolated `[option, value]` pairs of `section` in Python's `items()`
   * order: default-section options first (overridden values in place), then
   * the section's own.
   */
  entries(section: string): [string, string][] {
    const map = this.#lookupMap(section);
    const order = [...this.#defaults.keys()];
    const own = this.#sections.get(section);
    if (own) { for (const k of own.keys()) if (!this.#defaults.has(k)) order.push(k); }
    return order.map((k) => [k, this.#interpolate(section, k, map.get(k) as string, map)]);
  }

  /**
   * Set `option` in `section` (Python `ConfigParser.set`): the value must be
   * valid interpolation syntax; the section must exist (or be the default section).
   */
  set(section: string, option: string, value: string): void {
    const stripped = value.replaceAll("%%", "").replace(/%\(([^)]+)\)s/g, "");
    const bad = stripped.indexOf("%");
    if (bad >= 0) {
      throw this.#error(
        "ValueError",
        `invalid interpolation syntax in ${quote(value)} at position ${bad}; write '%%' for a literal '%'`,
        { section, option },
      );
    }
    const target = !section || section === this.defaultSection ? this.#defaults : this.#sections.get(section);
    if (!target) throw this.#noSection(section);
    target.set(this.#xform(option), value);
  }

  /** Add an empty section; throws `DuplicateSectionError` if it exists, `ValueError` for the default section. */
  addSection(section: string): void {
    if (section === this.defaultSection) {
      throw this.#error("ValueError", `invalid section name: ${quote(section)}`, { section });
    }
    if (this.#sections.has(section)) {
      throw this.#error("DuplicateSectionError", `section [${section}] already exists`, { section });
    }
    this.#sections.set(section, new Map());
  }

  /** Where `option` of `section` was last read from (file and line), when known. */
  originOf(section: string, option: string): { file: string; line: number } | undefined {
    const name = this.#xform(option);
    return this.#origins.get(`${section}\0${name}`) ?? this.#origins.get(`${this.defaultSection}\0${name}`);
  }

  /**
   * The configuration as INI text in the layout of Python's `write()`
   * (raw values, `key = value`, continuation lines indented by a tab).
   */
  toIni(): string {
    const out: string[] = [];
    const write = (name: string, sect: Section) => {
      out.push(`[${name}]`);
      for (const [k, v] of sect) out.push(`${k} = ${joinValue(v).replaceAll("\n", "\n\t")}`);
      out.push("");
    };
    if (this.#defaults.size) write(this.defaultSection, this.#defaults);
    for (const [name, sect] of this.#sections) write(name, sect);
    return out.map((l) => `${l}\n`).join("");
  }

  #joinMultilineValues(): void {
    for (const sect of [this.#defaults, ...this.#sections.values()]) {
      for (const [k, v] of sect) if (Array.isArray(v)) sect.set(k, joinValue(v));
    }
  }

  /** The lookup chain for `section`: its options over the default section's. */
  #lookupMap(section: string): Map<string, string> {
    const own = this.#sections.get(section);
    if (!own && section !== this.defaultSection) throw this.#noSection(section);
    const map = new Map<string, string>();
    for (const [k, v] of this.#defaults) map.set(k, joinValue(v));
    if (own) { for (const [k, v] of own) map.set(k, joinValue(v)); }
    return map;
  }

  #interpolate(section: string, option: string, value: string, map: Map<string, string>): string {
    const accum: Accumulator = { parts: [], size: 0 };
    this.#interpolateSome(section, option, accum, value, map, 1, value);
    return accum.parts.join("");
  }

  /** Append `text` to `accum`, refusing values that grow beyond {@linkcode MAX_INTERPOLATED_LENGTH}. */
  #push(
    accum: Accumulator,
    text: string,
    section: string,
    option: string,
    rawval: string,
  ): void {
    const total = accum.size + text.length;
    if (total > MAX_INTERPOLATED_LENGTH) {
      throw this.#error(
        "InterpolationDepthError",
        `value ${quote(rawval.length > 80 ? rawval.slice(0, 80) + "..." : rawval)} expands to more than ` +
          `${MAX_INTERPOLATED_LENGTH} characters; refusing (nested '%(...)s' references repeat each other)`,
        { ...this.#where(section, option), section, option, value: rawval },
      );
    }
    accum.size = total;
    accum.parts.push(text);
  }

  /** Python `BasicInterpolation._interpolate_some`, step for step. */
  #interpolateSome(
    section: string,
    option: string,
    accum: Accumulator,
    rest: string,
    map: Map<string, string>,
    depth: number,
    rawval: string,
  ): void {
    if (depth > MAX_INTERPOLATION_DEPTH) {
      throw this.#error(
        "InterpolationDepthError",
        `value ${quote(rawval)} still contains '%(...)s' references after ${MAX_INTERPOLATION_DEPTH} ` +
          `substitution steps (a reference cycle?)`,
        { ...this.#where(section, option), section, option, value: rawval },
      );
    }
    while (rest) {
      const p = rest.indexOf("%");
      if (p < 0) {
        this.#push(accum, rest, section, option, rawval);
        return;
      }
      if (p > 0) {
        this.#push(accum, rest.slice(0, p), section, option, rawval);
        rest = rest.slice(p);
      }
      const c = rest.slice(1, 2);
      if (c === "%") {
        this.#push(accum, "%", section, option, rawval);
        rest = rest.slice(2);
      } else if (c === "(") {
        const m = KEY_RE.exec(rest);
        if (!m) {
          throw this.#error(
            "InterpolationSyntaxError",
            `bad interpolation variable reference ${quote(rest)}; expected '%(name)s'`,
            { ...this.#where(section, option), section, option, value: rawval },
          );
        }
        const name = this.#xform(m[1]);
        rest = rest.slice(m[0].length);
        const v = map.get(name);
        if (v === undefined) {
          throw this.#error(
            "InterpolationMissingOptionError",
            `value ${quote(rawval)} refers to '%(${m[1]})s', but there is no option '${name}' in ` +
              `[${section}] or [${this.defaultSection}]`,
            { ...this.#where(section, option), section, option, value: rawval },
          );
        }
        if (v.includes("%")) this.#interpolateSome(section, option, accum, v, map, depth + 1, rawval);
        else this.#push(accum, v, section, option, rawval);
      } else {
        throw this.#error(
          "InterpolationSyntaxError",
          `'%' must be followed by '%' or '(', found ${quote(rest)} in value ${quote(rawval)}; ` +
            `write '%%' for a literal '%'`,
          { ...this.#where(section, option), section, option, value: rawval },
        );
      }
    }
  }

  #where(section: string, option: string): { file?: string; line?: number } {
    const o = this.#origins.get(`${section}\0${option}`) ??
      this.#origins.get(`${this.defaultSection}\0${option}`);
    return o ? { file: o.file, line: o.line } : {};
  }

  #noSection(section: string): PythonConfigError {
    const known = this.sections();
    return this.#error(
      "NoSectionError",
      `no section [${section}] in ${this.#sourceList()}; sections are: ${known.join(", ") || "(none)"}`,
      { section, allowed: known },
    );
  }

  #noOption(section: string, option: string): PythonConfigError {
    const known = section === this.defaultSection ? [...this.#defaults.keys()] : this.options(section);
    return this.#error(
      "NoOptionError",
      `no option '${option}' in section [${section}] of ${this.#sourceList()}; options are: ${
        known.join(", ") || "(none)"
      }`,
      { section, option, allowed: known },
    );
  }

  #valueError(section: string, option: string, value: string, expected: string): PythonConfigError {
    const name = this.#xform(option);
    const where = this.#where(section, name);
    return this.#error("ValueError", `expected ${expected}, found ${quote(value)}`, {
      ...where,
      section,
      option: name,
      value,
    });
  }

  #sourceList(): string {
    return this.#sources.length ? this.#sources.join(", ") : "the configuration (nothing read yet)";
  }

  #error(
    pythonError: ConfigErrorDetails["pythonError"],
    what: string,
    d: Omit<ConfigErrorDetails, "pythonError">,
  ) {
    return new PythonConfigError(`${locationPrefix(d)}${what}`, { pythonError, ...d });
  }
}

/** The pieces of a value being interpolated and their total length. */
interface Accumulator {
  parts: string[];
  size: number;
}

function joinValue(v: string | string[]): string {
  return Array.isArray(v) ? pyRstrip(v.join("\n")) : v;
}

function decodeText(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new PythonConfigError(`${path}: expected UTF-8 text, found invalid byte sequences`, {
      pythonError: "ValueError",
      file: path,
      cause: err,
    });
  }
}
