/**
 * The simulator's synaptic op of every layer type equals TF.js's own layer
 * (with a linear activation) on the same input: the current a spiking layer
 * receives is exactly the ANN layer's pre-activation (bias scaled by dt).
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { float32Array } from "../lib/io/ndarray.ts";
import { layerOp } from "../lib/simulation/layers.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { assertClose, assertEquals, assertRejects } from "./_assert.ts";

await initBackend();

const cases: { label: string; inShapes: number[][]; layer: () => tf.layers.Layer }[] = [
  { label: "Dense", inShapes: [[7]], layer: () => tf.layers.dense({ units: 4 }) },
  { label: "Dense on rank 3", inShapes: [[3, 5]], layer: () => tf.layers.dense({ units: 2 }) },
  {
    label: "Conv1D stride 2 same",
    inShapes: [[9, 3]],
    layer: () => tf.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: "same" }),
  },
  {
    label: "Conv2D dilated valid, no bias",
    inShapes: [[8, 7, 2]],
    layer: () => tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, useBias: false }),
  },
  {
    label: "DepthwiseConv2D stride 2 same",
    inShapes: [[7, 7, 3]],
    layer: () =>
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: "same" }),
  },
  {
    label: "Conv2DTranspose stride 2 valid",
    inShapes: [[4, 3, 2]],
    layer: () => tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2 }),
  },
  {
    label: "AveragePooling2D 3x3 stride 2 same",
    inShapes: [[7, 6, 2]],
    layer: () => tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: "same" }),
  },
  { label: "UpSampling2D", inShapes: [[3, 4, 2]], layer: () => tf.layers.upSampling2d({ size: [2, 3] }) },
  {
    label: "ZeroPadding2D",
    inShapes: [[3, 4, 2]],
    layer: () => tf.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]] }),
  },
  { label: "Reshape", inShapes: [[4, 6]], layer: () => tf.layers.reshape({ targetShape: [3, -1] }) },
  { label: "Flatten", inShapes: [[2, 3, 4]], layer: () => tf.layers.flatten() },
  {
    label: "Concatenate",
    inShapes: [[3, 3, 2], [3, 3, 1]],
    layer: () => tf.layers.concatenate({ axis: -1 }),
  },
];

for (const c of cases) {
  Deno.test(`synaptic op equals the TF.js layer: ${c.label}`, () => {
    const inputs = c.inShapes.map((s) => tf.input({ shape: s }));
    const layer = c.layer();
    const out = layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.SymbolicTensor;
    const model = tf.model({ inputs, outputs: out });
    // Random, non-trivial weights (biases included).
    layer.setWeights(layer.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, "float32", 10 + i)));
    const xs = c.inShapes.map((s, i) => tf.randomUniform([2, ...s], -1, 1, "float32", 20 + i));
    const expected = (model.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor).dataSync();
    const op = layerOp(layer, 1, false);
    const got = op.apply(xs);
    assertEquals(got.shape.slice(1), op.shape, "output shape");
    assertClose(got.dataSync(), expected, { rtol: 1e-4, atol: 1e-5 });
    if (layer.getWeights().length > 1) {
      // With dt = 0.5 only the bias is halved.
      const half = layerOp(layer, 0.5, false).apply(xs);
      const bias = layer.getWeights()[1];
      const zero = layerOp(layer, 1, false).apply(xs.map((x) => tf.zerosLike(x)));
      const halfExpected = tf.sub(got, tf.mul(zero, 0.5)).dataSync();
      assertClose(half.dataSync(), halfExpected, { rtol: 1e-4, atol: 1e-5, msg: `bias ${bias.shape}` });
    }
    model.dispose();
  });
}

Deno.test("a layer the simulator cannot implement is a clear error", async () => {
  const input = tf.input({ shape: [4, 3] });
  const lstm = tf.layers.lstm({ units: 2, name: "my_lstm" });
  lstm.apply(input);
  await assertRejects(
    () => layerOp(lstm, 1, false),
    UnsupportedLayerError,
    /layer 'my_lstm' of type LSTM cannot be simulated; supported: Dense/,
  );
});

Deno.test("a Sequential model (no InputLayer among its layers) is simulated and normalized", async () => {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: "relu", name: "c" }),
      tf.layers.maxPooling2d({ poolSize: 2, name: "p" }),
      tf.layers.flatten({ name: "f" }),
      tf.layers.dense({ units: 3, activation: "softmax", name: "d" }),
    ],
  });
  const x = tf.randomUniform([4, 6, 6, 1], 0, 1, "float32", 2);
  const norm = await normalizeParameters(m, float32Array(x.dataSync() as Float32Array, [4, 6, 6, 1]));
  assertEquals(Object.keys(norm.scaleFactors), [m.inputs[0].sourceLayer.name, "c", "d"]);
  const net = SpikingNetwork.fromModel(m, resolveSimulationOptions());
  assertEquals(net.layers.map((l) => l.name), ["c", "p", "d"]);
  net.init(4);
  const out = net.step(x, 0).output;
  assertEquals(out.shape, [4, 3]);
  out.dispose();
  net.dispose();
  tf.dispose(x);
  m.dispose();
});

Deno.test("an Activation layer left after a Reshape passes spikes on; the layer before it is the output", async () => {
  const input = tf.input({ shape: [4] });
  const d = tf.layers.dense({ units: 3, name: "d" }).apply(input) as tf.SymbolicTensor;
  const r = tf.layers.reshape({ targetShape: [3], name: "r" }).apply(d) as tf.SymbolicTensor;
  const a = tf.layers.activation({ activation: "softmax", name: "a" }).apply(r) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: a });
  const net = SpikingNetwork.fromModel(model, resolveSimulationOptions());
  assertEquals(net.layers.map((l) => l.name), ["d"]);
  assertEquals(net.numClasses, 3);
  net.init(1);
  const x = tf.tensor([[1, 0, 0, 0]]);
  const counts = [0, 0, 0];
  for (let t = 0; t < 10; t++) {
    const out = net.step(x, t).output;
    (await out.data()).forEach((v, i) => (counts[i] += v > 0 ? 1 : 0));
    out.dispose();
  }
  assertEquals(counts, Array.from((await net.spikeCounts())[0]));
  net.dispose();
  tf.dispose(x);
  model.dispose();
});
