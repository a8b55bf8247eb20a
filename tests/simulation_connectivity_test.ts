/**
 * Synapse counting (fan-out for SOPs, MACs of the ANN) against brute force:
 * each input neuron is set alone to 1 and the layer is run with a kernel of
 * ones through TF.js itself; the summed output is its number of synapses.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { assertClose, assertEquals, assertTrue, fixturesDir } from "./_assert.ts";

await initBackend();

/** Per-input synapse count of `op` applied to one-hot inputs of shape `inShape`. */
function bruteFanout(inShape: number[], op: (x: tf.Tensor) => tf.Tensor): number[] {
  const n = inShape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(tf.tidy(() => tf.sum(op(tf.oneHot([i], n).reshape([1, ...inShape]).toFloat())).dataSync()[0]));
  }
  return out;
}

const cases: {
  label: string;
  inShape: number[];
  layer: () => tf.layers.Layer;
  ones: (x: tf.Tensor) => tf.Tensor;
}[] = [
  {
    label: "Conv2D 3x3 stride 2 same",
    inShape: [5, 6, 2],
    layer: () => tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: "same", name: "l" }),
    ones: (x) => tf.conv2d(x as tf.Tensor4D, tf.ones([3, 3, 2, 3]) as tf.Tensor4D, 2, "same"),
  },
  {
    label: "Conv2D 2x3 dilation 2 valid",
    inShape: [6, 7, 1],
    layer: () => tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], dilationRate: 2, name: "l" }),
    ones: (x) => tf.conv2d(x as tf.Tensor4D, tf.ones([2, 3, 1, 2]) as tf.Tensor4D, 1, "valid", "NHWC", 2),
  },
  {
    label: "DepthwiseConv2D 3x3 multiplier 2 stride 2 valid",
    inShape: [7, 7, 2],
    layer: () => tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, name: "l" }),
    ones: (x) => tf.depthwiseConv2d(x as tf.Tensor4D, tf.ones([3, 3, 2, 2]) as tf.Tensor4D, 2, "valid"),
  },
  {
    label: "Conv2DTranspose 3x3 stride 2 same",
    inShape: [3, 4, 2],
    layer: () =>
      tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: "same", name: "l" }),
    ones: (x) =>
      tf.conv2dTranspose(x as tf.Tensor4D, tf.ones([3, 3, 2, 2]) as tf.Tensor4D, [1, 6, 8, 2], 2, "same"),
  },
  {
    label: "Conv1D 3 stride 2 same",
    inShape: [9, 2],
    layer: () => tf.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: "same", name: "l" }),
    ones: (x) => tf.conv1d(x as tf.Tensor3D, tf.ones([3, 2, 4]) as tf.Tensor3D, 2, "same"),
  },
];

for (const c of cases) {
  Deno.test(`fan-out and MACs equal brute force: ${c.label}`, () => {
    const input = tf.input({ shape: c.inShape });
    const out = c.layer().apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const net = SpikingNetwork.fromModel(model, resolveSimulationOptions());
    const expected = bruteFanout(c.inShape, c.ones);
    assertClose(net.fanout(""), expected, { msg: "input fan-out" });
    assertEquals(net.macs, expected.reduce((a, b) => a + b, 0));
    net.dispose();
    model.dispose();
  });
}

Deno.test("fan-out through Flatten, ZeroPadding2D and Concatenate into pooling and Dense", () => {
  const input = tf.input({ shape: [4, 4, 1] });
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: "a" }).apply(input) as tf.SymbolicTensor;
  const padded = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]] }).apply(a) as tf.SymbolicTensor;
  const pool = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, name: "pool" }).apply(
    padded,
  ) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "b" }).apply(input) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([
    tf.layers.flatten().apply(pool) as tf.SymbolicTensor,
    tf.layers.flatten().apply(b) as tf.SymbolicTensor,
  ]) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 3, name: "d" }).apply(cat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: dense });
  const net = SpikingNetwork.fromModel(model, resolveSimulationOptions());
  // Layer a feeds the pool through the padding: the windows covering each of its positions.
  const poolFan = bruteFanout([4, 4, 2], (x) =>
    tf.depthwiseConv2d(
      tf.pad(x, [[0, 0], [1, 0], [0, 1], [0, 0]]) as tf.Tensor4D,
      tf.ones([2, 2, 2, 1]) as tf.Tensor4D,
      1,
      "valid",
    ));
  assertClose(net.fanout("a"), poolFan, { msg: "layer a" });
  assertClose(net.fanout("pool"), new Array(32).fill(3), { msg: "pool" });
  assertClose(net.fanout("b"), new Array(16).fill(3), { msg: "layer b" });
  assertClose(net.fanout("d"), [0, 0, 0], { msg: "output layer" });
  assertClose(net.fanout(""), new Array(16).fill(3), { msg: "input: 2 filters of a + 1 of b" });
  net.dispose();
  model.dispose();
});

const fixtures = fixturesDir();
if (!fixtures) {
  console.warn("simulation_connectivity_test: MobileNet test skipped, /work/shared/fixtures is absent");
}

Deno.test({
  name: "MACs of the parsed MobileNet v1 0.25 (224) fixture match the published 41 million mult-adds",
  ignore: !fixtures,
  fn: async () => {
    const lib = getModelLibrary("keras");
    const parser = createParser(
      await lib.load(`${fixtures}keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5`),
      {},
    );
    parser.parse();
    const model = parser.buildParsedModel();
    const net = SpikingNetwork.fromModel(model, resolveSimulationOptions());
    // Howard et al. 2017, Table 7: 1.0 MobileNet-224 at width 0.25: 41 million mult-adds.
    assertTrue(Math.abs(net.macs / 41e6 - 1) < 0.02, `MACs ${net.macs}`);
    net.dispose();
    model.dispose();
  },
});
