/**
 * Poisson input spikes (the toolbox's `get_poisson_frame_batch`): at every
 * step a pixel of value `x` spikes with amplitude `sign(x) · max(x_batch)`
 * when `u · rescale · max(x_batch) <= |x|` for a uniform draw `u` in [0, 1).
 *
 * The draws are made per sample: those of sample `s` at step `t` come from
 * a stream keyed by `(seed, s, t)`, `s` being the sample's index in the test
 * set. A sample therefore receives the same random numbers whatever batch
 * position, batch number, shard or worker it is simulated in.
 *
 * @module
 */

/** Murmur3's 32-bit finalizer: a bijective avalanche mix of `h`. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 32-bit start state of the stream of sample `sample` at step `step`. */
function streamKey(seed: number, sample: number, step: number): number {
  const s = mix32((seed | 0) ^ 0x9e3779b9);
  const a = mix32((s + (sample | 0)) | 0);
  return mix32((a ^ Math.imul((step | 0) + 1, 0x27d4eb2f)) >>> 0);
}

/**
 * Fill `out` with `out.length` uniform numbers in [0, 1) of the stream
 * keyed by `(seed, sample, step)` (mulberry32 from the key).
 */
export function sampleUniforms(seed: number, sample: number, step: number, out: Float64Array): Float64Array {
  let a = streamKey(seed, sample, step);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/**
 * One step of Poisson input spikes for a batch: `x` holds the batch's
 * samples (flat, samples first), `sampleIndices` their test-set indices,
 * `maxX` the batch's largest value and `rescale` `1000 / (input_rate · dt)`.
 */
export function poissonFrame(
  x: Float32Array,
  sampleIndices: readonly number[],
  maxX: number,
  rescale: number,
  seed: number,
  step: number,
): Float32Array {
  const per = x.length / sampleIndices.length;
  const out = new Float32Array(x.length);
  const u = new Float64Array(per);
  const scale = rescale * maxX;
  sampleIndices.forEach((sample, k) => {
    sampleUniforms(seed, sample, step, u);
    const base = k * per;
    for (let i = 0; i < per; i++) {
      const v = x[base + i];
      if (v !== 0 && u[i] * scale <= Math.abs(v)) out[base + i] = v > 0 ? maxX : -maxX;
    }
  });
  return out;
}
