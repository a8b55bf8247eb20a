/**
 * The memory ceiling every reader checks a declared array size against
 * before it allocates, so a file that claims 10¹² elements is refused at
 * once instead of exhausting the heap. Default 2 GiB; override with the
 * `SNNTOOLBOX_MAX_ARRAY_BYTES` environment variable or
 * {@linkcode setMaxArrayBytes}.
 *
 * @module
 */

const DEFAULT_MAX_ARRAY_BYTES = 2 * 1024 ** 3;
let override: number | undefined;

function fromEnv(): number | undefined {
  try {
    const v = Deno.env.get("SNNTOOLBOX_MAX_ARRAY_BYTES");
    const n = v === undefined ? NaN : Number(v);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined; // no --allow-env
  }
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
