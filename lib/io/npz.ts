/**
 * numpy `.npz` archives: ZIP files of `.npy` members as written by
 * `np.savez` (stored) and `np.savez_compressed` (deflate). Keys are the
 * member names without `.npy` (`arr_0`, `arr_1`, ... for positional arrays).
 *
 * @module
 */
import { fflate } from "../../deps.ts";
import { DatasetError } from "../errors.ts";
import type { NDArray } from "./ndarray.ts";
import { decodeNpy, encodeNpy } from "./npy.ts";
import { writeFileAtomic } from "./atomic.ts";
import { exceedsCeiling } from "./limits.ts";

/** Options of {@linkcode writeNpz}. */
export interface WriteNpzOptions {
  /** Deflate the members, like `np.savez_compressed` (default: stored, like `np.savez`). */
  compressed?: boolean;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot read .npz file: ${err instanceof Error ? err.message : err}`, {
      file: path,
      cause: err,
    });
  }
}

function unzip(
  bytes: Uint8Array,
  path: string,
  keep?: (name: string) => boolean,
): Record<string, Uint8Array> {
  const filter = (f: fflate.UnzipFileInfo): boolean => {
    if (keep && !keep(f.name)) return false;
    const tooBig = exceedsCeiling(f.originalSize);
    if (tooBig) throw new DatasetError(`${path}: member '${f.name}' declares ${tooBig}`, { file: path });
    return true;
  };
  try {
    return fflate.unzipSync(bytes, { filter });
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(
      `${path}: not a valid .npz (ZIP) archive: ${err instanceof Error ? err.message : err}`,
      { file: path, cause: err },
    );
  }
}

function keyOf(member: string): string {
  return member.endsWith(".npy") ? member.slice(0, -4) : member;
}

/** Decode every array of `.npz` bytes; `source` names the file in errors. */
export function decodeNpz(bytes: Uint8Array, source = "<npz bytes>"): Record<string, NDArray> {
  const members = unzip(bytes, source);
  const out: Record<string, NDArray> = {};
  for (const [name, data] of Object.entries(members)) {
    if (name.endsWith("/")) continue; // directory entry
    out[keyOf(name)] = decodeNpy(data, `${source}[${name}]`);
  }
  return out;
}

/** Read every array of a `.npz` file, keyed like numpy's `NpzFile` (`arr_0`, ...). */
export async function readNpz(path: string): Promise<Record<string, NDArray>> {
  return decodeNpz(await readBytes(path), path);
}

/**
 * Read one array of a `.npz` file (only that member is decompressed).
 * Throws a {@linkcode DatasetError} listing the keys present when `key` is missing.
 */
export async function readNpzArray(path: string, key = "arr_0"): Promise<NDArray> {
  const bytes = await readBytes(path);
  const members = unzip(bytes, path, (name) => keyOf(name) === key);
  const name = Object.keys(members)[0];
  if (name === undefined) {
    const all = listNpzKeys(bytes, path);
    throw new DatasetError(
      `${path}: no array '${key}' in the .npz archive (found: ${all.length ? all.join(", ") : "none"})`,
      { file: path },
    );
  }
  return decodeNpy(members[name], `${path}[${name}]`);
}

/** Keys of the arrays in `.npz` bytes, from the ZIP central directory (no decompression). */
function listNpzKeys(bytes: Uint8Array, path: string): string[] {
  const names: string[] = [];
  unzip(bytes, path, (name) => {
    if (!name.endsWith("/")) names.push(keyOf(name));
    return false;
  });
  return names;
}

/** Member timestamp (the DOS epoch, 1980-01-01): the same arrays always give the same bytes. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/** Encode arrays as `.npz` bytes (members `<key>.npy`). */
export function encodeNpz(arrays: Record<string, NDArray>, options: WriteNpzOptions = {}): Uint8Array {
  const level = options.compressed ? 6 : 0;
  const members: fflate.Zippable = {};
  for (const [key, arr] of Object.entries(arrays)) {
    members[`${key}.npy`] = [encodeNpy(arr), { level, mtime: FIXED_MTIME }];
  }
  return fflate.zipSync(members);
}

/** Write arrays to a `.npz` file atomically, stored or (`compressed`) deflated. */
export async function writeNpz(
  path: string,
  arrays: Record<string, NDArray> | NDArray[],
  options: WriteNpzOptions = {},
): Promise<void> {
  const named = Array.isArray(arrays) ? Object.fromEntries(arrays.map((a, i) => [`arr_${i}`, a])) : arrays;
  await writeFileAtomic(path, encodeNpz(named, options));
}
