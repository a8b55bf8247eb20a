/**
 * Small path and file helpers shared by the model libraries: the folder,
 * name and stem of a path (`/` or `\` separated, no normalization), whether
 * a file exists — the model libraries look for companion files (weights
 * beside an architecture, parameters beside a build script) with these —
 * and reading a model file with a {@linkcode ModelFormatError} naming it.
 *
 * @module
 */
import { ModelFormatError } from "../errors.ts";

/** The last `/`- or `\`-separated component of `path` (`lenet.h5` for `models/lenet.h5`). */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/**
 * The folder part of `path`: `.` when it has none, `/` for a file in the
 * root (`models` for `models/lenet.h5`).
 */
export function dirName(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** `name` inside folder `dir`, without a doubled separator (`/` + `x` → `/x`). */
export function joinPath(dir: string, name: string): string {
  return /[\\/]$/.test(dir) ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * `path` without its extension: the last `.xxx` of its name, or — when
 * `extensions` is given (with or without the dot, matched case-insensitively,
 * longest first) — only one of those (`net` for `net.caffemodel.h5` with
 * `["caffemodel.h5"]`; `net.v2` unchanged with `["h5"]`).
 */
export function stripExtension(path: string, extensions?: readonly string[]): string {
  if (extensions === undefined) return path.replace(/\.[^./\\]*$/, "");
  const lower = path.toLowerCase();
  const sorted = extensions.map((e) => (e.startsWith(".") ? e : `.${e}`).toLowerCase())
    .sort((a, b) => b.length - a.length);
  const hit = sorted.find((e) => lower.endsWith(e) && lower.length > e.length);
  return hit === undefined ? path : path.slice(0, path.length - hit.length);
}

/** Whether `path` is an existing regular file (after links); `false` on any error. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Synchronous {@linkcode isFile}. */
export function isFileSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The first of `candidates` that is an existing file, or `undefined`. */
export async function firstFile(candidates: readonly string[]): Promise<string | undefined> {
  for (const c of candidates) if (await isFile(c)) return c;
  return undefined;
}

/** Read `what` (e.g. `Caffe weights`) at `path`; a {@linkcode ModelFormatError} naming the file and the reason otherwise. */
export async function readModelFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw cannotRead(path, what, err);
  }
}

/** {@linkcode readModelFile} as UTF-8 text. */
export async function readModelTextFile(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw cannotRead(path, what, err);
  }
}

function cannotRead(path: string, what: string, err: unknown): ModelFormatError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ModelFormatError(`${path}: cannot read ${what}: ${reason}`, { file: path, cause: err });
}
