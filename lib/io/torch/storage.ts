/**
 * Typed storages of PyTorch files: the storage classes a `torch.save`
 * pickle names (`torch.FloatStorage`, `torch.LongStorage`, ...), their
 * element sizes, and how a tensor view (`storage_offset`, `size`, `stride`)
 * of raw storage bytes becomes an {@linkcode NDArray} in C order.
 * `float16` and `bfloat16` storages are widened to `float32`.
 *
 * @module
 */
import type { DType, NDArray, TypedArray } from "../ndarray.ts";

/** What a storage class holds. */
export interface StorageType {
  /** The torch class name (`FloatStorage`). */
  name: string;
  /** Element type as read from the file. */
  element:
    | "float32"
    | "float64"
    | "float16"
    | "bfloat16"
    | "int64"
    | "int32"
    | "int16"
    | "int8"
    | "uint8"
    | "bool";
  /** Bytes per element. */
  size: number;
}

/** Storage classes a `torch.save` pickle may name, by `torch.<name>`. */
export const STORAGE_TYPES: ReadonlyMap<string, StorageType> = new Map(
  ([
    ["FloatStorage", "float32", 4],
    ["DoubleStorage", "float64", 8],
    ["HalfStorage", "float16", 2],
    ["BFloat16Storage", "bfloat16", 2],
    ["LongStorage", "int64", 8],
    ["IntStorage", "int32", 4],
    ["ShortStorage", "int16", 2],
    ["CharStorage", "int8", 1],
    ["ByteStorage", "uint8", 1],
    ["BoolStorage", "bool", 1],
  ] as const).map(([name, element, size]) => [`torch.${name}`, { name, element, size }]),
);

/** The dtype of the {@linkcode NDArray} a storage element type decodes to. */
export function decodedDType(element: StorageType["element"]): DType {
  return element === "float16" || element === "bfloat16" ? "float32" : element;
}

/** IEEE half precision bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "int32":
      return new Int32Array(n);
    case "int16":
      return new Int16Array(n);
    case "int8":
      return new Int8Array(n);
    default:
      return new Uint8Array(n);
  }
}

/** A reader of element `i` of raw storage bytes into a value of the decoded array. */
function elementReader(type: StorageType, raw: Uint8Array, little: boolean): (i: number) => number | bigint {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (type.element) {
    case "float32":
      return (i) => v.getFloat32(i * 4, little);
    case "float64":
      return (i) => v.getFloat64(i * 8, little);
    case "float16":
      return (i) => halfToFloat(v.getUint16(i * 2, little));
    case "bfloat16": {
      const f = new DataView(new ArrayBuffer(4));
      return (i) => {
        f.setUint32(0, v.getUint16(i * 2, little) << 16);
        return f.getFloat32(0);
      };
    }
    case "int64":
      return (i) => v.getBigInt64(i * 8, little);
    case "int32":
      return (i) => v.getInt32(i * 4, little);
    case "int16":
      return (i) => v.getInt16(i * 2, little);
    case "int8":
      return (i) => v.getInt8(i);
    case "bool":
      return (i) => (v.getUint8(i) ? 1 : 0);
    default:
      return (i) => v.getUint8(i);
  }
}

/** A tensor view of a storage, as `_rebuild_tensor_v2` describes it. */
export interface TensorView {
  /** First element in the storage. */
  offset: number;
  /** Dimensions. */
  shape: number[];
  /** Element strides of each dimension. */
  stride: number[];
}

/**
 * The largest storage index `view` reads (−1 for an empty tensor); the
 * caller checks it against the storage's element count before decoding.
 */
export function lastIndex(view: TensorView): number {
  if (view.shape.some((d) => d === 0)) return -1;
  return view.shape.reduce((acc, d, k) => acc + (d - 1) * view.stride[k], view.offset);
}

/** Decode `view` of storage bytes `raw` into a C-order array. */
export function decodeView(type: StorageType, raw: Uint8Array, view: TensorView, little: boolean): NDArray {
  const dtype = decodedDType(type.element);
  const n = view.shape.reduce((a, b) => a * b, 1);
  const out = allocate(dtype, n);
  const read = elementReader(type, raw, little);
  const rank = view.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = view.offset;
  for (let i = 0; i < n; i++) {
    (out as unknown as (number | bigint)[])[i] = read(src);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += view.stride[d];
      if (idx[d] < view.shape[d]) break;
      src -= idx[d] * view.stride[d];
      idx[d] = 0;
    }
  }
  return { data: out, shape: [...view.shape], dtype };
}
