/**
 * Percentiles as numpy computes them (`np.percentile`, default `linear`
 * method), and a growable buffer that collects the non-zero values of a
 * layer's activations batch by batch.
 *
 * @module
 */

/**
 * Reorder `v` so that `v[k]` is the value a sort would put there, smaller or
 * equal values before it and larger or equal after it (Hoare's quickselect,
 * median-of-three pivots; linear time on average, where sorting millions of
 * activations is not).
 */
export function selectInPlace(v: Float32Array, k: number): void {
  let lo = 0, hi = v.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot.
    const a = v[lo], b = v[mid], c = v[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    let i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * The `p`-th percentile (0–100) of `values` with numpy's default linear
 * interpolation between the two nearest ranks. Reorders `values` in place
 * (partially sorted). Returns `undefined` for an empty array.
 */
export function percentile(values: Float32Array, p: number): number | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], found ${p}`);
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const frac = rank - lo;
  selectInPlace(values, lo);
  const a = values[lo];
  // The next rank: the smallest value after position lo.
  let b = a;
  if (hi > lo) {
    b = values[hi];
    for (let i = hi + 1; i < n; i++) if (values[i] < b) b = values[i];
  }
  // numpy's lerp: a + (b - a) * t, switched to b - (b - a) * (1 - t) for t >= 0.5.
  return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

/** Collects the non-zero values of a stream of float arrays into one growing buffer. */
export class NonZeroCollector {
  #buf = new Float32Array(1024);
  #len = 0;
  #seen = 0;

  /** Append the non-zero elements of `data`. */
  add(data: ArrayLike<number>): void {
    this.#seen += data.length;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v === 0) continue;
      if (this.#len === this.#buf.length) {
        const next = new Float32Array(this.#buf.length * 2);
        next.set(this.#buf);
        this.#buf = next;
      }
      this.#buf[this.#len++] = v;
    }
  }

  /** The collected non-zero values (a view on the buffer). */
  values(): Float32Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Number of values seen so far, zeros included. */
  get seen(): number {
    return this.#seen;
  }
}
