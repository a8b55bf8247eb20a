/**
 * Spiking max-pooling against a plain loop written here: in each window the
 * input with the largest accumulated gate passes (first in row-major order on
 * ties, as TensorFlow's max_pool_with_argmax), for the reshape path
 * (non-overlapping valid pools) and the gather path (overlap, `same`).
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { gatedMaxPool, type PoolGeometry } from "../lib/simulation/maxpool.ts";
import { assertEquals } from "./_assert.ts";

await initBackend();

function plainGatedPool(x: Float32Array, g: Float32Array, shape: number[], geo: PoolGeometry): number[] {
  const [b, h, w, c] = shape;
  const [ph, pw] = geo.poolSize;
  const [sh, sw] = geo.strides;
  let oh: number, ow: number, top = 0, left = 0;
  if (geo.padding === "same") {
    oh = Math.ceil(h / sh);
    ow = Math.ceil(w / sw);
    top = Math.floor(Math.max((oh - 1) * sh + ph - h, 0) / 2);
    left = Math.floor(Math.max((ow - 1) * sw + pw - w, 0) / 2);
  } else {
    oh = Math.floor((h - ph) / sh) + 1;
    ow = Math.floor((w - pw) / sw) + 1;
  }
  const out: number[] = [];
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -1, bestG = -Infinity;
          for (let dy = 0; dy < ph; dy++) {
            for (let dx = 0; dx < pw; dx++) {
              const y = oy * sh - top + dy, xx = ox * sw - left + dx;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              const i = ((n * h + y) * w + xx) * c + ch;
              if (g[i] > bestG) [best, bestG] = [i, g[i]];
            }
          }
          out.push(x[best]);
        }
      }
    }
  }
  return out;
}

const geometries: [string, number[], PoolGeometry][] = [
  ["2x2 stride 2 valid", [2, 6, 6, 3], { poolSize: [2, 2], strides: [2, 2], padding: "valid" }],
  ["2x2 stride 2 valid, odd size (cropped)", [2, 7, 5, 2], {
    poolSize: [2, 2],
    strides: [2, 2],
    padding: "valid",
  }],
  ["3x3 stride 2 valid (overlap)", [2, 7, 7, 2], { poolSize: [3, 3], strides: [2, 2], padding: "valid" }],
  ["3x3 stride 2 same", [1, 6, 5, 2], { poolSize: [3, 3], strides: [2, 2], padding: "same" }],
  ["2x3 stride 1 same", [1, 4, 5, 1], { poolSize: [2, 3], strides: [1, 1], padding: "same" }],
];

for (const [label, shape, geo] of geometries) {
  Deno.test(`gated max-pool equals a plain loop: ${label}`, () => {
    const size = shape.reduce((a, b) => a * b, 1);
    // Small integer gates: many ties, which must go to the first window element.
    const g = Float32Array.from({ length: size }, (_, i) => (i * 7919) % 3);
    const x = Float32Array.from({ length: size }, (_, i) => ((i * 104729) % 5) / 4);
    const got = tf.tidy(() =>
      Array.from(
        gatedMaxPool(
          tf.tensor4d(x, shape as [number, number, number, number]),
          tf.tensor4d(g, shape as [number, number, number, number]),
          geo,
        )
          .dataSync(),
      )
    );
    assertEquals(got, plainGatedPool(x, g, shape, geo));
  });
}
