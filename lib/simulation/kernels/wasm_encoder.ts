/**
 * Just enough of the WebAssembly binary format to write the simulator's
 * small SIMD kernels (./wasm.ts) as instruction lists: a module that imports
 * one memory (`env.memory`, the TF.js WASM backend's heap) and exports
 * functions. Instructions are byte lists built by {@linkcode op}; a function
 * body is their concatenation. (Format: the WebAssembly Core Specification
 * 2.0, "Binary Format", and its fixed-width SIMD opcodes.)
 *
 * @module
 */

/** Value types. */
export const ValType = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;

/** A value type's code. */
export type ValTypeCode = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** A SIMD instruction: the `0xfd` prefix and its opcode. */
function simd(code: number, ...immediates: number[]): number[] {
  return [0xfd, ...uleb(code), ...immediates];
}

/** Memory immediate: alignment 4 bytes (any address works; the hint only), no offset. */
const MEMARG = [2, 0];

/** Instructions, each a byte list (only those the kernels use). */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  f32Const: (v: number) => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)],
  i32Add: [0x6a],
  i32GeU: [0x4f],
  /** `block` with no result. */
  block: [0x02, 0x40],
  /** `loop` with no result. */
  loop: [0x03, 0x40],
  /** `if` with no result. */
  if: [0x04, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
  f32Add: [0x92],
  /** `f32.convert_i32_s`. */
  f32ConvertI32S: [0xb2],
  /** `f32.store` at the address on the stack plus `offset` bytes. */
  f32Store: (offset: number) => [0x38, 2, ...uleb(offset)],
  v128Load: simd(0x00, ...MEMARG),
  v128Store: simd(0x0b, ...MEMARG),
  f32x4Splat: simd(0x13),
  f32x4ExtractLane: (lane: number) => simd(0x1f, lane),
  i32x4ExtractLane: (lane: number) => simd(0x1b, lane),
  i32x4Add: simd(0xae),
  i32x4Sub: simd(0xb1),
  v128And: simd(0x4e),
  /** `bitselect(a, b, mask)`: bits of `a` where `mask` is set, else of `b`. */
  v128Bitselect: simd(0x52),
  f32x4Lt: simd(0x43),
  f32x4Gt: simd(0x44),
  f32x4Ge: simd(0x46),
  f32x4Abs: simd(0xe0),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
};

/** An exported function. */
export interface WasmFunction {
  /** Export name. */
  name: string;
  /** Parameter types. */
  params: ValTypeCode[];
  /** Types of the locals after the parameters. */
  locals: ValTypeCode[];
  /** The instructions (without the final `end`). */
  body: number[];
}

/**
 * A module importing its memory as `env.memory` (any size; not shared) and
 * exporting `functions` (no results).
 */
export function moduleImportingMemory(functions: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec([])]);
  const bodies = functions.map((f) => {
    const code = [...vec(f.locals.map((t) => [1, t])), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x00]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}
