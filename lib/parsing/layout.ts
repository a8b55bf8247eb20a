/**
 * Tensor layouts in the parser: permutations between the input model's
 * layout (channels_first for NCHW libraries) and the parsed model's
 * channels-last layout, and the row reorder a Dense layer needs when the
 * flatten before it changes layout.
 *
 * A permutation `p` of a tensor `S` (without batch) stands for
 * `transpose(S, p)`; `undefined` is the identity.
 *
 * @module
 */
import { ModelFormatError } from "../errors.ts";
import { type Float32NDArray, sizeOf } from "../io/ndarray.ts";

/** `[0, 1, …, n − 1]`. */
export function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Whether two permutations (`undefined` = identity) are the same. */
export function samePerm(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const n = Math.max(a?.length ?? 0, b?.length ?? 0);
  const x = a ?? identity(n);
  const y = b ?? identity(n);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Whether `p` is the identity (or absent). */
export function isIdentity(p: readonly number[] | undefined): boolean {
  return !p || p.every((v, i) => v === i);
}

/** Channels-first → channels-last permutation for a tensor of `rank` (without batch). */
export function channelsLastPerm(rank: number): number[] | undefined {
  return rank >= 2 ? [...identity(rank).slice(1), 0] : undefined;
}

/** The shape of transpose(S, perm) for `S` of `shape`. */
export function permuteShape(shape: readonly number[], perm: readonly number[] | undefined): number[] {
  return perm ? perm.map((i) => shape[i]) : [...shape];
}

/**
 * For each element of flatten(transpose(S, p)) (in order), its index in
 * flatten(transpose(S, q)); `S` has `shape`.
 */
export function flatIndexMap(shape: number[], p: number[], q: number[]): Int32Array {
  const n = shape.length;
  const pShape = p.map((i) => shape[i]);
  const qShape = q.map((i) => shape[i]);
  const qStride = new Array(n).fill(1);
  for (let k = n - 2; k >= 0; k--) qStride[k] = qStride[k + 1] * qShape[k + 1];
  // Position of source axis a within q.
  const posInQ = new Array(n);
  q.forEach((a, k) => (posInQ[a] = k));
  const total = sizeOf(shape);
  const out = new Int32Array(total);
  const idx = new Array(n).fill(0); // multi-index in transpose(S, p)
  for (let j = 0; j < total; j++) {
    let qi = 0;
    for (let k = 0; k < n; k++) qi += idx[k] * qStride[posInQ[p[k]]];
    out[j] = qi;
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < pShape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Reorder the rows of a Dense kernel `[in, out]`: row `j` of the result is row `rowMap[j]` of `kernel`. */
export function permuteRows(kernel: Float32NDArray, rowMap: Int32Array): Float32NDArray {
  const [rows, cols] = kernel.shape;
  if (rows !== rowMap.length) {
    throw new ModelFormatError(
      `Dense kernel has ${rows} rows, the flattened input has ${rowMap.length} elements`,
    );
  }
  const out = new Float32Array(kernel.data.length);
  for (let j = 0; j < rows; j++) {
    out.set(kernel.data.subarray(rowMap[j] * cols, rowMap[j] * cols + cols), j * cols);
  }
  return { ...kernel, data: out };
}
