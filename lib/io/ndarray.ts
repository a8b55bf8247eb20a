/**
 * A minimal n-dimensional array: a typed array in C (row-major) order plus
 * its shape and numpy-style dtype name. Used for datasets (`.npy`/`.npz`)
 * and layer parameters, independent of TensorFlow.js tensors.
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
