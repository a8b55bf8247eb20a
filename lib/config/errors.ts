/**
 * The configuration error type: a {@linkcode ConfigError} that also names the
 * Python exception the Python toolbox (and its `configparser`) would raise in
 * the same situation, plus where it happened.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/** Names of the Python exceptions a configuration problem corresponds to. */
export type PythonErrorName =
  | "DuplicateSectionError"
  | "DuplicateOptionError"
  | "MissingSectionHeaderError"
  | "ParsingError"
  | "NoSectionError"
  | "NoOptionError"
  | "InterpolationDepthError"
  | "InterpolationMissingOptionError"
  | "InterpolationSyntaxError"
  | "ValueError"
  | "SyntaxError"
  | "TypeError"
  | "AssertionError"
  | "RuntimeWarning"
  | "FileNotFoundError";

/** Where a configuration error happened (every field optional). */
export interface ConfigErrorDetails {
  /** The Python exception class this error mirrors. */
  pythonError: PythonErrorName;
  /** The file (or source name) being read. */
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
  /** The INI section. */
  section?: string;
  /** The option (key) in `section`. */
  option?: string;
  /** The offending value. */
  value?: string;
  /** The values that would have been accepted. */
  allowed?: readonly string[];
  /** The lower-level error, if any. */
  cause?: unknown;
}

/**
 * A {@linkcode ConfigError} with the equivalent Python exception name
 * (`pythonError`) and the location (file, line, section, option) it is about.
 */
export class PythonConfigError extends ConfigError {
  /** The Python exception class this error mirrors, e.g. `"NoOptionError"`. */
  readonly pythonError: PythonErrorName;
  /** 1-based line number in `file`, when known. */
  readonly line?: number;
  /** The INI section, when known. */
  readonly section?: string;
  /** The option (key), when known. */
  readonly option?: string;
  /** The offending value, when there is one. */
  readonly value?: string;
  /** The accepted values, when the set is known. */
  readonly allowed?: readonly string[];

  /** Create an error; `message` should already name what was expected and found. */
  constructor(message: string, details: ConfigErrorDetails) {
    super(message, { file: details.file, cause: details.cause });
    this.pythonError = details.pythonError;
    this.line = details.line;
    this.section = details.section;
    this.option = details.option;
    this.value = details.value;
    this.allowed = details.allowed;
  }
}

/** `file, line N, [section] option: ` — the location prefix of a message (parts that are known). */
export function locationPrefix(
  d: { file?: string; line?: number; section?: string; option?: string },
): string {
  const parts: string[] = [];
  if (d.file !== undefined) parts.push(d.line !== undefined ? `${d.file}:${d.line}` : d.file);
  else if (d.line !== undefined) parts.push(`line ${d.line}`);
  if (d.section !== undefined) {
    parts.push(d.option !== undefined ? `[${d.section}] ${d.option}` : `[${d.section}]`);
  } else if (d.option !== undefined) parts.push(d.option);
  return parts.length ? `${parts.join(": ")}: ` : "";
}
