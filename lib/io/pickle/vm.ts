/**
 * A small, safe reader of Python pickles (protocols 0 to 5, binary
 * opcodes): runs the pickle machine on plain values — numbers, strings,
 * bytes, lists, tuples, dicts — and hands every global, call, `BUILD` and
 * persistent id to a {@linkcode PickleProfile} the caller supplies. A global
 * the profile does not list is refused by name, so no code is ever run and
 * nothing but the caller's allow-list is ever constructed.
 *
 * Containers nested deeper than {@linkcode MAX_PICKLE_NESTING} (or holding
 * themselves through the memo) are refused; every length is checked
 * against the bytes present before it is read.
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import type { NDArray } from "../ndarray.ts";

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

/** An allowed global (class or function), as `GLOBAL` pushes it. */
export interface PickleGlobal {
  /** Discriminator. */
  readonly kind: "global";
  /** `module.name`. */
  readonly name: string;
}

/** An object a profile creates (a numpy dtype, a torch storage, an array waiting for its state). */
export interface PickleObject {
  /** Discriminator. */
  readonly kind: "object";
  /** The profile's type tag. */
  readonly type: string;
}

/** A value read from a pickle. */
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
  | PickleGlobal
  | PickleObject
  | NDArray;

/** Reports a problem at the current byte (throws). */
export type PickleFail = (message: string) => never;

/** A global the profile allows: how `REDUCE`/`NEWOBJ` call it (`null`: allowed as a value only). */
export type PickleCallable = ((args: PickleValue[], fail: PickleFail) => PickleValue) | null;

/** What a caller allows a pickle to construct. */
export interface PickleProfile {
  /** What the profile reads, for refusals (`numpy arrays and plain Python values`). */
  readonly description: string;
  /** Allowed globals by `module.name`. */
  readonly globals: ReadonlyMap<string, PickleCallable>;
  /** `BUILD` of `state` into `obj` (a profile object); `false` when the profile does not handle `obj`. */
  build?(obj: PickleValue, state: PickleValue, fail: PickleFail): boolean;
  /** The object a persistent id (`PERSID`/`BINPERSID`) stands for; refused when absent. */
  persistentLoad?(pid: PickleValue, fail: PickleFail): PickleValue;
  /** Replace a profile object in the final value (an array once its state is set); `undefined` keeps it. */
  finish?(obj: PickleObject, fail: PickleFail): PickleValue | undefined;
}

const MARK = Symbol("mark");

/** Most levels of lists, tuples and dicts nested in one another a pickle may hold (Lasagne parameters need 3). */
export const MAX_PICKLE_NESTING = 1000;

type StackItem = PickleValue | typeof MARK;

/** Whether `v` is a tuple. */
export function isPickleTuple(v: unknown): v is PickleTuple {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "tuple";
}

/** Whether `v` is a dict. */
export function isPickleDict(v: unknown): v is PickleDict {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "dict";
}

/** Whether `v` is a profile object of type `type`. */
export function isPickleObject(v: unknown, type?: string): v is PickleObject {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "object" &&
    (type === undefined || (v as PickleObject).type === type);
}

/** Whether `v` is a global. */
export function isPickleGlobal(v: unknown): v is PickleGlobal {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "global";
}

/** Bytes of a latin-1 string (how Python 2 `str` and protocol-2 bytes arrive). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** The value of one pickle and the offset after its `STOP`. */
export interface PickleResult {
  /** The unpickled value. */
  value: PickleValue;
  /** Offset of the first byte after the pickle. */
  end: number;
}

/**
 * Run the pickle starting at byte `start` of `bytes` with `profile`'s
 * allow-list; `source` names the file in errors. Python 2 `str` values are
 * decoded as latin-1 (what `encoding='latin1'` does), which keeps raw array
 * bytes intact.
 */
export function runPickle(
  bytes: Uint8Array,
  source: string,
  profile: PickleProfile,
  start = 0,
): PickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  const fail: PickleFail = (msg) => {
    throw new ModelFormatError(`${source}: pickle byte ${pos}: ${msg}`, { file: source });
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) fail("unexpected end of data (truncated pickle)");
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
    if (!profile.globals.has(full)) {
      fail(
        `refusing global '${full}': only ${profile.description} may be unpickled ` +
          `(allowed: ${[...profile.globals.keys()].join(", ")})`,
      );
    }
    return { kind: "global", name: full };
  };
  const call = (fn: PickleValue, args: PickleValue): PickleValue => {
    if (!isPickleGlobal(fn)) return fail("REDUCE on something that is not a global");
    const f = profile.globals.get(fn.name);
    if (!f) return fail(`global '${fn.name}' cannot be called`);
    return f(isPickleTuple(args) ? args.items : [], fail);
  };
  const build = (obj: PickleValue, state: PickleValue): void => {
    if (profile.build?.(obj, state, fail)) return;
    if (isPickleDict(obj)) return; // an OrderedDict's attributes (torch's `_metadata`): not needed
    fail("BUILD on an unsupported object");
  };
  const resolve = (v: PickleValue, depth = 0): PickleValue => {
    if (depth >= MAX_PICKLE_NESTING) {
      fail(
        `containers nested more than ${MAX_PICKLE_NESTING} levels deep (or a container holding itself); refusing`,
      );
    }
    const inner = (x: PickleValue): PickleValue => resolve(x, depth + 1);
    if (isPickleObject(v)) return profile.finish?.(v, fail) ?? v;
    if (Array.isArray(v)) return v.map(inner);
    if (isPickleTuple(v)) return { kind: "tuple", items: v.items.map(inner) };
    if (isPickleDict(v)) return { kind: "dict", entries: v.entries.map(([k, x]) => [inner(k), inner(x)]) };
    return v;
  };
  const persistent = (pid: PickleValue): PickleValue => {
    if (!profile.persistentLoad) return fail("persistent ids are not allowed in this file");
    return profile.persistentLoad(pid, fail);
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
        return { value: resolve(pop()), end: pos };
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
      case 0x4c: { // LONG (text, protocol 0)
        const s = line().replace(/L$/, "");
        if (!/^-?\d+$/.test(s)) fail("bad LONG text");
        const v = BigInt(s);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v,
        );
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
        const d = top();
        if (!isPickleDict(d)) return fail("SETITEM on a non-dict");
        d.entries.push([k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        if (!isPickleDict(d)) return fail("SETITEMS on a non-dict");
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
      case 0x52: // REDUCE
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
      case 0x50: // PERSID (text id)
        stack.push(persistent(line()));
        break;
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
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
