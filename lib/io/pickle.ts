/**
 * A small, safe reader of Python pickles (protocols 2 to 5) holding numpy
 * arrays, as Lasagne users saved their parameters
 * (`pickle.dump({'param values': get_all_param_values(net)}, f)` or a bare
 * list). Only a fixed set of globals is honoured — numpy's
 * `_reconstruct`/`ndarray`/`dtype`/`scalar`, `_codecs.encode` (how Python 3
 * writes bytes at protocol 2) and `collections.OrderedDict`; any other
 * global is refused by name, so no code is ever run.
 *
 * Hand-written rather than the npm `pickleparser`: the reader must refuse
 * unknown globals and rebuild numpy arrays (dtype, byte order, Fortran
 * order) into typed arrays, which takes most of the code either way.
 *
 * @module
 */
import { ModelFormatError } from "../errors.ts";
import type { DType, NDArray, TypedArray } from "./ndarray.ts";

/** A Python tuple from a pickle. */
export interface PickleTuple {
  /** Discriminator. */
  readonly kind: "tuple";
  /** The items. */
  readonly items: PickleValue[];
}

/** A Python dict from a pickle (keys as read, insertion order). */
export interface PickleDict {
  /** Discriminator. */
  readonly kind: "dict";
  /** The entries. */
  readonly entries: [PickleValue, PickleValue][];
}

/** A value read from a pickle: Python scalars, containers, bytes and numpy arrays. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | NDArray
  | NumpyDType
  | PickleGlobal
  | PendingArray;

/** A numpy dtype object. */
export interface NumpyDType {
  /** Discriminator. */
  readonly kind: "dtype";
  /** Type code such as `f4`, `i8`, `b1`. */
  code: string;
  /** Byte order `<`, `>`, `|` or `=`. */
  order: string;
}

/** An allowed global (class or function) not yet called. */
export interface PickleGlobal {
  /** Discriminator. */
  readonly kind: "global";
  /** `module.name`. */
  readonly name: string;
}

/** An ndarray created by `_reconstruct` while reading, waiting for its state (never returned by {@linkcode readPickle}). */
export interface PendingArray {
  /** Discriminator. */
  readonly kind: "pending-array";
}

const ALLOWED_GLOBALS = new Set([
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray._reconstruct",
  "numpy.ndarray",
  "numpy.dtype",
  "numpy.core.multiarray.scalar",
  "numpy._core.multiarray.scalar",
  "numpy.core.numeric._frombuffer",
  "numpy._core.numeric._frombuffer",
  "_codecs.encode",
  "collections.OrderedDict",
]);

const MARK = Symbol("mark");

/** Most levels of lists, tuples and dicts nested in one another a pickle may hold (Lasagne parameters need 3). */
export const MAX_PICKLE_NESTING = 1000;

type StackItem = PickleValue | typeof MARK;

function isTuple(v: unknown): v is PickleTuple {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "tuple";
}

function isDType(v: unknown): v is NumpyDType {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "dtype";
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

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Read a pickle. `source` names the file in error messages. Python 2
 * `str` values are decoded as latin-1 (what `encoding='latin1'` does),
 * which keeps numpy array bytes intact.
 */
export function readPickle(bytes: Uint8Array, source = "<pickle>"): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  const pendingArrays = new WeakMap<object, NDArray>();
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: pickle byte ${pos}: ${msg}`, { file: source });
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail("unexpected end of data (truncated pickle)");
  };
  const u8 = (): number => (need(1), bytes[pos++]);
  const u16 = (): number => (need(2), pos += 2, view.getUint16(pos - 2, true));
  const u32 = (): number => (need(4), pos += 4, view.getUint32(pos - 4, true));
  const i32 = (): number => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const u64 = (): number => (need(8), pos += 8, Number(view.getBigUint64(pos - 8, true)));
  const take = (n: number): Uint8Array => (need(n), pos += n, bytes.subarray(pos - n, pos));
  const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);
  const latin1 = (b: Uint8Array): string => {
    // In chunks: spreading a large string's bytes as arguments overflows the stack.
    let s = "";
    for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
    return s;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("unterminated text line");
    const s = latin1(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return fail("stack underflow");
    return v;
  };
  const popMark = (): PickleValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("no MARK on the stack");
    const items = stack.splice(i) as PickleValue[];
    items.shift();
    return items;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail("stack underflow");
    return v;
  };
  const global = (module: string, name: string): PickleGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      fail(
        `refusing global '${full}': only numpy arrays and plain Python values may be unpickled ` +
          `(allowed: ${[...ALLOWED_GLOBALS].join(", ")})`,
      );
    }
    return { kind: "global", name: full };
  };
  const call = (fn: PickleValue, args: PickleValue): PickleValue => {
    if (typeof fn !== "object" || fn === null || (fn as PickleGlobal).kind !== "global") {
      return fail("REDUCE on something that is not a global");
    }
    const name = (fn as PickleGlobal).name.replace("numpy._core", "numpy.core");
    const a = isTuple(args) ? args.items : [];
    switch (name) {
      case "numpy.core.multiarray._reconstruct": {
        const obj: PendingArray = { kind: "pending-array" };
        return obj;
      }
      case "numpy.dtype": {
        const code = a[0];
        if (typeof code !== "string") return fail("numpy.dtype called without a type code");
        return {
          kind: "dtype",
          code: code.replace(/^[<>|=]/, ""),
          order: /^[<>|=]/.test(code) ? code[0] : "<",
        };
      }
      case "numpy.core.multiarray.scalar": {
        const [dt, raw] = a;
        if (!isDType(dt)) return fail("numpy scalar without a dtype");
        const data = raw instanceof Uint8Array
          ? raw
          : typeof raw === "string"
          ? latin1Bytes(raw)
          : fail("bad scalar data");
        const arr = decodeArray(data as Uint8Array, dt, [], source);
        return { data: arr, shape: [], dtype: dtypeInfo(dt, source).dtype };
      }
      case "numpy.core.numeric._frombuffer": {
        // Protocol 5: (buffer, dtype, shape, order).
        const [buf, dt, shapeV, order] = a;
        if (!(buf instanceof Uint8Array) || !isDType(dt) || !isTuple(shapeV)) {
          return fail("bad _frombuffer arguments");
        }
        const shape = shapeV.items.map(Number);
        let arr = decodeArray(buf, dt, shape, source);
        if (order === "F" && shape.length > 1) arr = fortranToC(arr, shape);
        return { data: arr, shape, dtype: dtypeInfo(dt, source).dtype };
      }
      case "_codecs.encode": {
        const [s] = a;
        if (typeof s !== "string") return fail("_codecs.encode without a string");
        return latin1Bytes(s);
      }
      case "collections.OrderedDict":
        return { kind: "dict", entries: [] };
      default:
        return fail(`global '${name}' cannot be called`);
    }
  };
  const build = (obj: PickleValue, state: PickleValue): void => {
    if (isDType(obj)) {
      // State (version, byteorder, subdescr, names, fields, elsize, alignment, flags).
      if (isTuple(state) && typeof state.items[1] === "string") {
        const order = state.items[1];
        obj.order = order === "|" ? "|" : order;
      }
      return;
    }
    if (typeof obj === "object" && obj !== null && (obj as PendingArray).kind === "pending-array") {
      // State (version, shape, dtype, is_fortran, raw data).
      if (!isTuple(state) || state.items.length < 5) return fail("ndarray state is not a 5-tuple");
      const [, shapeV, dt, fortran, raw] = state.items;
      if (!isTuple(shapeV) || !isDType(dt)) return fail("ndarray state without shape and dtype");
      const shape = shapeV.items.map(Number);
      if (Array.isArray(raw)) return fail(`numpy arrays of Python objects (dtype 'O') are not supported`);
      const data = raw instanceof Uint8Array
        ? raw
        : typeof raw === "string"
        ? latin1Bytes(raw)
        : fail("ndarray without raw data");
      let arr = decodeArray(data as Uint8Array, dt, shape, source);
      if (fortran === true && shape.length > 1) arr = fortranToC(arr, shape);
      pendingArrays.set(obj, { data: arr, shape, dtype: dtypeInfo(dt, source).dtype });
      return;
    }
    if (typeof obj === "object" && obj !== null && (obj as PickleDict).kind === "dict") return;
    fail("BUILD on an unsupported object");
  };
  const resolve = (v: PickleValue, depth = 0): PickleValue => {
    if (depth >= MAX_PICKLE_NESTING) {
      fail(
        `containers nested more than ${MAX_PICKLE_NESTING} levels deep (or a container holding itself); refusing`,
      );
    }
    const inner = (x: PickleValue): PickleValue => resolve(x, depth + 1);
    if (typeof v === "object" && v !== null && (v as PendingArray).kind === "pending-array") {
      const arr = pendingArrays.get(v);
      if (!arr) return fail("ndarray without state");
      return arr;
    }
    if (Array.isArray(v)) return v.map(inner);
    if (isTuple(v)) return { kind: "tuple", items: v.items.map(inner) };
    if (typeof v === "object" && v !== null && (v as PickleDict).kind === "dict") {
      return { kind: "dict", entries: (v as PickleDict).entries.map(([k, x]) => [inner(k), inner(x)]) };
    }
    return v;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return resolve(pop());
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: { // LONG1
        const b = take(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v,
        );
        break;
      }
      case 0x49: { // INT (text)
        const s = line();
        stack.push(s === "01" ? true : s === "00" ? false : Number(s));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str → latin-1)
        stack.push(latin1(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push({ kind: "dict", entries: [] });
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push({ kind: "tuple", items: [] });
        break;
      case 0x74: // TUPLE
        stack.push({ kind: "tuple", items: popMark() });
        break;
      case 0x85: // TUPLE1
        stack.push({ kind: "tuple", items: [pop()] });
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push({ kind: "tuple", items: [pop(), b] });
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push({ kind: "tuple", items: [pop(), b, c] });
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const entries: [PickleValue, PickleValue][] = [];
        for (let i = 0; i + 1 < items.length; i += 2) entries.push([items[i], items[i + 1]]);
        stack.push({ kind: "dict", entries });
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) fail("APPEND to a non-list");
        (list as PickleValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail("APPENDS to a non-list");
        for (const item of items) (list as PickleValue[]).push(item); // no spread: items may be many
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        const d = top() as PickleDict;
        if (d?.kind !== "dict") fail("SETITEM on a non-dict");
        d.entries.push([k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top() as PickleDict;
        if (d?.kind !== "dict") fail("SETITEMS on a non-dict");
        for (let i = 0; i + 1 < items.length; i += 2) d.entries.push([items[i], items[i + 1]]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo key ${k} not defined`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL without strings");
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x98: // READONLY_BUFFER
        break;
      case 0x97: // NEXT_BUFFER
        return fail("out-of-band buffers (protocol 5 with buffer_callback) cannot be read from a file");
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} (protocol 2 to 5 binary pickles are read)`);
    }
  }
}
