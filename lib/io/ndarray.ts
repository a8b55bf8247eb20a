/**
 * A minimal n-dimensional array: a typed array in C (row-major) order plus
 * its shape and numpy-style dtype name. Used for datasets (`.npy`/`.npz`)
 * and layer parameters, independent of TensorFlow.js tensors; every stage
 * that needs float32 values of any array converts with {@linkcode toFloat32}.
 *
 * @module
 */

/** numpy dtype names the toolbox reads and writes. */
export type DType =
  | "float32"
  | "float64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool";

/** Any typed array an {@linkcode NDArray} may hold. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** An n-dimensional array in C order. */
export interface NDArray<T extends TypedArray = TypedArray> {
  /** Elements in C (row-major) order; `data.length === product(shape)`. */
  data: T;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** numpy dtype name of `data`. */
  dtype: DType;
}

/** A float32 array: the form layer parameters take. */
export type Float32NDArray = NDArray<Float32Array>;

/** Product of the dimensions of `shape` (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Make a float32 {@linkcode NDArray}; checks that `data` fits `shape`. */
export function float32Array(data: Float32Array | number[], shape: number[]): Float32NDArray {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== sizeOf(shape)) {
    throw new RangeError(`array of ${arr.length} elements does not fit shape [${shape.join(", ")}]`);
  }
  return { data: arr, shape: [...shape], dtype: "float32" };
}

/**
 * The elements `[start, end)` of `a` (default: all) as float32, whatever its
 * dtype: float32 data is returned as is (a view for a part, no copy); other
 * numbers are converted, 64-bit integers (`BigInt64Array`,
 * `BigUint64Array`) through `Number`.
 */
export function toFloat32(a: NDArray, start = 0, end: number = a.data.length): Float32Array {
  const data = a.data;
  if (data instanceof Float32Array) {
    return start === 0 && end === data.length ? data : data.subarray(start, end);
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float32Array(end - start);
    for (let i = 0; i < out.length; i++) out[i] = Number(data[start + i]);
    return out;
  }
  return new Float32Array(data.subarray(start, end));
}

/** `a` as a float32 {@linkcode NDArray} of the same shape (itself when it already is one). */
export function toFloat32NDArray(a: NDArray): Float32NDArray {
  return a.data instanceof Float32Array
    ? a as Float32NDArray
    : { data: toFloat32(a), shape: a.shape, dtype: "float32" };
}

/** Whether `v` is an {@linkcode NDArray} (an object with a typed-array `data`, a `shape` and a `dtype`). */
export function isNDArray(v: unknown): v is NDArray {
  return typeof v === "object" && v !== null && "data" in v && "shape" in v && "dtype" in v &&
    ArrayBuffer.isView((v as NDArray).data);
}
