/**
 * Uniform random numbers keyed by sample, not by batch: the number drawn
 * for element `j` of sample `s` at time step `t` of random stream `k` (the
 * Poisson input, a softmax layer) under seed `seed` is a fixed function of
 * `(seed, k, t, s, j)` — a chain of PCG hashes (O'Neill's `pcg32` output
 * permutation, as in Jarzynski & Olano, "Hash Functions for GPU Rendering",
 * JCGT 2020). So a sample draws the same numbers whichever batch, slice or
 * worker simulates it, and every backend draws the same bits: the hash is
 * integer arithmetic, and `u = (h >> 8) · 2⁻²⁴` is exact in float32.
 *
 * On WebGPU the numbers are generated on the device (./webgpu.ts); on the
 * other backends here, in JavaScript, and uploaded.
 *
 * @module
 */
import { type Tensor, tf } from "../../../deps.ts";
import { webgpuNoise } from "./webgpu.ts";

/** One PCG hash step on an unsigned 32-bit integer. */
export function pcg(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul((state >>> ((state >>> 28) + 4)) ^ state, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Which numbers to draw: the seed, the random stream (0: Poisson input, 1 + i: spiking layer i) and the step. */
export interface NoiseKey {
  /** `[simulation] seed` (any integer; taken modulo 2³²). */
  seed: number;
  /** Random stream. */
  stream: number;
  /** Time step index. */
  step: number;
}

/** The hash of `(seed, stream, step)` that every sample's numbers start from. */
export function stepKey(key: NoiseKey): number {
  const seed = Math.trunc(key.seed) >>> 0;
  return pcg(pcg(pcg(seed) ^ (key.stream >>> 0)) ^ (key.step >>> 0));
}

/** `u ∈ [0, 1)` of element `j` of the sample with key `sampleKey` (= `pcg(stepKey ^ sampleId)`). */
export function noiseValue(sampleKey: number, j: number): number {
  return (pcg((sampleKey ^ j) >>> 0) >>> 8) * 2 ** -24;
}

/** The numbers of `sampleIds.length` samples of `perSample` elements each, in JavaScript. */
export function noiseArray(sampleIds: ArrayLike<number>, perSample: number, key: NoiseKey): Float32Array {
  const k = stepKey(key);
  const out = new Float32Array(sampleIds.length * perSample);
  for (let b = 0; b < sampleIds.length; b++) {
    const sk = pcg((k ^ sampleIds[b]) >>> 0);
    const off = b * perSample;
    for (let j = 0; j < perSample; j++) out[off + j] = noiseValue(sk, j);
  }
  return out;
}

/**
 * A tensor of uniform numbers of shape `[batch, ...sampleShape]`, sample `b`
 * drawing with id `sampleIds[b]` (see the module docs).
 */
export function uniformNoise(shape: number[], sampleIds: Int32Array, key: NoiseKey): Tensor {
  const perSample = shape.slice(1).reduce((a, b) => a * b, 1);
  if (tf.getBackend() !== "webgpu") return tf.tensor(noiseArray(sampleIds, perSample, key), shape, "float32");
  const k = stepKey(key);
  const sampleKeys = Int32Array.from(sampleIds, (id) => pcg((k ^ id) >>> 0) | 0);
  return webgpuNoise(shape, sampleKeys);
}
