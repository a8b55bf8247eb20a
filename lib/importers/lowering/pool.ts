/**
 * One pooling lowering for every channels-first library (ONNX/PyTorch,
 * Caffe, Lasagne): max or average pooling as the source computes it —
 * window placement from explicit pads and the source's output size (floor
 * or ceil mode), and what the source does with the padded positions — as
 * TF.js pooling layers in NCHW (NCW) layout.
 *
 * TF.js offers `valid` pooling and `same` pooling (padded positions
 * ignored: −∞ for max, excluded from the average's divisor), optionally after
 * a `ZeroPadding2D`. {@linkcode planPool} picks the first of these that
 * places the windows as the source does and gives the source's values:
 *
 * - `same` alone, where TF.js's placement equals the source's;
 * - zero padding then `valid`;
 * - zero padding of the explicit pads then `same` (ceil-mode windows that
 *   overhang the padded input, as in PyTorch and Caffe, which leave the
 *   overhang out of the average);
 *
 * and otherwise zero padding then `valid` marked inexact (Caffe builds it
 * with a note; ONNX refuses). 1-D pooling cannot be zero-padded.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { makeChannelsFirstPooling1D } from "../../layers/tfjs_fixes.ts";

/** A pooling layer in the source's channels-first terms. */
export interface PoolSpec {
  /** Max or average pooling. */
  method: "max" | "avg";
  /** Spatial input size (1 or 2 dims). */
  inputSize: readonly number[];
  /** Window size per dim. */
  kernel: readonly number[];
  /** Strides per dim. */
  strides: readonly number[];
  /** Explicit padding per dim, `[before, after]`. */
  pads: readonly (readonly [number, number])[];
  /** Output size per dim as the source computes it (floor or ceil mode). */
  outputSize: readonly number[];
  /**
   * Whether the explicit pads take part as zeros: counted in the average's
   * divisor (PyTorch `count_include_pad`, Caffe AVE), compared in the max
   * (Theano). Window parts beyond the explicit pads (ceil mode) never count.
   */
  padsAreZeros: boolean;
  /** Whether the input is known to be ≥ 0 (after a ReLU): zeros then never win a max. */
  nonNegative: boolean;
}

/** How a pooling layer is built in TF.js. */
export interface PoolPlan {
  /** Padding mode of the TF.js pooling layer. */
  padding: "valid" | "same";
  /** Zero padding in front (`undefined`: none). */
  zeroPad?: [number, number][];
  /** Whether the TF.js layers give the source's values (false: only the shapes are exact). */
  exact: boolean;
}

interface DimFacts {
  n: number;
  k: number;
  s: number;
  pb: number;
  pa: number;
  out: number;
}

/** Zero padding after the input that `valid` pooling needs to give `out` windows. */
function validAfter({ n, k, s, pb, out }: DimFacts): number {
  return Math.max((out - 1) * s + k - pb - n, 0);
}

/** Whether TF.js `same` pooling of a length-`n` dim places `out` windows starting at `-before`. */
function sameMatches(n: number, k: number, s: number, before: number, out: number): boolean {
  const outS = Math.ceil(n / s);
  const total = Math.max((outS - 1) * s + k - n, 0);
  return outS === out && Math.floor(total / 2) === before;
}

/** Whether zeros at the positions the windows read give the source's values. */
function zerosExact(spec: PoolSpec, touchesPads: boolean, overhangs: boolean): boolean {
  const maxSafe = spec.method === "max" && spec.nonNegative;
  return (!touchesPads || spec.padsAreZeros || maxSafe) && (!overhangs || maxSafe);
}

/** Whether ignoring the padded positions (TF.js `same`) gives the source's values. */
function ignoredExact(spec: PoolSpec, touchesPads: boolean): boolean {
  return !touchesPads || !spec.padsAreZeros || (spec.method === "max" && spec.nonNegative);
}

/** Plan the TF.js layers of a pooling layer (see the module documentation). */
export function planPool(spec: PoolSpec): PoolPlan {
  const dims: DimFacts[] = spec.inputSize.map((n, i) => ({
    n,
    k: spec.kernel[i],
    s: spec.strides[i],
    pb: spec.pads[i][0],
    pa: spec.pads[i][1],
    out: spec.outputSize[i],
  }));
  const oneD = dims.length === 1;
  const after = dims.map(validAfter);
  const padded = dims.some((d, i) => d.pb > 0 || after[i] > 0);
  // 1. TF.js 'same' alone.
  if (padded && dims.every((d) => sameMatches(d.n, d.k, d.s, d.pb, d.out))) {
    const exact = dims.every((d) => {
      const outS = Math.ceil(d.n / d.s);
      const afterS = Math.max((outS - 1) * d.s + d.k - d.n, 0) - d.pb;
      return ignoredExact(spec, d.pb > 0 || Math.min(afterS, d.pa) > 0);
    });
    if (exact) return { padding: "same", exact };
  }
  if (!padded) return { padding: "valid", exact: true };
  const zeroPad = dims.map((d, i) => [d.pb, after[i]] as [number, number]);
  // 2. Zero padding, then 'valid'.
  const validExact = dims.every((d, i) =>
    zerosExact(spec, d.pb > 0 || Math.min(after[i], d.pa) > 0, after[i] > d.pa)
  );
  if (validExact && !oneD) return { padding: "valid", zeroPad, exact: true };
  // 3. The explicit pads as zeros, then 'same' for the overhang.
  const explicit = dims.map((d) => [d.pb, d.pa] as [number, number]);
  const sameAfterPads = dims.every((d) => sameMatches(d.n + d.pb + d.pa, d.k, d.s, 0, d.out));
  if (sameAfterPads && dims.every((d) => zerosExact(spec, d.pb > 0 || d.pa > 0, false))) {
    const any = explicit.some(([a, b]) => a > 0 || b > 0);
    if (!oneD || !any) return { padding: "same", zeroPad: any ? explicit : undefined, exact: true };
  }
  return { padding: "valid", zeroPad, exact: false };
}

/** Options of {@linkcode applyPool}. */
export interface PoolLayerOptions {
  /** Name of the pooling layer. */
  name: string;
  /** Name of the `ZeroPadding2D` layer, when the plan has one. */
  padName: () => string;
}

/** Build the planned layers on `input` (NCHW, or NCW for 1-D pooling); returns the output. */
export function applyPool(
  plan: PoolPlan,
  spec: PoolSpec,
  input: tf.SymbolicTensor,
  options: PoolLayerOptions,
): tf.SymbolicTensor {
  let x = input;
  if (plan.zeroPad) {
    if (spec.kernel.length !== 2) throw new RangeError("1-D pooling cannot be zero-padded");
    x = tf.layers.zeroPadding2d({
      padding: [plan.zeroPad[0], plan.zeroPad[1]],
      dataFormat: "channelsFirst",
      name: options.padName(),
    }).apply(x) as tf.SymbolicTensor;
  }
  if (spec.kernel.length === 1) {
    const layer = makeChannelsFirstPooling1D(spec.method === "max" ? "MaxPooling1D" : "AveragePooling1D", {
      poolSize: [spec.kernel[0]],
      strides: [spec.strides[0]],
      padding: plan.padding,
      name: options.name,
    });
    return layer.apply(x) as tf.SymbolicTensor;
  }
  const args = {
    poolSize: [spec.kernel[0], spec.kernel[1]] as [number, number],
    strides: [spec.strides[0], spec.strides[1]] as [number, number],
    padding: plan.padding,
    dataFormat: "channelsFirst" as const,
    name: options.name,
  };
  const layer = spec.method === "max" ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
  return layer.apply(x) as tf.SymbolicTensor;
}

/**
 * Output size of one dim of floor- or ceil-mode pooling as PyTorch and ONNX
 * compute it (a ceil-mode window must start inside the input or its leading
 * pad).
 */
export function pooledSize(n: number, k: number, s: number, pb: number, pa: number, ceil: boolean): number {
  const span = n + pb + pa - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + pb) out--;
  return out;
}
