/**
 * Small helpers over h5wasm shared by every reader and writer of HDF5 files
 * (Keras models, parameter files): open with a clear error, read datasets as
 * {@linkcode NDArray}s, read attributes the way h5py writes them (variable-
 * and fixed-length strings, byte strings, numeric arrays), and write files
 * atomically.
 *
 * @module
 */
import { h5wasm } from "../../deps.ts";
import type { H5Dataset, H5File, H5Group } from "../../deps.ts";
import { ModelFormatError } from "../errors.ts";
import type { DType, NDArray, TypedArray } from "./ndarray.ts";
import { withAtomicOutput } from "./atomic.ts";
import { exceedsCeiling } from "./limits.ts";
import { summarizeError } from "./unexpected_errors.ts";

/** An open HDF5 file (h5wasm). Close it with `file.close()`. */
export type Hdf5File = H5File;
/** A group in an HDF5 file (a file is also a group). */
export type Hdf5Group = H5Group;
/** A dataset in an HDF5 file. */
export type Hdf5Dataset = H5Dataset;
/** Anything that carries attributes: file, group or dataset. */
export type Hdf5Object = Hdf5Group | Hdf5Dataset;

/** The 8-byte signature that starts an HDF5 superblock. */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The error to report when the HDF5 library itself fails on `path` (its
 * diagnostic stack, or its WASM module aborting): the file's HDF5
 * structures are damaged, said in one line. `undefined` for other errors.
 */
export function damagedHdf5Error(err: unknown, path: string): ModelFormatError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith("HDF5-DIAG")) {
    return new ModelFormatError(`${path}: damaged HDF5 file: ${summarizeError(err)}`, {
      file: path,
      cause: err,
    });
  }
  if (message.startsWith("Aborted(")) {
    return new ModelFormatError(`${path}: damaged HDF5 file: the HDF5 library aborted reading it`, {
      file: path,
      cause: err,
    });
  }
  return undefined;
}

let readyPromise: Promise<void> | undefined;

/**
 * Wait for h5wasm and make HDF5 library errors throw (instead of printing an
 * error stack to stderr and returning a bad id), so they can be wrapped.
 */
export function hdf5Ready(): Promise<void> {
  readyPromise ??= h5wasm.ready.then((module) => {
    module.activate_throwing_error_handler();
  });
  return readyPromise;
}

/** Whether `bytes` has the HDF5 signature at `offset`. */
function hasSignatureAt(bytes: Uint8Array, offset: number): boolean {
  return SIGNATURE.every((b, i) => bytes[offset + i] === b);
}

/**
 * Check that `path` exists and is an HDF5 file (signature at byte 0 or after
 * a user block at 512, 1024, 2048, ... as the HDF5 specification allows).
 * Throws a {@linkcode ModelFormatError} naming the file otherwise.
 */
export async function assertHdf5File(path: string): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new ModelFormatError(`${path}: cannot open HDF5 file: ${summarizeError(err)}`, {
      file: path,
      cause: err,
    });
  }
  try {
    const size = (await file.stat()).size;
    const head = new Uint8Array(8);
    for (let offset = 0; offset + 8 <= size && offset <= 1 << 24; offset = offset === 0 ? 512 : offset * 2) {
      await file.seek(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < 8) {
        const n = await file.read(head.subarray(got));
        if (n === null) break;
        got += n;
      }
      if (got === 8 && hasSignatureAt(head, 0)) return;
    }
    throw new ModelFormatError(
      `${path}: not an HDF5 file (no HDF5 signature "\\x89HDF\\r\\n\\x1a\\n" found in its ${size} bytes)`,
      { file: path },
    );
  } finally {
    file.close();
  }
}

/**
 * Open an existing HDF5 file for reading, after checking that it exists and
 * carries the HDF5 signature. Every failure is a {@linkcode ModelFormatError}
 * naming the file.
 */
export async function openHdf5(path: string): Promise<Hdf5File> {
  await assertHdf5File(path);
  await hdf5Ready();
  try {
    const file = new h5wasm.File(path, "r");
    if (file.file_id < 0n) throw new Error("H5Fopen failed");
    return file;
  } catch (err) {
    throw new ModelFormatError(`${path}: cannot read HDF5 file: ${summarizeError(err)}`, {
      file: path,
      cause: err,
    });
  }
}

/**
 * Create (truncate) an HDF5 file for writing at `path`. Prefer
 * {@linkcode writeHdf5Atomic}, which writes to a temporary file and renames it.
 */
export async function createHdf5(path: string): Promise<Hdf5File> {
  await hdf5Ready();
  try {
    const file = new h5wasm.File(path, "w");
    if (file.file_id < 0n) throw new Error("H5Fcreate failed");
    return file;
  } catch (err) {
    throw new ModelFormatError(`${path}: cannot create HDF5 file: ${summarizeError(err)}`, {
      file: path,
      cause: err,
    });
  }
}

/**
 * Write an HDF5 file atomically: `fill` receives a newly created file (a
 * temporary one beside `path`), which is closed and renamed to `path` when
 * `fill` succeeds and removed when it throws.
 */
export async function writeHdf5Atomic<T>(
  path: string,
  fill: (file: Hdf5File) => T | Promise<T>,
): Promise<T> {
  return await withAtomicOutput(path, async (tmp) => {
    const file = await createHdf5(tmp);
    let closed = false;
    try {
      const result = await fill(file);
      file.close();
      closed = true;
      return result;
    } finally {
      if (!closed) {
        try {
          file.close();
        } catch { /* already broken */ }
      }
    }
  });
}

/** Name of the file an HDF5 object belongs to, for error messages. */
function sourceOf(obj: Hdf5Object, source?: string): string {
  if (source) return source;
  const filename = (obj as { filename?: unknown }).filename;
  return typeof filename === "string" ? filename : "<HDF5 file>";
}

/** Our dtype for an h5wasm dataset's type metadata, or `undefined` when it has none. */
function dtypeOf(meta: Hdf5Dataset["metadata"]): DType | undefined {
  if (meta.type === 1) return meta.size === 4 ? "float32" : meta.size === 8 ? "float64" : undefined;
  if (meta.type === 0) {
    const bits = meta.size * 8;
    if (![8, 16, 32, 64].includes(bits)) return undefined;
    return `${meta.signed ? "int" : "uint"}${bits}` as DType;
  }
  // h5py stores numpy bools as an 8-bit enum {FALSE: 0, TRUE: 1}.
  if (meta.type === 8 && meta.size === 1) return "bool";
  return undefined;
}

/**
 * Read a numeric dataset (`name` relative to `parent`) as an {@linkcode NDArray}
 * in C order. Throws a {@linkcode ModelFormatError} naming the file and the
 * dataset when it is missing or not numeric.
 */
export function readDataset(parent: Hdf5Group, name: string, source?: string): NDArray {
  const file = sourceOf(parent, source);
  let entity: unknown;
  try {
    entity = parent.get(name);
  } catch (err) {
    throw new ModelFormatError(`${file}: cannot read dataset '${name}': ${summarizeError(err)}`, {
      file,
      cause: err,
    });
  }
  if (!(entity instanceof h5wasm.Dataset)) {
    const found = entity === null || entity === undefined ? "nothing" : (entity as object).constructor.name;
    throw new ModelFormatError(`${file}: expected a dataset at '${name}', found ${found}`, { file });
  }
  return datasetToNDArray(entity, file);
}

/** Convert an h5wasm dataset to an {@linkcode NDArray} (see {@linkcode readDataset}). */
export function datasetToNDArray(ds: Hdf5Dataset, source = "<HDF5 file>"): NDArray {
  try {
    const meta = ds.metadata;
    const dtype = dtypeOf(meta);
    if (dtype === undefined) {
      throw new ModelFormatError(
        `${source}: dataset '${ds.path}' has HDF5 type ${meta.type} of ${meta.size} bytes; ` +
          "expected a float32/float64/integer/bool array",
        { file: source },
      );
    }
    const shape = ds.shape ?? [];
    const tooBig = exceedsCeiling(shape.reduce((a, b) => a * b, 1) * meta.size);
    if (tooBig) {
      throw new ModelFormatError(
        `${source}: dataset '${ds.path}' of shape [${shape.join(", ")}] declares ${tooBig}`,
        { file: source },
      );
    }
    const value = ds.value;
    let data: TypedArray;
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) data = value as TypedArray;
    else if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
      data = scalarArray(dtype, value);
    } else {
      throw new ModelFormatError(`${source}: dataset '${ds.path}' did not read as a numeric array`, {
        file: source,
      });
    }
    if (dtype === "bool" && !(data instanceof Uint8Array)) data = Uint8Array.from(data as ArrayLike<number>);
    return { data, shape: [...shape], dtype };
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(`${source}: cannot read dataset '${ds.path}': ${summarizeError(err)}`, {
      file: source,
      cause: err,
    });
  }
}

function scalarArray(dtype: DType, v: number | bigint | boolean): TypedArray {
  switch (dtype) {
    case "int64":
      return BigInt64Array.of(BigInt(v));
    case "uint64":
      return BigUint64Array.of(BigInt(v));
    case "float32":
      return Float32Array.of(Number(v));
    case "float64":
      return Float64Array.of(Number(v));
    case "int8":
      return Int8Array.of(Number(v));
    case "int16":
      return Int16Array.of(Number(v));
    case "int32":
      return Int32Array.of(Number(v));
    case "uint16":
      return Uint16Array.of(Number(v));
    case "uint32":
      return Uint32Array.of(Number(v));
    default:
      return Uint8Array.of(Number(v));
  }
}

/** Write an {@linkcode NDArray} as a dataset `name` of `parent`, keeping its dtype (bool as uint8). */
export function writeDataset(parent: Hdf5Group, name: string, arr: NDArray): Hdf5Dataset {
  return parent.create_dataset({ name, data: arr.data, shape: [...arr.shape] });
}

function attributeValue(obj: Hdf5Object, name: string): unknown {
  const attrs = obj.attrs;
  if (!(name in attrs)) return undefined;
  return attrs[name].value;
}

function decodeText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/**
 * A string attribute as h5py writes it (variable- or fixed-length, UTF-8 or
 * ASCII, `str` or `bytes`), or `undefined` when absent. A one-element string
 * array is accepted too. Throws {@linkcode ModelFormatError} when it is not text.
 */
export function readStringAttr(obj: Hdf5Object, name: string, source?: string): string | undefined {
  const v = attributeValue(obj, name);
  if (v === undefined || v === null) return undefined;
  const text = decodeText(Array.isArray(v) && v.length === 1 ? v[0] : v);
  if (text === undefined) {
    const file = sourceOf(obj, source);
    throw new ModelFormatError(`${file}: attribute '${name}' of '${obj.path}' is not a string`, { file });
  }
  return text;
}

/**
 * A string-array attribute as h5py writes it (e.g. Keras `layer_names`,
 * `weight_names`: numpy arrays of fixed-length byte strings), or `undefined`
 * when absent. A scalar string becomes a one-element array.
 */
export function readStringArrayAttr(obj: Hdf5Object, name: string, source?: string): string[] | undefined {
  const v = attributeValue(obj, name);
  if (v === undefined || v === null) return undefined;
  const items = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const item of items) {
    const text = decodeText(item);
    if (text === undefined) {
      const file = sourceOf(obj, source);
      throw new ModelFormatError(`${file}: attribute '${name}' of '${obj.path}' is not an array of strings`, {
        file,
      });
    }
    out.push(text);
  }
  return out;
}

/** A numeric attribute (scalar or array) as numbers, or `undefined` when absent. */
export function readNumberArrayAttr(obj: Hdf5Object, name: string, source?: string): number[] | undefined {
  const v = attributeValue(obj, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return [Number(v)];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
  }
  if (Array.isArray(v) && v.every((x) => typeof x === "number" || typeof x === "bigint")) {
    return v.map((x) => Number(x));
  }
  const file = sourceOf(obj, source);
  throw new ModelFormatError(`${file}: attribute '${name}' of '${obj.path}' is not numeric`, { file });
}

/** Names of the attributes of `obj`. */
export function attrNames(obj: Hdf5Object): string[] {
  return Object.keys(obj.attrs);
}
