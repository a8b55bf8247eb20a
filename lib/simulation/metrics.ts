/**
 * Classification and correlation measures of a simulation run, with the
 * Python toolbox's conventions: a sample with no output spike yet is
 * undecided (wrong for top-1 and top-k); ties in top-k rank the lower class
 * index first; Pearson correlation of spike rates with ANN
 * activations per sample, ignoring in hidden layers the neurons silent in
 * both and those whose activation is at or above the maximum rate `1 / dt`.
 *
 * @module
 */

/** Index of the first largest value (numpy `argmax`), or -1 when every value is 0 (no decision yet). */
export function decide(row: ArrayLike<number>): number {
  let best = 0;
  let any = false;
  for (let j = 0; j < row.length; j++) {
    if (row[j] !== 0) any = true;
    if (row[j] > row[best]) best = j;
  }
  return any ? best : -1;
}

/**
 * Whether `target` is among the `k` largest of `row`. Ties rank the lower
 * class index first (so top-1 agrees with {@linkcode decide}); a row with no
 * spike at all is undecided, hence wrong. (The toolbox's
 * `np.argsort(row)[-k:]` orders ties arbitrarily.)
 */
export function inTopK(row: ArrayLike<number>, target: number, k: number): boolean {
  const v = row[target];
  let above = 0;
  let any = false;
  for (let j = 0; j < row.length; j++) {
    if (row[j] !== 0) any = true;
    if (row[j] > v || (row[j] === v && j < target)) above++;
  }
  return any && above < k;
}

/** Pearson correlation coefficient of two equally long samples (NaN when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n < 2) return NaN;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * Per-sample Pearson correlation of spike `rates` with ANN `activations`
 * (both `[batch, neurons]`, flat). For hidden layers (`filter`), neurons
 * with rate and activation both 0, or activation ≥ `maxRate`, are left out.
 */
export function sampleCorrelations(
  rates: Float32Array,
  activations: Float32Array,
  batch: number,
  filter: boolean,
  maxRate: number,
): number[] {
  const n = rates.length / batch;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const r = rates.subarray(b * n, (b + 1) * n);
    const a = activations.subarray(b * n, (b + 1) * n);
    if (!filter) {
      out.push(pearson(r, a));
      continue;
    }
    const rs: number[] = [], as: number[] = [];
    for (let i = 0; i < n; i++) {
      if ((r[i] > 0 || a[i] > 0) && a[i] < maxRate) {
        rs.push(r[i]);
        as.push(a[i]);
      }
    }
    out.push(pearson(rs, as));
  }
  return out;
}
