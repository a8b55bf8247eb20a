/**
 * The toolbox's one set of path and file helpers: the folder, name and stem
 * of a path (`/` or `\` separated, no normalization), joining a folder and a
 * name like Python's `os.path.join`, whether a path or file exists — the
 * model libraries look for companion files (weights beside an architecture,
 * parameters beside a build script) with these, the pipeline for the model
 * and data files — and reading a model file with a
 * {@linkcode ModelFormatError} naming it.
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

/** Whether `path` is absolute: `/…`, or a Windows drive path `C:\…` / `C:/…`. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path);
}

/**
 * `name` inside folder `dir` like Python's `os.path.join(dir, name)`: an
 * absolute `name` stands alone and an empty `dir` adds nothing; trailing
 * separators of `dir` become one (`/` + `x` → `/x`, `out//` + `x` → `out/x`).
 */
export function joinPath(dir: string, name: string): string {
  if (dir === "" || isAbsolutePath(name)) return name;
  const trailing = /[\\/]+$/.exec(dir);
  return trailing ? `${dir.slice(0, trailing.index)}${trailing[0][0]}${name}` : `${dir}/${name}`;
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

/** Whether anything (a file, a folder, …) exists at `path` (after links); `false` on any error. */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
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
