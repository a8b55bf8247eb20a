/**
 * Poisson input spikes (the toolbox's `get_poisson_frame_batch`): at every
 * step a pixel of value `x` spikes with amplitude `sign(x) · max(x_batch)`
 * when `u · rescale · max(x_batch) <= |x|` for a uniform draw `u` in [0, 1).
 *
 * The draws are made per sample (./kernels/noise.ts): those of sample `s`
 * at step `t` are keyed by `(seed, s, t)`, `s` being the sample's index in
 * the test set. A sample therefore receives the same random numbers
 * whatever batch position, batch number, shard or worker it is simulated
 * in, and on every backend (on WebGPU they are drawn on the device).
 *
 * @module
 */
import { type Tensor, tf } from "../../deps.ts";
import { uniformNoise } from "./kernels/noise.ts";

/** The random stream of the Poisson input (streams `1 + i` are spiking layer `i`'s). */
export const POISSON_STREAM = 0;

/**
 * One step of Poisson input spikes for a batch `x` (samples first) whose
 * samples have test-set indices `sampleIds`; `maxX` is the batch's largest
 * value and `rescale` `1000 / (input_rate · dt)`. Returns the spikes
 * (`frame`) and the 0/1 `mask` of where they are.
 */
export function poissonInput(
  x: Tensor,
  sampleIds: Int32Array,
  maxX: number,
  rescale: number,
  seed: number,
  step: number,
): { frame: Tensor; mask: Tensor } {
  return tf.tidy(() => {
    const u = uniformNoise(x.shape, sampleIds, { seed, stream: POISSON_STREAM, step });
    const snapshot = tf.mul(u, rescale * maxX);
    const mask = tf.sub(1, tf.step(tf.sub(snapshot, tf.abs(x)))); // snapshot <= |x|
    return { frame: tf.mul(mask, tf.mul(tf.sign(x), maxX)), mask };
  });
}
