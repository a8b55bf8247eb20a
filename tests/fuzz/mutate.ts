/**
 * Seeded mutations of model, dataset and configuration files for the fuzz
 * harness. Every mutation is a list of byte edits on the seed file (plus an
 * optional new extension), so a finding is stored as a tiny patch against
 * its seed instead of a copy of a possibly large file.
 *
 * @module
 */
import { rng } from "../_rng.ts";

/** One byte edit: delete `del` bytes at `at`, insert `ins` there. */
export interface Edit {
  /** Offset in the file as it is when this edit is applied. */
  at: number;
  /** Number of bytes removed at `at`. */
  del: number;
  /** Bytes inserted at `at` (base64 when serialised). */
  ins: Uint8Array;
}

/** A mutation: what it did (for reports) and how to redo it. */
export interface Mutation {
  /** Mutation family, e.g. `truncate`, `bitflip`, `huge`. */
  name: string;
  /** One line on what was changed. */
  detail: string;
  /** Edits applied in order. */
  edits: Edit[];
  /** Replacement extension (with dot) of the mutated file, when the mutation renames it. */
  ext?: string;
}

/** How the bytes of a file are organised, for the format-aware `huge` mutation. */
export type Layout = "hdf5" | "zip" | "protobuf" | "npy" | "pickle" | "text" | "binary";

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  #next: () => number;
  /** Start the sequence at `seed`. */
  constructor(seed: number) {
    this.#next = rng(seed);
  }
  /** Uniform float in [0, 1). */
  next(): number {
    return this.#next();
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A random element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Apply `m` to `bytes` (not modified) and return the mutated bytes. */
export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  let cur = bytes;
  for (const e of m.edits) {
    const at = Math.min(e.at, cur.length);
    const del = Math.min(e.del, cur.length - at);
    const out = new Uint8Array(cur.length - del + e.ins.length);
    out.set(cur.subarray(0, at), 0);
    out.set(e.ins, at);
    out.set(cur.subarray(at + del), at + e.ins.length);
    cur = out;
  }
  return cur;
}

const HUGE = 1_000_000_000_000; // 10^12 elements
const EXTS = [
  ".h5",
  ".keras",
  ".json",
  ".onnx",
  ".prototxt",
  ".caffemodel",
  ".py",
  ".pkl",
  ".npz",
  ".npy",
  ".ini",
  ".bin",
  ".txt",
  "",
];

function u8(...xs: number[]): Uint8Array {
  return new Uint8Array(xs);
}

function leBytes(value: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let v = value;
  for (let i = 0; i < n; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return new Uint8Array(out);
}

function truncate(bytes: Uint8Array, rng: Rng): Mutation {
  const keep = bytes.length === 0
    ? 0
    : rng.next() < 0.3
    ? rng.int(Math.min(bytes.length, 512))
    : rng.int(bytes.length);
  return {
    name: "truncate",
    detail: `kept ${keep} of ${bytes.length} bytes`,
    edits: [{ at: keep, del: bytes.length - keep, ins: u8() }],
  };
}

function bitflip(bytes: Uint8Array, rng: Rng): Mutation {
  const n = 1 + rng.int(8);
  const edits: Edit[] = [];
  // Half of the time aim at the first 4 KiB, where headers and structure live.
  const span = rng.next() < 0.5 ? Math.min(bytes.length, 4096) : bytes.length;
  for (let i = 0; i < n && span > 0; i++) {
    const at = rng.int(span);
    edits.push({ at, del: 1, ins: u8(bytes[at] ^ (1 << rng.int(8))) });
  }
  return { name: "bitflip", detail: `${edits.length} bits at ${edits.map((e) => e.at).join(",")}`, edits };
}

function splice(bytes: Uint8Array, rng: Rng, donor: Uint8Array): Mutation {
  const len = 1 + rng.int(Math.max(1, Math.min(256, donor.length)));
  const from = rng.int(Math.max(1, donor.length - len));
  const chunk = donor.slice(from, from + len);
  const at = rng.int(bytes.length + 1);
  const del = rng.next() < 0.5 ? Math.min(chunk.length, bytes.length - at) : 0;
  return {
    name: "splice",
    detail: `${chunk.length} donor bytes at ${at} (replacing ${del})`,
    edits: [{ at, del, ins: chunk }],
  };
}

function zeroLength(bytes: Uint8Array): Mutation {
  return { name: "zero-length", detail: "emptied", edits: [{ at: 0, del: bytes.length, ins: u8() }] };
}

function wrongExtension(rng: Rng, current: string): Mutation {
  const ext = rng.pick(EXTS.filter((e) => e !== current));
  return { name: "wrong-extension", detail: `renamed to '${ext || "(none)"}'`, edits: [], ext };
}

/** Offsets of ASCII integer tokens in a text file. */
function numberTokens(bytes: Uint8Array): { at: number; len: number }[] {
  const out: { at: number; len: number }[] = [];
  for (let i = 0; i < bytes.length && out.length < 5000; i++) {
    if (
      bytes[i] >= 0x30 && bytes[i] <= 0x39 && (i === 0 || !/[\w.]/.test(String.fromCharCode(bytes[i - 1])))
    ) {
      let j = i;
      while (j < bytes.length && bytes[j] >= 0x30 && bytes[j] <= 0x39) j++;
      if (j >= bytes.length || !/[\w]/.test(String.fromCharCode(bytes[j]))) out.push({ at: i, len: j - i });
      i = j;
    }
  }
  return out;
}

/** Varint fields of a protobuf message, nested messages included (best effort). */
function protobufVarints(
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
  out: { at: number; len: number }[],
): boolean {
  let p = start;
  const readVarint = (): number | undefined => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (p >= end) return undefined;
      const b = bytes[p++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return v;
    }
    return undefined;
  };
  while (p < end) {
    const key = readVarint();
    if (key === undefined || key === 0) return false;
    const wire = key & 7;
    if (wire === 0) {
      const at = p;
      if (readVarint() === undefined) return false;
      out.push({ at, len: p - at });
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const lenAt = p;
      const len = readVarint();
      if (len === undefined || p + len > end) return false;
      out.push({ at: lenAt, len: p - lenAt });
      if (depth < 8 && len > 1) protobufVarints(bytes, p, p + len, depth + 1, out);
      p += len;
    } else return false;
  }
  return p === end;
}

/** Offsets of little-endian integers that look like sizes (small, non-zero). */
function sizeLike(bytes: Uint8Array, width: 4 | 8): number[] {
  const out: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + width <= bytes.length && out.length < 20000; i += width === 8 ? 8 : 1) {
    const lo = view.getUint32(i, true);
    const hi = width === 8 ? view.getUint32(i + 4, true) : 0;
    if (hi === 0 && lo >= 1 && lo <= 1 << 20) out.push(i);
  }
  return out;
}

function npyHuge(bytes: Uint8Array): Mutation | undefined {
  if (bytes.length < 10 || bytes[0] !== 0x93) return undefined;
  const major = bytes[6];
  const hlenSize = major === 1 ? 2 : 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = hlenSize === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + hlenSize;
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const m = /'shape':\s*\([^)]*\)/.exec(header);
  if (!m) return undefined;
  const replaced = header.replace(m[0], `'shape': (1000000, 1000000)`);
  const padded = replaced.trimEnd().padEnd(hlen - 1, " ") + "\n";
  const ins = new TextEncoder().encode(padded.length === hlen ? padded : replaced);
  return {
    name: "huge",
    detail: "npy header shape (1000000, 1000000)",
    edits: [{ at: start, del: hlen, ins }],
  };
}

function huge(bytes: Uint8Array, rng: Rng, layout: Layout): Mutation | undefined {
  if (layout === "npy") return npyHuge(bytes);
  if (layout === "text") {
    const toks = numberTokens(bytes);
    if (!toks.length) return undefined;
    const t = rng.pick(toks);
    const value = rng.pick([String(HUGE), "4294967296", "2147483647", "99999999999999999999"]);
    return {
      name: "huge",
      detail: `number at ${t.at} → ${value}`,
      edits: [{ at: t.at, del: t.len, ins: new TextEncoder().encode(value) }],
    };
  }
  if (layout === "protobuf") {
    const fields: { at: number; len: number }[] = [];
    protobufVarints(bytes, 0, bytes.length, 0, fields);
    if (!fields.length) return undefined;
    const f = rng.pick(fields);
    const value = rng.pick([HUGE, 2 ** 32 + 3, 2 ** 31 - 1]);
    return {
      name: "huge",
      detail: `protobuf varint at ${f.at} → ${value}`,
      edits: [{ at: f.at, del: f.len, ins: varint(value) }],
    };
  }
  if (layout === "zip") {
    // Local (PK\3\4, size at +18/+22) and central (PK\1\2, at +20/+24) headers.
    const spots: number[] = [];
    for (let i = 0; i + 30 < bytes.length; i++) {
      if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b) {
        if (bytes[i + 2] === 3 && bytes[i + 3] === 4) spots.push(i + 18, i + 22);
        if (bytes[i + 2] === 1 && bytes[i + 3] === 2) spots.push(i + 20, i + 24);
      }
    }
    if (!spots.length) return undefined;
    const at = rng.pick(spots);
    return {
      name: "huge",
      detail: `zip size field at ${at} → 0xfffffffe`,
      edits: [{ at, del: 4, ins: leBytes(0xfffffffen, 4) }],
    };
  }
  const width: 4 | 8 = layout === "hdf5" ? 8 : 4;
  const spots = sizeLike(bytes, width);
  if (!spots.length) return undefined;
  const at = rng.pick(spots);
  const value = width === 8 ? BigInt(HUGE) : 0x7ffffff0n;
  return {
    name: "huge",
    detail: `${width * 8}-bit size-like value at ${at} → ${value}`,
    edits: [{ at, del: width, ins: leBytes(value, width) }],
  };
}

/** Choose and build one mutation of `bytes` (a file of `layout` with extension `ext`). */
export function mutate(
  bytes: Uint8Array,
  layout: Layout,
  ext: string,
  rng: Rng,
  donor: Uint8Array,
): Mutation {
  const r = rng.next();
  if (r < 0.03) return zeroLength(bytes);
  if (r < 0.08) return wrongExtension(rng, ext);
  if (r < 0.30) return truncate(bytes, rng);
  if (r < 0.55) return bitflip(bytes, rng);
  if (r < 0.70) return splice(bytes, rng, donor);
  return huge(bytes, rng, layout) ?? bitflip(bytes, rng);
}

/** Edits as JSON (insertions in base64). */
export function editsToJson(edits: readonly Edit[]): { at: number; del: number; ins: string }[] {
  return edits.map((e) => ({ at: e.at, del: e.del, ins: btoa(String.fromCharCode(...e.ins)) }));
}

/** Edits back from {@linkcode editsToJson}. */
export function editsFromJson(json: readonly { at: number; del: number; ins: string }[]): Edit[] {
  return json.map((e) => ({
    at: e.at,
    del: e.del,
    ins: Uint8Array.from(atob(e.ins), (c) => c.charCodeAt(0)),
  }));
}
