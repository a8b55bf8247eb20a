/**
 * The fused integrate-and-fire kernel (./integrate_fire.ts) on the `wasm`
 * backend: a small WebAssembly SIMD function, written here as instructions
 * (./wasm_encoder.ts), that imports the backend's own memory and updates a
 * layer in one pass over its tensors on the heap, four neurons at a time —
 * instead of the six to ten element-wise kernels of the composed form, each
 * a pass over the layer.
 *
 * It computes exactly what the composed form computes (../neuron.ts): the
 * same float32 operations, comparisons as the sign of a difference (exact),
 * a spike as 0/±1 times `v_thresh` (exact), selections as bit masks. The
 * elements past the last multiple of four go through the same function on a
 * scratch copy. One function per variant (spike mode, reset, leak,
 * refractory), compiled on first use.
 *
 * Not available (the composed form runs): `Reset by modulo` (WebAssembly
 * has no float remainder instruction), and the threaded WASM build (its
 * memory is shared). It relies on tfjs-backend-wasm 4.22's backend object
 * (`wasm.asm.memory`, `makeOutput`, `getMemoryOffset`, `wasm._malloc`); where
 * those are missing the composed form runs.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import type { IntegrateFireAttrs, ResetKind } from "./integrate_fire.ts";
import { moduleImportingMemory, op, ValType, type WasmFunction } from "./wasm_encoder.ts";

/** What the kernel uses of tfjs-backend-wasm's backend object. */
interface WasmHeapBackend {
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown; _malloc?: (bytes: number) => number };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  getMemoryOffset(dataId: unknown): number;
}

/** The arguments TF.js passes the kernel on the WASM backend. */
export interface WasmIntegrateFireArgs {
  /** The packed state `[rows, n]`, the input current (`n` elements), and the fan-out of a sample's neurons. */
  inputs: { state: tf.TensorInfo; current: tf.TensorInfo; fanout?: tf.TensorInfo };
  /** The backend. */
  backend: unknown;
  /** The step's attributes. */
  attrs: IntegrateFireAttrs;
}

/**
 * One step of a variant over `bytes / 16` groups of four neurons:
 * `(state, current, spikes, next, bytes, rowBytes, vThresh, vReset, leakStep,
 * time, refracUntil, fanout, stats, sampleBytes)`, addresses in bytes,
 * `rowBytes` the distance between the state's rows. A variant with
 * statistics also writes, for every `sampleBytes` of neurons (one sample),
 * the sum of `fanout · fired` (its synaptic operations; `fanout` int32) and
 * of `fired` (its spikes) to `stats`, summed as 32-bit integers (exact: the
 * caller keeps a sample's fan-outs below 2³¹ in all) and stored as float32.
 */
type StepFunction = (
  state: number,
  current: number,
  spikes: number,
  next: number,
  bytes: number,
  rowBytes: number,
  vThresh: number,
  vReset: number,
  leakStep: number,
  time: number,
  refracUntil: number,
  fanout: number,
  stats: number,
  sampleBytes: number,
) => void;

/** A variant of the step: the kernel's attributes that change its code, and whether it sums statistics. */
type Variant = Pick<IntegrateFireAttrs, "mode" | "reset" | "leak" | "refractory"> & { stats: boolean };

// Parameters of the step function, then its locals.
const [STATE, CURRENT, SPIKES, NEXT, BYTES, ROW_BYTES, V_THRESH, V_RESET, LEAK_STEP, TIME, REFRAC_UNTIL] = [
  0,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
];
const [FANOUT, STATS, SAMPLE_BYTES] = [11, 12, 13];
const [I, J, OUT] = [14, 15, 16]; // byte offsets: the group of four, within its sample; the next statistics
const [CUR, MEM, FIRED, SIGNED, SPIKE, REFRAC, SOPS4, SPIKES4] = [17, 18, 19, 20, 21, 22, 23, 24]; // per group
const [VT4, ONE4, ZERO4, TIME4, LEAK4, RESET4, UNTIL4] = [25, 26, 27, 28, 29, 30, 31]; // splatted constants
const MASK = 32; // per group: all ones where a neuron fired (the statistics)

/** The step function of one variant (see the module docs for the operations it mirrors). */
function stepFunction(a: Variant): WasmFunction {
  const get = op.localGet, set = op.localSet;
  /** Address of the current group in row `row` of the tensor at parameter `base`. */
  const at = (base: number, row = 0) => [
    ...get(base),
    ...Array.from({ length: row }, () => [...get(ROW_BYTES), ...op.i32Add]).flat(),
    ...get(I),
    ...op.i32Add,
  ];
  const splat = (from: number[], to: number) => [...from, ...op.f32x4Splat, ...set(to)];
  /** 1.0 where `mask` (instructions leaving a mask) is set, else 0.0. */
  const oneWhere = (mask: number[]) => [...mask, ...get(ONE4), ...op.v128And];
  /** The sum of the four int32 lanes of local `v` (it fits: see {@linkcode StepFunction}), as float32. */
  const lanesSum = (v: number) => [
    ...get(v),
    ...op.i32x4ExtractLane(0),
    ...[1, 2, 3].flatMap((l) => [...get(v), ...op.i32x4ExtractLane(l), ...op.i32Add]),
    ...op.f32ConvertI32S,
  ];
  const fired = {
    // composed: 1 - step(v_thresh - mem), i.e. mem >= v_thresh
    threshold: [...oneWhere([...get(MEM), ...get(VT4), ...op.f32x4Ge]), ...set(FIRED)],
    // composed: step(mem)
    binary_sigmoid: [...oneWhere([...get(MEM), ...get(ZERO4), ...op.f32x4Gt]), ...set(FIRED)],
    // composed: step(mem) - step(-mem), fired = |that|
    binary_tanh: [
      ...oneWhere([...get(MEM), ...get(ZERO4), ...op.f32x4Gt]),
      ...oneWhere([...get(MEM), ...get(ZERO4), ...op.f32x4Lt]),
      ...op.f32x4Sub,
      ...set(SIGNED),
      ...get(SIGNED),
      ...op.f32x4Abs,
      ...set(FIRED),
    ],
  }[a.mode];
  const firedMask = [...get(FIRED), ...get(ZERO4), ...op.f32x4Gt];
  const reset = a.reset === "subtract"
    ? [...get(MEM), ...get(SPIKE), ...op.f32x4Sub] // composed: mem - spikes
    : [...get(RESET4), ...get(MEM), ...firedMask, ...op.v128Bitselect]; // where(fired > 0, v_reset, mem)
  // Per group: add fanout · fired and fired to the sample's int32 sums (the fan-out where the
  // mask is set; minus the mask, -1 where set). Integer additions are exact.
  const accumulate = [
    ...firedMask,
    ...set(MASK),
    ...get(SOPS4),
    ...get(FANOUT),
    ...get(J),
    ...op.i32Add,
    ...op.v128Load,
    ...get(MASK),
    ...op.v128And,
    ...op.i32x4Add,
    ...set(SOPS4),
    ...get(SPIKES4),
    ...get(MASK),
    ...op.i32x4Sub,
    ...set(SPIKES4),
  ];
  // At the end of a sample: store its two sums, move to the next pair.
  const storeStats = [
    ...get(OUT),
    ...lanesSum(SOPS4),
    ...op.f32Store(0),
    ...get(OUT),
    ...lanesSum(SPIKES4),
    ...op.f32Store(4),
    ...get(OUT),
    ...op.i32Const(8),
    ...op.i32Add,
    ...set(OUT),
  ];
  const advance = (local: number) => [...get(local), ...op.i32Const(16), ...op.i32Add, ...set(local)];
  const body = [
    ...splat(get(V_THRESH), VT4),
    ...splat(op.f32Const(1), ONE4),
    ...splat(op.f32Const(0), ZERO4),
    ...splat(get(TIME), TIME4),
    ...splat(get(LEAK_STEP), LEAK4),
    ...splat(get(V_RESET), RESET4),
    ...splat(get(REFRAC_UNTIL), UNTIL4),
  ];
  /** One group of four neurons at byte offset `I`. */
  const group = [
    ...at(CURRENT),
    ...op.v128Load,
    ...set(CUR),
    ...(a.refractory
      ? [
        ...at(STATE, 2),
        ...op.v128Load,
        ...set(REFRAC),
        // composed: current · (1 - step(refracUntil - time))
        ...get(CUR),
        ...get(ZERO4),
        ...get(ONE4),
        ...get(REFRAC),
        ...get(TIME4),
        ...op.f32x4Gt,
        ...op.v128Bitselect,
        ...op.f32x4Mul,
        ...set(CUR),
      ]
      : []),
    ...at(STATE),
    ...op.v128Load,
    ...get(CUR),
    ...op.f32x4Add,
    ...set(MEM),
    // composed: mem - step(mem) · leakStep
    ...(a.leak
      ? [
        ...get(MEM),
        ...get(LEAK4),
        ...get(MEM),
        ...get(ZERO4),
        ...op.f32x4Gt,
        ...op.v128And,
        ...op.f32x4Sub,
        ...set(MEM),
      ]
      : []),
    ...fired,
    // composed: fired (or the signed spike) · v_thresh
    ...get(a.mode === "binary_tanh" ? SIGNED : FIRED),
    ...get(VT4),
    ...op.f32x4Mul,
    ...set(SPIKE),
    ...at(SPIKES),
    ...get(SPIKE),
    ...op.v128Store,
    ...at(NEXT),
    ...reset,
    ...op.v128Store,
    // composed: counts + fired
    ...at(NEXT, 1),
    ...at(STATE, 1),
    ...op.v128Load,
    ...get(FIRED),
    ...op.f32x4Add,
    ...op.v128Store,
    // composed: where(fired > 0, time + tau_refrac, refracUntil)
    ...(a.refractory
      ? [...at(NEXT, 2), ...get(UNTIL4), ...get(REFRAC), ...firedMask, ...op.v128Bitselect, ...op.v128Store]
      : []),
  ];
  /** `while (local < limit) { ...body }` (a block around a loop; no branch out of `body`). */
  const whileBelow = (local: number, limit: number, body: number[]) => [
    ...op.block,
    ...op.loop,
    ...get(local),
    ...get(limit),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  // Without statistics one loop over the groups; with them, a loop over the samples around a loop
  // over a sample's groups (no branch inside the inner loop), the sums stored after each sample.
  const loops = a.stats
    ? [
      ...get(STATS),
      ...set(OUT),
      ...whileBelow(I, BYTES, [
        ...get(ZERO4),
        ...set(SOPS4),
        ...get(ZERO4),
        ...set(SPIKES4),
        ...op.i32Const(0),
        ...set(J),
        ...whileBelow(J, SAMPLE_BYTES, [...group, ...accumulate, ...advance(I), ...advance(J)]),
        ...storeStats,
      ]),
    ]
    : whileBelow(I, BYTES, [...group, ...advance(I)]);
  const { i32, f32, v128 } = ValType;
  return {
    name: "step",
    params: [i32, i32, i32, i32, i32, i32, f32, f32, f32, f32, f32, i32, i32, i32],
    locals: [i32, i32, i32, ...Array<typeof v128>(16).fill(v128)],
    body: [...body, ...loops],
  };
}

/** The backend's heap when the kernel can use it (a WebAssembly memory that is not shared). */
function heapOf(backend: unknown): WebAssembly.Memory | undefined {
  const wasm = (backend as Partial<WasmHeapBackend> | undefined)?.wasm;
  const memory = wasm?.asm?.memory ?? wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory) || typeof wasm?._malloc !== "function") return undefined;
  return memory.buffer instanceof ArrayBuffer ? memory : undefined;
}

/** Compiled variants and the scratch space for the last few neurons, per heap. */
interface HeapKernels {
  steps: Map<string, StepFunction>;
  /** Byte address of 32 float32 values: state `[3, 4]`, current 4, spikes 4, next state `[3, 4]`. */
  scratch: number;
}
const kernels = new WeakMap<WebAssembly.Memory, HeapKernels>();

let simdValid: boolean | undefined;

/** Whether the kernel runs a layer with reset `reset` on the active backend (which must be `wasm`). */
export function wasmIntegrateFireSupported(reset: ResetKind): boolean {
  if (reset === "modulo" || tf.getBackend() !== "wasm") return false;
  simdValid ??= WebAssembly.validate(moduleImportingMemory([stepFunction(PROBE)]));
  return simdValid && heapOf(tf.backend()) !== undefined;
}

/** The variant using every instruction, validated once (WebAssembly SIMD is there). */
const PROBE: Variant = { mode: "binary_tanh", reset: "zero", leak: true, refractory: true, stats: true };

function stepFor(memory: WebAssembly.Memory, backend: WasmHeapBackend, v: Variant): {
  step: StepFunction;
  scratch: number;
} {
  let k = kernels.get(memory);
  if (!k) {
    k = { steps: new Map(), scratch: backend.wasm._malloc!(32 * 4) };
    kernels.set(memory, k);
  }
  const key = `${v.mode}_${v.reset}_${v.leak}_${v.refractory}_${v.stats}`;
  let step = k.steps.get(key);
  if (!step) {
    const module = new WebAssembly.Module(moduleImportingMemory([stepFunction(v)]));
    step = new WebAssembly.Instance(module, { env: { memory } }).exports.step as StepFunction;
    k.steps.set(key, step);
  }
  return { step, scratch: k.scratch };
}

/**
 * `SnnIntegrateFire` on the WASM backend: one pass of the variant's step
 * function; with input `fanout` (`SnnIntegrateFireStats`, one int32 value
 * per neuron of a sample, a multiple of four of them, summing to less than
 * 2³¹), a third output `[batch, 2]`: each sample's synaptic operations and
 * spikes in this step.
 */
export function wasmIntegrateFire({ inputs, backend, attrs }: WasmIntegrateFireArgs): tf.TensorInfo[] {
  const memory = heapOf(backend);
  if (!memory) throw new Error("SnnIntegrateFire: the WASM backend's heap is not reachable");
  const b = backend as WasmHeapBackend;
  const { state, current, fanout } = inputs;
  const n = current.shape.reduce((x, y) => x * y, 1);
  const rows = state.shape[0];
  const perSample = fanout ? fanout.shape.reduce((x, y) => x * y, 1) : 0;
  if (fanout && (perSample % 4 !== 0 || n % perSample !== 0)) {
    throw new RangeError(
      `SnnIntegrateFireStats: ${perSample} neurons per sample (a multiple of 4 of ${n} needed)`,
    );
  }
  if (fanout && fanout.dtype !== "int32") {
    throw new TypeError(`SnnIntegrateFireStats: the fan-out must be int32, found ${fanout.dtype}`);
  }
  const spikes = b.makeOutput(current.shape, "float32");
  const next = b.makeOutput(state.shape, "float32");
  const stats = fanout ? b.makeOutput([n / perSample, 2], "float32") : undefined;
  const { step, scratch } = stepFor(memory, b, { ...attrs, stats: fanout !== undefined });
  const [s, c, o, x] = [state, current, spikes, next].map((t) => b.getMemoryOffset(t.dataId));
  const [f, st] = fanout && stats
    ? [b.getMemoryOffset(fanout.dataId), b.getMemoryOffset(stats.dataId)]
    : [0, 0];
  const values = [attrs.vThresh, attrs.vReset, attrs.leakStep, attrs.time, attrs.refracUntil] as const;
  const bulk = n - (n % 4);
  step(s, c, o, x, bulk * 4, n * 4, ...values, f, st, perSample * 4);
  if (bulk < n) {
    // The last n % 4 neurons (never with statistics): copied into a group of four, stepped, copied back.
    const heap = new Float32Array(memory.buffer);
    const [sS, sC, sO, sX] = [scratch, scratch + 48, scratch + 64, scratch + 80].map((p) => p / 4);
    heap.fill(0, sS, sS + 32);
    const tail = n - bulk;
    for (let j = 0; j < tail; j++) {
      for (let r = 0; r < rows; r++) heap[sS + 4 * r + j] = heap[s / 4 + r * n + bulk + j];
      heap[sC + j] = heap[c / 4 + bulk + j];
    }
    step(scratch, scratch + 48, scratch + 64, scratch + 80, 16, 16, ...values, 0, 0, 16);
    for (let j = 0; j < tail; j++) {
      heap[o / 4 + bulk + j] = heap[sO + j];
      for (let r = 0; r < rows; r++) heap[x / 4 + r * n + bulk + j] = heap[sX + 4 * r + j];
    }
  }
  return stats ? [spikes, next, stats] : [spikes, next];
}
