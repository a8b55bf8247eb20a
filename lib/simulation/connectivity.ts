/**
 * Connection counting on plain arrays (no gradients, so every TF.js backend
 * works): how many synapses leave each input neuron of a layer, exactly,
 * borders and strides included. Used for the synaptic operations (SOPs) of
 * the SNN and the multiply-accumulates (MACs) of the ANN.
 *
 * @module
 */

/** Window geometry along one spatial axis. */
export interface AxisWindow {
  /** Kernel (window) size. */
  k: number;
  /** Stride. */
  s: number;
  /** Dilation (1 for pooling). */
  d: number;
  /** TensorFlow padding mode. */
  padding: "valid" | "same";
}

/** Number of output positions whose window covers each of the `nIn` input positions. */
export function coverCounts(nIn: number, nOut: number, w: AxisWindow): Float64Array {
  const span = (w.k - 1) * w.d + 1;
  const before = w.padding === "same" ? Math.floor(Math.max((nOut - 1) * w.s + span - nIn, 0) / 2) : 0;
  const counts = new Float64Array(nIn);
  for (let o = 0; o < nOut; o++) {
    for (let t = 0; t < w.k; t++) {
      const i = o * w.s - before + t * w.d;
      if (i >= 0 && i < nIn) counts[i]++;
    }
  }
  return counts;
}

/** For a transposed convolution: number of the `nOut` outputs each of the `nIn` inputs reaches. */
export function transposeCounts(nIn: number, nOut: number, w: AxisWindow): Float64Array {
  // The forward convolution maps nOut positions to nIn; its padding decides which outputs are cropped.
  const before = w.padding === "same" ? Math.floor(Math.max((nIn - 1) * w.s + w.k - nOut, 0) / 2) : 0;
  const counts = new Float64Array(nIn);
  for (let i = 0; i < nIn; i++) {
    for (let t = 0; t < w.k; t++) {
      const o = i * w.s - before + t;
      if (o >= 0 && o < nOut) counts[i]++;
    }
  }
  return counts;
}

/** Fan-out array of a `[...spatial, channels]` input from per-axis counts times `perChannel` targets. */
export function spatialFanout(
  axisCounts: Float64Array[],
  channels: number,
  perChannel: number,
): Float32Array {
  const spatial = axisCounts.reduce((n, a) => n * a.length, 1);
  const out = new Float32Array(spatial * channels);
  for (let p = 0; p < spatial; p++) {
    let rem = p;
    let v = perChannel;
    for (let a = axisCounts.length - 1; a >= 0; a--) {
      const len = axisCounts[a].length;
      v *= axisCounts[a][rem % len];
      rem = Math.floor(rem / len);
    }
    out.fill(v, p * channels, (p + 1) * channels);
  }
  return out;
}

/** Split a fan-out array of a concatenation output back onto its inputs. */
export function splitConcat(fanout: Float32Array, inputShapes: number[][], axis: number): Float32Array[] {
  const rank = inputShapes[0].length;
  const ax = axis < 0 ? rank + axis : axis - 1; // config axes count the batch dimension
  const outer = inputShapes[0].slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = inputShapes[0].slice(ax + 1).reduce((a, b) => a * b, 1);
  const total = inputShapes.reduce((n, s) => n + s[ax], 0);
  let offset = 0;
  return inputShapes.map((s) => {
    const part = new Float32Array(outer * s[ax] * inner);
    for (let o = 0; o < outer; o++) {
      const src = (o * total + offset) * inner;
      part.set(fanout.subarray(src, src + s[ax] * inner), o * s[ax] * inner);
    }
    offset += s[ax];
    return part;
  });
}

/** Crop a fan-out array of a zero-padded `[h, w, c]` output back to the `[h0, w0, c]` input. */
export function cropPadding(
  fanout: Float32Array,
  inputShape: number[],
  top: number,
  left: number,
  outW: number,
): Float32Array {
  const [h, w, c] = inputShape;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const src = ((y + top) * outW + left) * c;
    out.set(fanout.subarray(src, src + w * c), y * w * c);
  }
  return out;
}
