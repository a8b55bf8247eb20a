import { tf } from "../deps.ts";
import { assertClose, assertEquals, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  getInboundLayersWithoutParams,
  getInboundLayersWithParams,
  getOutboundActivation,
} from "../lib/parsing/utils.ts";
import { getFanin, getFanout, hasStrideUnity } from "../lib/parsing/fanout.ts";

await initBackend();

/**
 * Reference fan-out: d/dx of sum(conv(x; all-ones kernel)) counts, for every
 * input neuron, the (output position, filter) pairs it feeds (TF.js's own
 * convolution gradient, independent of getFanout's counting).
 */
function fanoutByGradient(inShape: number[], conv: tf.layers.Layer): Float32Array {
  const cfg = conv.getConfig() as {
    kernelSize: number[];
    strides: number[];
    padding: "same" | "valid";
    filters: number;
  };
  const kernel = tf.ones([cfg.kernelSize[0], cfg.kernelSize[1], inShape[2], cfg.filters]) as tf.Tensor4D;
  const g = tf.grad((x: tf.Tensor) =>
    tf.conv2d(x as tf.Tensor4D, kernel, cfg.strides as [number, number], cfg.padding).sum()
  );
  const out = g(tf.zeros([1, inShape[0], inShape[1], inShape[2]]));
  return out.dataSync() as Float32Array;
}

for (const padding of ["valid", "same"] as const) {
  Deno.test(`getFanout: strided ${padding} convolution → per-neuron array equal to the convolution's gradient count`, () => {
    const input = tf.input({ shape: [9, 8, 2] });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same" });
    const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding });
    const y = b.apply(a.apply(input)) as tf.SymbolicTensor;
    tf.model({ inputs: input, outputs: y });
    const fanout = getFanout(a);
    assertTrue(typeof fanout !== "number", "stride 2 gives an array");
    if (typeof fanout === "number") return;
    assertEquals(fanout.shape, [9, 8, 3]);
    assertClose(fanout.data, fanoutByGradient([9, 8, 3], b), { rtol: 0, atol: 0 });
  });
}

Deno.test("getFanout/getFanin/hasStrideUnity on unit-stride layers follow the toolbox's formulas", () => {
  const input = tf.input({ shape: [6, 6, 2] });
  const c1 = tf.layers.conv2d({ filters: 5, kernelSize: [3, 2] });
  const pool = tf.layers.maxPooling2d({ poolSize: 2 });
  const dense = tf.layers.dense({ units: 7 });
  let x = c1.apply(input) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 3 });
  const branch = c2.apply(x) as tf.SymbolicTensor;
  x = pool.apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = dense.apply(x) as tf.SymbolicTensor;
  tf.model({ inputs: input, outputs: [x, branch] });
  assertEquals(getFanin(c1), 3 * 2 * 2);
  assertEquals(getFanin(c2), 3 * 3 * 5);
  assertEquals(getFanin(dense), 2 * 2 * 5);
  assertEquals(getFanin(pool), 0);
  assertTrue(hasStrideUnity(c1));
  assertTrue(!hasStrideUnity(pool), "pooling strides default to the pool size");
  // c1 feeds a pooling (1 each) and a 3x3 conv with 6 filters.
  assertEquals(getFanout(c1), 1 + 3 * 3 * 6);
  // The pooling feeds a Dense through Flatten.
  assertEquals(getFanout(pool), 7);
});

Deno.test("getOutboundActivation, getInboundLayersWithParams/WithoutParams walk the graph", () => {
  const input = tf.input({ shape: [4] });
  const d1 = tf.layers.dense({ units: 3 });
  const drop = tf.layers.dropout({ rate: 0.1 });
  const act = tf.layers.activation({ activation: "tanh" });
  const d2 = tf.layers.dense({ units: 2, activation: "sigmoid" });
  const y = d2.apply(act.apply(drop.apply(d1.apply(input)))) as tf.SymbolicTensor;
  tf.model({ inputs: input, outputs: y });
  assertEquals(getOutboundActivation(d1), "tanh");
  assertEquals(getOutboundActivation(d2), "sigmoid");
  assertEquals(getInboundLayersWithParams(d2), [d1]);
  assertEquals(getInboundLayersWithoutParams(d2), [act]);
});
