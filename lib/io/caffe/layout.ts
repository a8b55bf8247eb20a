/**
 * Weight layouts of NCHW frameworks (Caffe, Lasagne/Theano) converted to
 * TensorFlow.js layers layouts: convolution kernels `[out, in, kh, kw]` →
 * `[kh, kw, in, out]` (optionally flipped spatially, for frameworks that
 * convolve rather than cross-correlate), depthwise kernels and dense
 * matrices.
 *
 * @module
 */
import { float32Array, type Float32NDArray, sizeOf } from "../ndarray.ts";

/** Permute the axes of a C-order array: output axis `i` is input axis `perm[i]`. */
export function transposeArray(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): Float32NDArray {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return float32Array(out, outShape);
}

/** Reverse the two spatial axes of an `[out, in, kh, kw]` kernel (true convolution ↔ cross-correlation). */
export function flipKernelOIHW(data: Float32Array, shape: readonly number[]): Float32Array {
  const [o, i, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < o * i; a++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        out[a * h * w + y * w + x] = data[a * h * w + (h - 1 - y) * w + (w - 1 - x)];
      }
    }
  }
  return out;
}

/** An `[out, in, kh, kw]` kernel as a tfjs Conv2D kernel `[kh, kw, in, out]`, flipped when `flip`. */
export function convKernelToTf(data: Float32Array, shape: readonly number[], flip: boolean): Float32NDArray {
  if (shape.length !== 4 || sizeOf(shape) !== data.length) {
    throw new RangeError(`expected a 4-D [out, in, kh, kw] kernel of ${data.length} values, got [${shape}]`);
  }
  return transposeArray(flip ? flipKernelOIHW(data, shape) : data, shape, [2, 3, 1, 0]);
}

/**
 * A grouped kernel with one input channel per group, `[channels *
 * multiplier, 1, kh, kw]`, as a tfjs DepthwiseConv2D kernel `[kh, kw,
 * channels, multiplier]` (output `c * multiplier + j` ↔ `[.., c, j]`).
 */
export function depthwiseKernelToTf(
  data: Float32Array,
  shape: readonly number[],
  channels: number,
  flip: boolean,
): Float32NDArray {
  const [out, , h, w] = shape;
  const src = flip ? flipKernelOIHW(data, shape) : data;
  return transposeArray(src, [channels, out / channels, h, w], [2, 3, 0, 1]);
}

/** An `[out, in]` matrix as a tfjs Dense kernel `[in, out]`. */
export function denseKernelToTf(data: Float32Array, outputs: number, inputs: number): Float32NDArray {
  return transposeArray(data, [outputs, inputs], [1, 0]);
}
