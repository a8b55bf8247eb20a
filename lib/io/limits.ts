/**
 * The memory ceiling every reader checks a declared array size against
 * before it allocates, so a file that claims 10¹² elements is refused at
 * once instead of exhausting the heap. Default 2 GiB; override with the
 * `SNNTOOLBOX_MAX_ARRAY_BYTES` environment variable (`SNNTOOLBOX_MAX_ALLOC`
 * is accepted as an alias; suffixes K, M, G allowed, e.g. `512M`) or
 * {@linkcode setMaxArrayBytes}.
 *
 * @module
 */
import { ModelFormatError, type SnnToolboxError, type SnnToolboxErrorOptions } from "../errors.ts";

const DEFAULT_MAX_ARRAY_BYTES = 2 * 1024 ** 3;
let override: number | undefined;

/** Bytes from `"1073741824"`, `"512M"`, `"2G"`, `"64k"`; `undefined` for anything else. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase()] ?? 1;
  const n = Math.floor(Number(m[1]) * scale);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function fromEnv(): number | undefined {
  for (const name of ["SNNTOOLBOX_MAX_ARRAY_BYTES", "SNNTOOLBOX_MAX_ALLOC"]) {
    let v: string | undefined;
    try {
      v = Deno.env.get(name);
    } catch {
      return undefined; // no --allow-env
    }
    const n = v === undefined ? undefined : parseByteSize(v);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** Largest array (in bytes) a reader may allocate. */
export function maxArrayBytes(): number {
  return override ?? fromEnv() ?? DEFAULT_MAX_ARRAY_BYTES;
}

/** Set the ceiling of {@linkcode maxArrayBytes} (`undefined` restores the default / environment value). */
export function setMaxArrayBytes(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isFinite(bytes) && bytes > 0)) {
    throw new RangeError(`maximum array size must be a positive number of bytes, got ${bytes}`);
  }
  override = bytes;
}

/** `undefined` when `bytes` fits the ceiling, else a sentence saying by how much it does not. */
export function exceedsCeiling(bytes: number): string | undefined {
  const max = maxArrayBytes();
  if (bytes <= max) return undefined;
  return `${bytes} bytes exceed the limit of ${max} bytes (SNNTOOLBOX_MAX_ARRAY_BYTES)`;
}

/** What {@linkcode checkAllocation} is asked to allow. */
export interface AllocationRequest {
  /** The file the size was declared in (named in the error). */
  file: string;
  /** What is about to be allocated, e.g. `tensor 'conv1.weight'` or `dataset '/x'`. */
  what: string;
  /** Declared dimensions (each must be a non-negative safe integer). */
  shape: readonly number[];
  /** Bytes per element. */
  itemBytes: number;
  /**
   * Bytes the file can hold for this array at most (uncompressed data must
   * fit in it); omit when the data may be compressed.
   */
  availableBytes?: number;
  /** Error class to throw (default {@linkcode ModelFormatError}). */
  errorClass?: new (message: string, options?: SnnToolboxErrorOptions) => SnnToolboxError;
}

/**
 * Validate a declared array size before allocating it: every dimension a
 * non-negative safe integer, the byte size within the ceiling and, when
 * `availableBytes` is given, within what the file holds. Returns the byte
 * size; throws (by default {@linkcode ModelFormatError}) naming the file,
 * the array, the declared shape and what limit it breaks.
 */
export function checkAllocation(req: AllocationRequest): number {
  const Err = req.errorClass ?? ModelFormatError;
  const shape = `[${req.shape.join(", ")}]`;
  if (req.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Err(`${req.file}: ${req.what} declares invalid dimensions ${shape}`, { file: req.file });
  }
  const bytes = req.shape.reduce((a, b) => a * b, 1) * req.itemBytes;
  const tooBig = exceedsCeiling(bytes);
  if (tooBig) {
    throw new Err(`${req.file}: ${req.what} of shape ${shape} is too large: ${tooBig}`, { file: req.file });
  }
  if (req.availableBytes !== undefined && bytes > req.availableBytes) {
    throw new Err(
      `${req.file}: ${req.what} of shape ${shape} needs ${bytes} bytes but the file holds only ` +
        `${req.availableBytes} for it (truncated or corrupt file)`,
      { file: req.file },
    );
  }
  return bytes;
}
