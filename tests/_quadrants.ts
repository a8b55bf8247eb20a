/**
 * A tiny task for the simulation and shard tests: 6x6 one-channel images
 * whose class (of 4) is the bright 3x3 quadrant, and a hand-set CNN that
 * solves it (conv brightness detectors → average pool, one cell per quadrant
 * → a Dense voting for the quadrant), named as the parser names layers.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { float32Array, type Float32NDArray } from "../lib/io/ndarray.ts";

/** How {@linkcode quadrantImages} draws its images. */
export interface QuadrantImageOptions {
  /** Sample `i` has class `(i * classStride) % 4`. */
  classStride: number;
  /** A bright pixel is `bright[0] + bright[1] * u` (`u` uniform in [0, 1)). */
  bright: [number, number];
  /** Every pixel gets `noise * u` more. */
  noise: number;
}

/** `n` images `[n, 6, 6, 1]` and one-hot labels `[n, 4]`, from a fixed LCG seeded with `seed`. */
export function quadrantImages(
  n: number,
  seed: number,
  options: QuadrantImageOptions,
): { x: Float32NDArray; y: Float32NDArray } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = new Float32Array(n * 36);
  const y = new Float32Array(n * 4);
  const [base, spread] = options.bright;
  for (let i = 0; i < n; i++) {
    const c = (i * options.classStride) % 4;
    y[i * 4 + c] = 1;
    for (let p = 0; p < 36; p++) {
      const r = Math.floor(p / 6), col = p % 6;
      const q = (r < 3 ? 0 : 2) + (col < 3 ? 0 : 1);
      x[i * 36 + p] = (q === c ? base + spread * rnd() : 0) + options.noise * rnd();
    }
  }
  return { x: float32Array(x, [n, 6, 6, 1]), y: float32Array(y, [n, 4]) };
}

/** The hand-set CNN: `input` 6x6x1 → `00Conv2D_4x4x4` → `01AveragePooling2D_2x2x4` → `02Flatten_16` → `03Dense_4`. */
export function quadrantModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 1], name: "input" });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu", name: "00Conv2D_4x4x4" });
  const pool = tf.layers.averagePooling2d({ poolSize: 2, name: "01AveragePooling2D_2x2x4" });
  const dense = tf.layers.dense({ units: 4, activation: "softmax", name: "03Dense_4" });
  const flat = tf.layers.flatten({ name: "02Flatten_16" }).apply(
    pool.apply(conv.apply(input)),
  ) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: dense.apply(flat) as tf.SymbolicTensor });
  const k = new Float32Array(9 * 4).map((_, i) => (1 + 0.1 * (i % 4)) / 9);
  conv.setWeights([tf.tensor(k, [3, 3, 1, 4]), tf.tensor([-0.1, -0.1, -0.15, -0.2])]);
  const w = new Float32Array(16 * 4).map((_, i) => (Math.floor(i / 16) === i % 4 ? 3 : -1));
  dense.setWeights([tf.tensor(w, [16, 4]), tf.zeros([4])]);
  return model;
}
