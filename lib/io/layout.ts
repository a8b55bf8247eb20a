/**
 * Array layouts: C-order axis permutation, and the weight layouts of NCHW
 * frameworks (ONNX/PyTorch, Caffe, Lasagne/Theano) converted to the
 * TensorFlow.js layers layouts — convolution kernels `[out, in, ...k]` →
 * `[...k, in, out]` (optionally flipped spatially, for frameworks that
 * convolve rather than cross-correlate), depthwise kernels and dense
 * matrices `[out, in]` → `[in, out]`. One implementation for every library.
 *
 * @module
 */
import { float32Array, type Float32NDArray, sizeOf, type TypedArray } from "./ndarray.ts";

/** C-order (row-major) strides of `shape`, in elements: `[6, 2, 1]` for `[4, 3, 2]`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Permute the axes of a C-order array: output axis `i` is input axis
 * `perm[i]` (numpy `transpose(perm)`), so the result has shape
 * `perm.map((p) => shape[p])`. Returns a new array of the same type.
 */
export function transposeArray<T extends TypedArray>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  if (shape.length > 4) return transposeGeneric(data, shape, perm, out);
  // Pad to rank 4 with leading ones: four plain loops (weight layouts are rank 2–4).
  const k = 4 - shape.length;
  const s4 = [...new Array<number>(k).fill(1), ...shape];
  const p4 = [...Array.from({ length: k }, (_, i) => i), ...perm.map((p) => p + k)];
  const inStrides = stridesOf(s4);
  const [d0, d1, d2, d3] = p4.map((p) => s4[p]);
  const [t0, t1, t2, t3] = p4.map((p) => inStrides[p]);
  let o = 0;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        let src = a * t0 + b * t1 + c * t2;
        for (let d = 0; d < d3; d++, src += t3) out[o++] = data[src];
      }
    }
  }
  return out;
}

/** {@linkcode transposeArray} of any rank: an odometer over the output index. */
function transposeGeneric<T extends TypedArray>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
  out: T,
): T {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  const permStrides = perm.map((p) => inStrides[p]);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += permStrides[d];
      if (idx[d] < outShape[d]) break;
      src -= permStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Reverse every spatial axis of an `[out, in, ...k]` kernel (true
 * convolution ↔ cross-correlation). Reversing all axes of a C-order block
 * reverses its elements, so each `[...k]` block is reversed in place order.
 */
export function flipKernelOIHW(data: Float32Array, shape: readonly number[]): Float32Array {
  const block = sizeOf(shape.slice(2));
  const out = new Float32Array(data.length);
  for (let a = 0; a < data.length; a += block) {
    for (let j = 0; j < block; j++) out[a + j] = data[a + block - 1 - j];
  }
  return out;
}

/**
 * An `[out, in, kh, kw]` (or 1-D `[out, in, k]`) kernel as a TF.js Conv2D
 * kernel `[kh, kw, in, out]` (Conv1D `[k, in, out]`), spatially flipped
 * when `flip`.
 */
export function convKernelToTf(data: Float32Array, shape: readonly number[], flip = false): Float32NDArray {
  if ((shape.length !== 3 && shape.length !== 4) || sizeOf(shape) !== data.length) {
    throw new RangeError(
      `expected a 3-D [out, in, k] or 4-D [out, in, kh, kw] kernel of ${data.length} values, got [${shape}]`,
    );
  }
  const perm = shape.length === 4 ? [2, 3, 1, 0] : [2, 1, 0];
  const src = flip ? flipKernelOIHW(data, shape) : data;
  return float32Array(transposeArray(src, shape, perm), perm.map((p) => shape[p]));
}

/**
 * A grouped kernel with one input channel per group, `[channels *
 * multiplier, 1, kh, kw]`, as a TF.js DepthwiseConv2D kernel `[kh, kw,
 * channels, multiplier]` (output `c * multiplier + j` ↔ `[.., c, j]`),
 * spatially flipped when `flip`.
 */
export function depthwiseKernelToTf(
  data: Float32Array,
  shape: readonly number[],
  channels: number,
  flip = false,
): Float32NDArray {
  const [out, , h, w] = shape;
  const src = flip ? flipKernelOIHW(data, shape) : data;
  const grouped = [channels, out / channels, h, w];
  return float32Array(transposeArray(src, grouped, [2, 3, 0, 1]), [h, w, channels, out / channels]);
}

/** An `[out, in]` matrix as a TF.js Dense kernel `[in, out]`. */
export function denseKernelToTf(data: Float32Array, outputs: number, inputs: number): Float32NDArray {
  return float32Array(transposeArray(data, [outputs, inputs], [1, 0]), [inputs, outputs]);
}
