/**
 * The pickle profile of numpy arrays, as Lasagne users saved their
 * parameters (`pickle.dump({'param values': get_all_param_values(net)}, f)`
 * or a bare list): numpy's `_reconstruct`/`ndarray`/`dtype`/`scalar`/
 * `_frombuffer`, `_codecs.encode` (how Python 3 writes bytes at protocol 2)
 * and `collections.OrderedDict`. Arrays come back as {@linkcode NDArray}s
 * (dtype, byte order and Fortran order applied).
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import type { DType, NDArray, TypedArray } from "../ndarray.ts";
import {
  isPickleObject,
  isPickleTuple,
  latin1Bytes,
  type PickleCallable,
  type PickleFail,
  type PickleObject,
  type PickleProfile,
  type PickleValue,
  runPickle,
} from "./vm.ts";

export {
  MAX_PICKLE_NESTING,
  type PickleDict,
  type PickleGlobal,
  type PickleObject,
  type PickleTuple,
  type PickleValue,
} from "./vm.ts";

/** A numpy dtype object. */
interface NumpyDType extends PickleObject {
  readonly type: "numpy-dtype";
  /** Type code such as `f4`, `i8`, `b1`. */
  code: string;
  /** Byte order `<`, `>`, `|` or `=`. */
  order: string;
}

/** An ndarray created by `_reconstruct`, waiting for its state. */
interface PendingArray extends PickleObject {
  readonly type: "numpy-pending";
  array?: NDArray;
}

function isDType(v: unknown): v is NumpyDType {
  return isPickleObject(v, "numpy-dtype");
}

function dtypeInfo(dt: NumpyDType, where: string): { dtype: DType; size: number } {
  const table: Record<string, [DType, number]> = {
    f4: ["float32", 4],
    f8: ["float64", 8],
    i1: ["int8", 1],
    i2: ["int16", 2],
    i4: ["int32", 4],
    i8: ["int64", 8],
    u1: ["uint8", 1],
    u2: ["uint16", 2],
    u4: ["uint32", 4],
    u8: ["uint64", 8],
    b1: ["bool", 1],
  };
  const hit = table[dt.code];
  if (!hit) {
    throw new ModelFormatError(`${where}: numpy dtype '${dt.code}' is not supported (numeric dtypes only)`);
  }
  return { dtype: hit[0], size: hit[1] };
}

function decodeArray(raw: Uint8Array, dt: NumpyDType, shape: number[], where: string): TypedArray {
  const { dtype, size } = dtypeInfo(dt, where);
  const n = shape.reduce((a, b) => a * b, 1);
  if (raw.length !== n * size) {
    throw new ModelFormatError(
      `${where}: array data has ${raw.length} bytes, shape [${shape}] of ${dt.code} needs ${n * size}`,
    );
  }
  const little = dt.order !== ">";
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const make = (): TypedArray => {
    switch (dtype) {
      case "float32":
        return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, little));
      case "float64":
        return Float64Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, little));
      case "int8":
        return Int8Array.from({ length: n }, (_, i) => view.getInt8(i));
      case "int16":
        return Int16Array.from({ length: n }, (_, i) => view.getInt16(i * 2, little));
      case "int32":
        return Int32Array.from({ length: n }, (_, i) => view.getInt32(i * 4, little));
      case "int64":
        return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(i * 8, little));
      case "uint16":
        return Uint16Array.from({ length: n }, (_, i) => view.getUint16(i * 2, little));
      case "uint32":
        return Uint32Array.from({ length: n }, (_, i) => view.getUint32(i * 4, little));
      case "uint64":
        return BigUint64Array.from({ length: n }, (_, i) => view.getBigUint64(i * 8, little));
      default:
        return Uint8Array.from(raw);
    }
  };
  return make();
}

/** C-order copy of a Fortran-order array of `shape`. */
function fortranToC<T extends TypedArray>(data: T, shape: number[]): T {
  const n = data.length;
  const out = new (data.constructor as { new (n: number): T })(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    let stride = 1;
    for (let d = 0; d < rank; d++) {
      f += idx[d] * stride;
      stride *= shape[d];
    }
    (out as unknown as number[])[c] = (data as unknown as number[])[f];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const reconstruct: PickleCallable = (): PendingArray => ({ kind: "object", type: "numpy-pending" });

function dtype(a: PickleValue[], fail: PickleFail): NumpyDType {
  const code = a[0];
  if (typeof code !== "string") return fail("numpy.dtype called without a type code");
  return {
    kind: "object",
    type: "numpy-dtype",
    code: code.replace(/^[<>|=]/, ""),
    order: /^[<>|=]/.test(code) ? code[0] : "<",
  };
}

function rawBytes(raw: PickleValue, fail: PickleFail, what: string): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === "string") return latin1Bytes(raw);
  return fail(what);
}

function scalar(source: string): PickleCallable {
  return ([dt, raw], fail) => {
    if (!isDType(dt)) return fail("numpy scalar without a dtype");
    const arr = decodeArray(rawBytes(raw, fail, "bad scalar data"), dt, [], source);
    return { data: arr, shape: [], dtype: dtypeInfo(dt, source).dtype };
  };
}

function frombuffer(source: string): PickleCallable {
  // Protocol 5: (buffer, dtype, shape, order).
  return ([buf, dt, shapeV, order], fail) => {
    if (!(buf instanceof Uint8Array) || !isDType(dt) || !isPickleTuple(shapeV)) {
      return fail("bad _frombuffer arguments");
    }
    const shape = shapeV.items.map(Number);
    let arr = decodeArray(buf, dt, shape, source);
    if (order === "F" && shape.length > 1) arr = fortranToC(arr, shape);
    return { data: arr, shape, dtype: dtypeInfo(dt, source).dtype };
  };
}

/** The numpy profile for a file named `source` (errors name it). */
export function numpyProfile(source: string): PickleProfile {
  const globals = new Map<string, PickleCallable>([
    ["numpy.core.multiarray._reconstruct", reconstruct],
    ["numpy._core.multiarray._reconstruct", reconstruct],
    ["numpy.ndarray", null],
    ["numpy.dtype", dtype],
    ["numpy.core.multiarray.scalar", scalar(source)],
    ["numpy._core.multiarray.scalar", scalar(source)],
    ["numpy.core.numeric._frombuffer", frombuffer(source)],
    ["numpy._core.numeric._frombuffer", frombuffer(source)],
    [
      "_codecs.encode",
      ([s], fail) => (typeof s === "string" ? latin1Bytes(s) : fail("_codecs.encode without a string")),
    ],
    ["collections.OrderedDict", () => ({ kind: "dict", entries: [] })],
  ]);
  return {
    description: "numpy arrays and plain Python values",
    globals,
    build(obj, state, fail) {
      if (isDType(obj)) {
        // State (version, byteorder, subdescr, names, fields, elsize, alignment, flags).
        if (isPickleTuple(state) && typeof state.items[1] === "string") obj.order = state.items[1];
        return true;
      }
      if (!isPickleObject(obj, "numpy-pending")) return false;
      // State (version, shape, dtype, is_fortran, raw data).
      if (!isPickleTuple(state) || state.items.length < 5) return fail("ndarray state is not a 5-tuple");
      const [, shapeV, dt, fortran, raw] = state.items;
      if (!isPickleTuple(shapeV) || !isDType(dt)) return fail("ndarray state without shape and dtype");
      const shape = shapeV.items.map(Number);
      if (Array.isArray(raw)) return fail(`numpy arrays of Python objects (dtype 'O') are not supported`);
      let arr = decodeArray(rawBytes(raw, fail, "ndarray without raw data"), dt, shape, source);
      if (fortran === true && shape.length > 1) arr = fortranToC(arr, shape);
      (obj as PendingArray).array = { data: arr, shape, dtype: dtypeInfo(dt, source).dtype };
      return true;
    },
    finish(obj, fail) {
      if (!isPickleObject(obj, "numpy-pending")) return undefined;
      return (obj as PendingArray).array ?? fail("ndarray without state");
    },
  };
}

/**
 * Read a pickle of numpy arrays and plain Python values. `source` names the
 * file in error messages. Python 2 `str` values are decoded as latin-1
 * (what `encoding='latin1'` does), which keeps numpy array bytes intact.
 */
export function readPickle(bytes: Uint8Array, source = "<pickle>"): PickleValue {
  return runPickle(bytes, source, numpyProfile(source)).value;
}
