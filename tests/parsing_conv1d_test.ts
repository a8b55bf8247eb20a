/**
 * channels_first (NCW) Conv1D models: TF.js computes `Conv1D` with
 * `dataFormat: 'channelsFirst'` as NWC, and the parser must transpose a
 * rank-2 (C,W) input. Expected outputs are PyTorch's
 * (testdata/parsing/gen_conv1d.py), for the input model and the parsed model,
 * built in TF.js or loaded from a tf.keras 2 HDF5 file.
 */
import { assertClose, assertEquals, assertTrue } from "./_assert.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { NDArray } from "../lib/io/ndarray.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";
import { createParser, ModelParser } from "../lib/parsing/model_parser.ts";
import { applyTfjsFixes } from "../lib/layers/tfjs_fixes.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { asInputModel, predictParsed } from "./_parsing_helpers.ts";

interface Nd {
  shape: number[];
  data: number[];
}
interface Case {
  x: Nd;
  weights: Nd[];
  y: Nd;
}

const CASES = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/parsing/conv1d_cases.json", import.meta.url)),
) as Record<"stack" | "softmax", Case>;
const TOL = { rtol: 1e-4, atol: 1e-5 };

function ndarray(a: Nd): NDArray {
  return { data: Float32Array.from(a.data), shape: a.shape, dtype: "float32" };
}

/** Set the case's weights (Keras layout, in layer order) on the model. */
function setWeights(model: tf.LayersModel, c: Case): void {
  const ts = c.weights.map((w) => tf.tensor(w.data, w.shape, "float32"));
  let i = 0;
  for (const layer of model.layers) {
    const n = layer.weights.length;
    if (n) layer.setWeights(ts.slice(i, i += n));
  }
  tf.dispose(ts);
}

function stackModel(): tf.LayersModel {
  const input = tf.input({ shape: [3, 12] });
  let y = tf.layers.conv1d({
    filters: 6,
    kernelSize: 3,
    padding: "same",
    activation: "relu",
    dataFormat: "channelsFirst",
  })
    .apply(input) as tf.SymbolicTensor;
  y = tf.layers.conv1d({
    filters: 4,
    kernelSize: 3,
    dilationRate: 2,
    activation: "relu",
    dataFormat: "channelsFirst",
  })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten({ dataFormat: "channelsFirst" }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 5 }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y, name: "conv1d_stack" });
}

function softmaxModel(): tf.LayersModel {
  const input = tf.input({ shape: [2, 8] });
  const y = tf.layers.conv1d({
    filters: 3,
    kernelSize: 2,
    strides: 2,
    activation: "softmax",
    dataFormat: "channelsFirst",
  }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y, name: "conv1d_softmax" });
}

async function checkCase(build: () => tf.LayersModel, c: Case): Promise<ModelParser> {
  await initBackend();
  const model = build();
  setWeights(model, c);
  const x = ndarray(c.x);
  const y = Float32Array.from(c.y.data);
  assertEquals(applyTfjsFixes(model), model.layers.filter((l) => l.getClassName() === "Conv1D").length);
  assertClose((await predictModel(model, x)).data, y, { ...TOL, msg: `${model.name} input model vs torch` });
  const parser = new ModelParser(asInputModel(model, "channels_first"));
  parser.parse();
  assertEquals(parser.inputPerm, [1, 0], "NCW input is fed as NWC");
  const got = await predictParsed(parser, x);
  assertEquals(got.shape, c.y.shape);
  assertClose(got.data, y, { ...TOL, msg: `${model.name} parsed model vs torch` });
  return parser;
}

Deno.test("channels_first Conv1D stack (same, dilated, NCW flatten, Dense) matches PyTorch before and after parsing", async () => {
  const parser = await checkCase(stackModel, CASES.stack);
  const types = parser.layerList.map((l) => l.layerType);
  assertEquals(types, ["Conv1D", "Conv1D", "Flatten", "Dense"], "no Permute layers needed");
  assertEquals(parser.layerList[0].outputShape, [12, 6], "parsed layers are channels-last");
});

Deno.test("channels_first Conv1D with softmax: activation over the width axis, as Keras/PyTorch", async () => {
  const parser = await checkCase(softmaxModel, CASES.softmax);
  assertTrue(parser.layerList.some((l) => l.layerType === "Activation" && l.activation === "softmax"));
});

Deno.test("channels_first model with a (T,F) input read by Dense only: input not transposed", async () => {
  await initBackend();
  const input = tf.input({ shape: [2, 3] });
  const dense = tf.layers.dense({ units: 2 });
  const model = tf.model({ inputs: input, outputs: dense.apply(input) as tf.SymbolicTensor });
  const k = [1, -2, 0.5, 3, -1, 2];
  const b = [0.25, -0.5];
  dense.setWeights([tf.tensor(k, [3, 2]), tf.tensor(b, [2])]);
  const parser = new ModelParser(asInputModel(model, "channels_first"));
  parser.parse();
  assertEquals(parser.inputPerm, undefined);
  const x = [1, 2, 3, -1, 0, 4];
  const got = await predictModel(parser.buildParsedModel(), {
    data: Float32Array.from(x),
    shape: [1, 2, 3],
    dtype: "float32",
  });
  // Dense on the last axis: y[t][o] = sum_f x[t][f] * k[f][o] + b[o].
  const expected = [0, 1].flatMap((t) =>
    [0, 1].map((o) => [0, 1, 2].reduce((s, f) => s + x[t * 3 + f] * k[f * 2 + o], b[o]))
  );
  assertClose(got.data, Float32Array.from(expected), TOL);
});

Deno.test("tf.keras 2 HDF5 with channels_first Conv1D (Keras library load): input and parsed model match PyTorch", async () => {
  await initBackend();
  const lib = getModelLibrary("keras");
  const input = await lib.load(new URL("../testdata/parsing/conv1d_keras_cf.h5", import.meta.url).pathname);
  assertEquals(input.dataFormat, "channels_first");
  const x = ndarray(CASES.stack.x);
  const y = Float32Array.from(CASES.stack.y.data);
  assertClose((await predictModel(input.model, x)).data, y, { ...TOL, msg: "input model vs torch" });
  const parser = createParser(input);
  parser.parse();
  assertClose((await predictParsed(parser, x)).data, y, { ...TOL, msg: "parsed model vs torch" });
});
