/**
 * The last line of defence against raw errors: an error that is not a
 * {@linkcode SnnToolboxError} (a bug or a missing check in a reader, or a
 * dependency failing on a hostile file — an HDF5 library diagnostic, a
 * typed array too large to allocate, TF.js refusing a layer argument) is
 * turned into a {@linkcode ModelFormatError} that names the file and says
 * in one line what failed, keeping the original as `cause`.
 *
 * Readers should still throw their own precise errors; the closing
 * "(unexpected <ErrorName> in the reader)" marks the places where one is
 * missing (the fuzz harness counts them).
 *
 * @module
 */
import { ModelFormatError, SnnToolboxError } from "../errors.ts";
import { baseName } from "./paths.ts";

/** The deepest description in an HDF5 diagnostic (`#NNN: ... in FUNC(): what failed`). */
function hdf5Summary(message: string): string | undefined {
  if (!message.startsWith("HDF5-DIAG")) return undefined;
  const entries = [...message.matchAll(/#\d+: .*? in (\w+)\(\): (.+)$/gm)];
  if (!entries.length) return "HDF5 library error";
  const first = entries[0][2].trim();
  const last = entries[entries.length - 1][2].trim();
  return first === last ? `HDF5 library: ${first}` : `HDF5 library: ${first} (${last})`;
}

/** One line saying what `err` was, without stack or multi-line diagnostics. */
export function summarizeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const hdf5 = hdf5Summary(message);
  if (hdf5) return hdf5;
  const first = message.split("\n").find((l) => l.trim())?.trim() ?? "";
  const short = first.length > 300 ? `${first.slice(0, 300)}…` : first;
  if (err instanceof RangeError && /allocation failed|array length|Array buffer/i.test(message)) {
    return `a declared size is too large to allocate: ${short}`;
  }
  return short;
}

/**
 * `err` itself when it is a {@linkcode SnnToolboxError} (its message
 * prefixed with `file` when it does not name the file yet), else a
 * {@linkcode ModelFormatError} `"<file>: cannot <doing>: <summary> (unexpected
 * <ErrorName> in the reader)"` with `err` as its cause.
 */
export function asToolboxError(err: unknown, file: string, doing: string): SnnToolboxError {
  if (err instanceof SnnToolboxError) {
    if (!err.message.includes(baseName(file))) err.message = `${file}: ${err.message}`;
    return err;
  }
  const name = err instanceof Error ? err.name : typeof err;
  return new ModelFormatError(
    `${file}: cannot ${doing}: ${summarizeError(err)} (unexpected ${name} in the reader)`,
    {
      file,
      cause: err,
    },
  );
}

/** Run `fn`; rethrow any error through {@linkcode asToolboxError}. */
export async function withFileErrors<T>(file: string, doing: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asToolboxError(err, file, doing);
  }
}
