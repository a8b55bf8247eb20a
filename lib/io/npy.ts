/**
 * numpy `.npy` files: read format versions 1.0, 2.0 and 3.0 with every
 * numeric dtype numpy writes by default, either byte order and either memory
 * order (returned as native-endian, C-order {@linkcode NDArray}s), and write
 * little-endian C-order version 1.0 files (2.0 when the header needs it).
 *
 * @module
 */
import { DatasetError } from "../errors.ts";
import { type DType, type NDArray, sizeOf, type TypedArray } from "./ndarray.ts";
import { writeFileAtomic } from "./atomic.ts";
import { exceedsCeiling } from "./limits.ts";
import { transposeArray } from "./layout.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const HEADER_ALIGN = 64;

interface DTypeInfo {
  dtype: DType;
  itemsize: number;
  make: (buffer: ArrayBuffer, length: number) => TypedArray;
}

/** numpy type characters (`descr` without byte order) → our dtypes. */
const DTYPES: Record<string, DTypeInfo> = {
  f4: { dtype: "float32", itemsize: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { dtype: "float64", itemsize: 8, make: (b, n) => new Float64Array(b, 0, n) },
  i1: { dtype: "int8", itemsize: 1, make: (b, n) => new Int8Array(b, 0, n) },
  i2: { dtype: "int16", itemsize: 2, make: (b, n) => new Int16Array(b, 0, n) },
  i4: { dtype: "int32", itemsize: 4, make: (b, n) => new Int32Array(b, 0, n) },
  i8: { dtype: "int64", itemsize: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u1: { dtype: "uint8", itemsize: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  u2: { dtype: "uint16", itemsize: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  u4: { dtype: "uint32", itemsize: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  u8: { dtype: "uint64", itemsize: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  b1: { dtype: "bool", itemsize: 1, make: (b, n) => new Uint8Array(b, 0, n) },
};

const DESCR_OF: Record<DType, string> = {
  float32: "<f4",
  float64: "<f8",
  int8: "|i1",
  int16: "<i2",
  int32: "<i4",
  int64: "<i8",
  uint8: "|u1",
  uint16: "<u2",
  uint32: "<u4",
  uint64: "<u8",
  bool: "|b1",
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The parsed header of a `.npy` file. */
export interface NpyHeader {
  /** Format version `[major, minor]`. */
  version: [number, number];
  /** numpy dtype descriptor as written, e.g. `"<f4"`. */
  descr: string;
  /** Whether the data is in Fortran (column-major) order. */
  fortranOrder: boolean;
  /** Array shape. */
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
}

function fail(source: string, what: string, cause?: unknown): never {
  throw new DatasetError(`${source}: not a valid .npy array: ${what}`, { file: source, cause });
}

/** Magic string, version and header length from the first bytes of a `.npy` (10 or 12 suffice). */
function headerExtent(
  bytes: Uint8Array,
  source: string,
): { major: number; minor: number; start: number; dataOffset: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(
      source,
      `expected the magic string "\\x93NUMPY" at the start, found ${bytes.length} bytes without it`,
    );
  }
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3) {
    fail(source, `unsupported format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) fail(source, "file ends inside the header length");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return { major, minor, start, dataOffset: start + headerLen };
}

/** Parse and validate the header of `.npy` bytes (no data is copied). */
export function parseNpyHeader(bytes: Uint8Array, source = "<npy bytes>"): NpyHeader {
  const { major, minor, start, dataOffset } = headerExtent(bytes, source);
  if (dataOffset > bytes.length) {
    fail(
      source,
      `header declares ${dataOffset - start} bytes but the file has only ${bytes.length - start} after it`,
    );
  }
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, dataOffset));
  const dict = parseHeaderDict(text, source);
  return { version: [major, minor], ...dict, dataOffset };
}

/** Parse the Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. */
function parseHeaderDict(text: string, source: string): Pick<NpyHeader, "descr" | "fortranOrder" | "shape"> {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  if (!descr) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(text);
    fail(
      source,
      structured ? "structured (record) dtypes are not supported" : `no 'descr' in header ${text.trim()}`,
    );
  }
  const order = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!order) fail(source, `no 'fortran_order' True/False in header ${text.trim()}`);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shapeMatch) fail(source, `no 'shape' tuple in header ${text.trim()}`);
  const shape: number[] = [];
  for (const part of shapeMatch[1].split(",")) {
    const t = part.trim().replace(/L$/, "");
    if (t === "") continue;
    if (!/^\d+$/.test(t)) fail(source, `shape entry '${t}' is not a non-negative integer`);
    shape.push(Number(t));
  }
  return { descr: descr[1], fortranOrder: order[1] === "True", shape };
}

function dtypeInfo(descr: string, source: string): { info: DTypeInfo; bigEndian: boolean } {
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  const info = m ? DTYPES[m[2]] : undefined;
  if (!m || !info) {
    fail(
      source,
      `unsupported dtype '${descr}' (expected one of ${
        Object.keys(DTYPES).join(", ")
      } with byte order < > | =)`,
    );
  }
  const bigEndian = m[1] === ">" || (m[1] === "=" && !HOST_LITTLE_ENDIAN);
  return { info, bigEndian };
}

function swapBytes(bytes: Uint8Array, itemsize: number): void {
  if (itemsize === 1) return;
  for (let i = 0; i < bytes.length; i += itemsize) {
    for (let a = i, b = i + itemsize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Reorder elements of a Fortran-order (column-major) array into C order: its
 * data is the C-order array of the reversed shape, transposed back.
 */
function fortranToC<T extends TypedArray>(src: T, shape: number[]): T {
  const rank = shape.length;
  if (rank < 2 || src.length === 0) return src;
  return transposeArray(src, [...shape].reverse(), Array.from({ length: rank }, (_, i) => rank - 1 - i));
}

/** Check the data size a header declares against the bytes present; returns the data length. */
function checkDataSize(header: NpyHeader, itemsize: number, found: number, source: string): number {
  const expected = sizeOf(header.shape) * itemsize;
  const what = `shape [${header.shape.join(", ")}] of '${header.descr}'`;
  const tooBig = exceedsCeiling(expected);
  if (tooBig) fail(source, `${what} declares ${tooBig}`);
  if (found !== expected) {
    fail(
      source,
      `${what} needs ${expected} data bytes, found ${found}` + (found < expected ? " (truncated file?)" : ""),
    );
  }
  return expected;
}

/** Turn owned data bytes (either byte order, C or Fortran order) into a native C-order {@linkcode NDArray}. */
function finish(header: NpyHeader, data: Uint8Array, source: string): NDArray {
  const { info, bigEndian } = dtypeInfo(header.descr, source);
  if (bigEndian === HOST_LITTLE_ENDIAN) swapBytes(data, info.itemsize);
  let arr = info.make(data.buffer as ArrayBuffer, sizeOf(header.shape));
  if (header.fortranOrder) arr = fortranToC(arr, header.shape);
  return { data: arr, shape: header.shape, dtype: info.dtype };
}

/** Decode `.npy` bytes; `source` (a file name) is used in error messages. */
export function decodeNpy(bytes: Uint8Array, source = "<npy bytes>"): NDArray {
  const header = parseNpyHeader(bytes, source);
  const { info } = dtypeInfo(header.descr, source);
  const length = checkDataSize(header, info.itemsize, bytes.length - header.dataOffset, source);
  return finish(header, bytes.slice(header.dataOffset, header.dataOffset + length), source);
}

/** Fill `buf` from the current position of `file`. */
async function readInto(file: Deno.FsFile, buf: Uint8Array, source: string): Promise<void> {
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) fail(source, `file ends after ${got} of ${buf.length} expected bytes`);
    got += n;
  }
}

/**
 * Read a `.npy` array from a file path or from its bytes. A file's header is
 * validated against its size before the data is allocated, and the data is
 * read once, straight into the result. Errors are {@linkcode DatasetError}s
 * naming the file.
 */
export async function readNpy(source: string | Uint8Array): Promise<NDArray> {
  if (typeof source !== "string") return decodeNpy(source);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(source, { read: true });
  } catch (err) {
    throw new DatasetError(`${source}: cannot read .npy file: ${err instanceof Error ? err.message : err}`, {
      file: source,
      cause: err,
    });
  }
  try {
    const size = (await file.stat()).size;
    const prefix = new Uint8Array(Math.min(size, 12));
    await readInto(file, prefix, source);
    const { start, dataOffset } = headerExtent(prefix, source);
    if (dataOffset > size) {
      fail(
        source,
        `header declares ${dataOffset - start} bytes but the file has only ${size - start} after it`,
      );
    }
    const head = new Uint8Array(dataOffset);
    head.set(prefix.subarray(0, Math.min(prefix.length, dataOffset)));
    if (dataOffset > prefix.length) await readInto(file, head.subarray(prefix.length), source);
    const header = parseNpyHeader(head, source);
    const { info } = dtypeInfo(header.descr, source);
    const length = checkDataSize(header, info.itemsize, size - dataOffset, source);
    const data = new Uint8Array(length);
    const already = prefix.subarray(Math.min(prefix.length, dataOffset));
    data.set(already);
    await readInto(file, data.subarray(already.length), source);
    return finish(header, data, source);
  } finally {
    file.close();
  }
}

function shapeLiteral(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** Encode an array as `.npy` bytes (little-endian, C order; version 1.0, or 2.0 for huge headers). */
export function encodeNpy(arr: NDArray): Uint8Array {
  const descr = DESCR_OF[arr.dtype];
  if (!descr) throw new DatasetError(`cannot encode dtype '${arr.dtype}' as .npy`);
  if (arr.data.length !== sizeOf(arr.shape)) {
    throw new DatasetError(
      `cannot encode .npy: ${arr.data.length} elements do not fit shape [${arr.shape.join(", ")}]`,
    );
  }
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeLiteral(arr.shape)}, }`;
  let major = 1;
  let prefix = 10;
  let total = prefix + dict.length + 1;
  if (Math.ceil(total / HEADER_ALIGN) * HEADER_ALIGN - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = prefix + dict.length + 1;
  }
  const padded = Math.ceil(total / HEADER_ALIGN) * HEADER_ALIGN;
  const header = dict + " ".repeat(padded - total) + "\n";
  const dataBytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(padded + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(dataBytes, padded);
  if (!HOST_LITTLE_ENDIAN) swapBytes(out.subarray(padded), arr.data.BYTES_PER_ELEMENT);
  return out;
}

/** Write an array to a `.npy` file atomically. */
export async function writeNpy(path: string, arr: NDArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(arr));
}
