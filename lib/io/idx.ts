/**
 * The IDX format of the MNIST distribution (`t10k-images-idx3-ubyte`, ...):
 * a big-endian header (two zero bytes, a type code, the number of
 * dimensions, one uint32 per dimension) followed by the elements.
 *
 * @module
 */
import { DatasetError } from "../errors.ts";
import type { NDArray } from "./ndarray.ts";
import { exceedsCeiling } from "./limits.ts";

interface IdxType {
  dtype: NDArray["dtype"];
  size: number;
  read: (view: DataView, offset: number) => number;
  make: (n: number) => Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array;
}

const TYPES: Record<number, IdxType> = {
  0x08: { dtype: "uint8", size: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  0x09: { dtype: "int8", size: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) },
  0x0b: { dtype: "int16", size: 2, read: (v, o) => v.getInt16(o), make: (n) => new Int16Array(n) },
  0x0c: { dtype: "int32", size: 4, read: (v, o) => v.getInt32(o), make: (n) => new Int32Array(n) },
  0x0d: { dtype: "float32", size: 4, read: (v, o) => v.getFloat32(o), make: (n) => new Float32Array(n) },
  0x0e: { dtype: "float64", size: 8, read: (v, o) => v.getFloat64(o), make: (n) => new Float64Array(n) },
};

/** Options of {@linkcode readIdx}. */
export interface ReadIdxOptions {
  /** Read only the first `limit` items (along the first dimension). */
  limit?: number;
  /** Expected magic number (e.g. 2051 for MNIST images, 2049 for labels); checked when given. */
  magic?: number;
}

function fail(source: string, what: string): never {
  throw new DatasetError(`${source}: not a valid IDX file: ${what}`, { file: source });
}

async function readExactly(file: Deno.FsFile, n: number, source: string, what: string): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await file.read(buf.subarray(got));
    if (r === null) fail(source, `file ends after ${got} of the ${n} bytes of ${what}`);
    got += r;
  }
  return buf;
}

/**
 * Read an IDX file (optionally only its first `limit` items) as an
 * {@linkcode NDArray}. Checks the magic number, the type code and that the
 * file holds the declared data; errors are {@linkcode DatasetError}s naming the file.
 */
export async function readIdx(path: string, options: ReadIdxOptions = {}): Promise<NDArray> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new DatasetError(`${path}: cannot open IDX file: ${err instanceof Error ? err.message : err}`, {
      file: path,
      cause: err,
    });
  }
  try {
    const head = await readExactly(file, 4, path, "the magic number");
    const magic = new DataView(head.buffer).getUint32(0);
    if (head[0] !== 0 || head[1] !== 0 || !(head[2] in TYPES) || head[3] === 0) {
      fail(path, `bad magic number 0x${magic.toString(16).padStart(8, "0")} (expected 0x0000TTNN)`);
    }
    if (options.magic !== undefined && magic !== options.magic) {
      fail(path, `magic number ${magic}, expected ${options.magic}`);
    }
    const type = TYPES[head[2]];
    const rank = head[3];
    const dimBytes = await readExactly(file, 4 * rank, path, "the dimensions");
    const dims = Array.from({ length: rank }, (_, i) => new DataView(dimBytes.buffer).getUint32(4 * i));
    const items = options.limit === undefined ? dims[0] : Math.min(dims[0], Math.max(0, options.limit));
    const shape = [items, ...dims.slice(1)];
    const count = shape.reduce((a, b) => a * b, 1);
    const available = (await file.stat()).size - 4 - 4 * rank;
    if (count * type.size > available) {
      fail(
        path,
        `${items} items of shape [${dims.join(", ")}] need ${
          count * type.size
        } bytes, the file has ${available}`,
      );
    }
    const tooBig = exceedsCeiling(count * type.size);
    if (tooBig) fail(path, `shape [${dims.join(", ")}] declares ${tooBig}`);
    const body = await readExactly(
      file,
      count * type.size,
      path,
      `${items} items of shape [${dims.join(", ")}]`,
    );
    const data = type.size === 1 && type.dtype === "uint8" ? body : type.make(count);
    if (data !== body) {
      const view = new DataView(body.buffer);
      for (let i = 0; i < count; i++) data[i] = type.read(view, i * type.size);
    }
    return { data, shape, dtype: type.dtype };
  } finally {
    file.close();
  }
}
