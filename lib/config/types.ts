/**
 * The configuration interface every stage reads from: a Python
 * `configparser`-style view of the resolved experiment configuration
 * (built-in defaults, overlaid by the user's INI file, interpolated).
 *
 * @module
 */

/** A Python literal value as `ast.literal_eval` returns it. */
export type PyValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | PyValue[]
  | PyTuple
  | PySet
  | PyDict;

/** A Python tuple (kept distinct from a list). */
export interface PyTuple {
  /** Discriminator. */
  readonly kind: "tuple";
  /** The items. */
  readonly items: PyValue[];
}

/** A Python set (items in first-seen order, deduplicated by value). */
export interface PySet {
  /** Discriminator. */
  readonly kind: "set";
  /** The items. */
  readonly items: PyValue[];
}

/** A Python dict (keys are literal values, kept in insertion order). */
export interface PyDict {
  /** Discriminator. */
  readonly kind: "dict";
  /** Key/value pairs in insertion order. */
  readonly entries: [PyValue, PyValue][];
}

/** Read access to a resolved experiment configuration (Python `configparser` semantics). */
export interface ToolboxConfig {
  /** The interpolated string value; throws `ConfigError` naming section and key when absent. */
  get(section: string, option: string): string;
  /** `configparser.getboolean`: `1 yes true on` / `0 no false off` (case-insensitive). */
  getBoolean(section: string, option: string): boolean;
  /** `configparser.getint`. */
  getInt(section: string, option: string): number;
  /** `configparser.getfloat`. */
  getFloat(section: string, option: string): number;
  /** The value evaluated as a Python literal (`ast.literal_eval` subset). */
  getLiteral(section: string, option: string): PyValue;
  /** Whether `section` has `option` (DEFAULT included). */
  hasOption(section: string, option: string): boolean;
  /** Section names, DEFAULT excluded, in file order. */
  sections(): string[];
  /**
   * Interpolated options of `section` (DEFAULT merged in). Keys as stored: lower-cased by a
   * default `ConfigParser`; kept as written by `updateSetup` (the toolbox uses `optionxform = str`).
   */
  items(section: string): Record<string, string>;
}
