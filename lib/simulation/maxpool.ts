/**
 * The toolbox's spiking max-pooling: in each pooling window, only the input
 * neuron with the largest accumulated input so far (the first one in
 * row-major window order on ties, as `tf.nn.max_pool_with_argmax`) passes
 * its spikes on.
 *
 * Non-overlapping `valid` pools (stride = pool size, the common case) are
 * cut into windows by reshaping; any other pool size, stride and padding
 * gathers its windows with one precomputed index tensor (padded positions
 * never win: their gate is -∞).
 *
 * @module
 */
import { type Tensor, type Tensor4D, tf } from "../../deps.ts";

/** Pool window geometry (channels-last, 2-D). */
export interface PoolGeometry {
  /** Window height and width. */
  poolSize: [number, number];
  /** Strides. */
  strides: [number, number];
  /** `valid` or `same` (TensorFlow's padding arithmetic). */
  padding: "valid" | "same";
}

interface WindowIndex {
  idx: tf.Tensor1D;
  outH: number;
  outW: number;
  k: number;
}

const cache = new Map<string, WindowIndex>();

/** Index (into the flattened spatial positions, `h·w` = padding) of every window element, cached. */
function windowIndex(h: number, w: number, geo: PoolGeometry): WindowIndex {
  const key = `${h}x${w}/${geo.poolSize}/${geo.strides}/${geo.padding}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const [ph, pw] = geo.poolSize;
  const [sh, sw] = geo.strides;
  let outH: number, outW: number, top = 0, left = 0;
  if (geo.padding === "same") {
    outH = Math.ceil(h / sh);
    outW = Math.ceil(w / sw);
    top = Math.floor(Math.max((outH - 1) * sh + ph - h, 0) / 2);
    left = Math.floor(Math.max((outW - 1) * sw + pw - w, 0) / 2);
  } else {
    outH = Math.floor((h - ph) / sh) + 1;
    outW = Math.floor((w - pw) / sw) + 1;
  }
  const k = ph * pw;
  const data = new Int32Array(outH * outW * k);
  let n = 0;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let dy = 0; dy < ph; dy++) {
        for (let dx = 0; dx < pw; dx++) {
          const y = oy * sh - top + dy;
          const x = ox * sw - left + dx;
          data[n++] = y >= 0 && y < h && x >= 0 && x < w ? y * w + x : h * w;
        }
      }
    }
  }
  const entry = { idx: tf.keep(tf.tensor1d(data, "int32")), outH, outW, k };
  cache.set(key, entry);
  return entry;
}

/** Gather windows: `[b, h, w, c]` → `[b, outH, outW, k, c]`, padding filled with `padValue`. */
function windows(x: Tensor4D, win: WindowIndex, padValue: number): Tensor {
  const [b, h, w, c] = x.shape;
  const flat = tf.concat([tf.reshape(x, [b, h * w, c]), tf.fill([b, 1, c], padValue)], 1);
  return tf.reshape(tf.gather(flat, win.idx, 1), [b, win.outH, win.outW, win.k, c]);
}

/** Windows of a non-overlapping valid pool by reshaping: `[b, h, w, c]` → `[b, oh, ow, c, k]`. */
function tiles(t: Tensor4D, ph: number, pw: number): Tensor {
  const [b, h, w, c] = t.shape;
  const oh = Math.floor(h / ph), ow = Math.floor(w / pw);
  const cropped = oh * ph === h && ow * pw === w ? t : tf.slice(t, [0, 0, 0, 0], [b, oh * ph, ow * pw, c]);
  const split = tf.reshape(cropped, [b, oh, ph, ow, pw, c]);
  return tf.reshape(tf.transpose(split, [0, 1, 3, 5, 2, 4]), [b, oh, ow, c, ph * pw]);
}

/**
 * Max-pool the spikes `x`, letting through only the input with the largest
 * accumulated input `gate` in each window; returns `[b, outH, outW, c]`.
 */
export function gatedMaxPool(x: Tensor4D, gate: Tensor4D, geo: PoolGeometry): Tensor4D {
  return tf.tidy(() => {
    const [ph, pw] = geo.poolSize;
    if (geo.padding === "valid" && geo.strides[0] === ph && geo.strides[1] === pw) {
      const winner = tf.oneHot(tf.argMax(tiles(gate, ph, pw), 4), ph * pw); // [b, oh, ow, c, k]
      return tf.max(tf.mul(tiles(x, ph, pw), winner), 4) as Tensor4D;
    }
    const win = windowIndex(x.shape[1], x.shape[2], geo);
    const g = windows(gate, win, -Infinity);
    const xs = windows(x, win, 0);
    const winner = tf.oneHot(tf.argMax(g, 3), win.k); // [b, oh, ow, c, k]
    const mask = tf.transpose(winner, [0, 1, 2, 4, 3]);
    return tf.max(tf.mul(xs, mask), 3) as Tensor4D;
  });
}
