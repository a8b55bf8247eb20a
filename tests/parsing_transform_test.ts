import { tf } from "../deps.ts";
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { asInputModel, parseAndCompare, randomInput, randomizeWeights } from "./_parsing_helpers.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { ConfigError, UnsupportedLayerError } from "../lib/errors.ts";
import { binarize, reducePrecision } from "../lib/layers/activations.ts";
import { ConfigParser } from "../lib/config/configparser.ts";
import { DEFAULT_CONFIG } from "../lib/config/defaults.ts";
import { parserOptionsFromConfig } from "../lib/parsing/options.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend();

Deno.test("BN after Conv/Dense through Activation and Dropout is absorbed, outputs unchanged", async () => {
  const input = tf.input({ shape: [10, 10, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: "same" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: 3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 6 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "bn_chain" });
  randomizeWeights(model);
  const parser = await parseAndCompare(model);
  const types = parser.layerList.map((l) => l.layerType);
  assertEquals(types, ["Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense"]);
  assertEquals(parser.layerList.map((l) => l.activation ?? null), ["relu", null, "relu", null, "softmax"]);
  assertTrue(parser.layerList[0].absorbed.some((s) => s.startsWith("BatchNormalization")));
});

Deno.test("channels_first CNN → channels_last: conv, BN axis 1, pooling, Flatten as laid out (Dense rows permuted)", async () => {
  const input = tf.input({ shape: [3, 9, 8] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, dataFormat: "channelsFirst" }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: 1 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.averagePooling2d({ poolSize: 2, dataFormat: "channelsFirst" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 5, activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3 }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "cf_flatten_laid_out" });
  randomizeWeights(model, 3);
  const parser = await parseAndCompare(model, "channels_first");
  assertEquals(parser.getParsedInputShape(), [9, 8, 3]);
  assertTrue(!parser.layerList.some((l) => l.layerType === "Permute"), "no Permute needed");
  assertTrue(parser.layerList.some((l) => l.absorbed.some((s) => s.includes("rows permuted"))));
});

Deno.test("channels_first with Keras>=2.2 Flatten(data_format=channels_first) needs no permutation", async () => {
  const input = tf.input({ shape: [2, 6, 6] });
  let x = tf.layers.conv2d({ filters: 3, kernelSize: 3, dataFormat: "channelsFirst", activation: "relu" })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten({ dataFormat: "channelsFirst" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 4 }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "cf_flatten_cl" });
  randomizeWeights(model, 4);
  const parser = await parseAndCompare(model, "channels_first");
  assertTrue(!parser.layerList.some((l) => l.absorbed.some((s) => s.includes("rows permuted"))));
});

Deno.test("channels_first Concatenate axis 1 and a flatten feeding the output keep outputs", async () => {
  const input = tf.input({ shape: [2, 5, 5] });
  const a = tf.layers.conv2d({ filters: 3, kernelSize: 1, dataFormat: "channelsFirst" }).apply(
    input,
  ) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 2, kernelSize: 1, dataFormat: "channelsFirst" }).apply(
    input,
  ) as tf.SymbolicTensor;
  let x = tf.layers.concatenate({ axis: 1 }).apply([a, b]) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "cf_concat" });
  randomizeWeights(model, 5);
  const parser = await parseAndCompare(model, "channels_first");
  const concat = parser.layerList.find((l) => l.layerType === "Concatenate");
  assertEquals(concat?.config.axis, 3);
});

Deno.test("Add → Concatenate + 1×1 identity-sum conv; GlobalAveragePooling → AveragePooling + Flatten", async () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same" }).apply(
    input,
  ) as tf.SymbolicTensor;
  const b1 = tf.layers.batchNormalization().apply(c1) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
  const b2 = tf.layers.batchNormalization().apply(c2) as tf.SymbolicTensor;
  let x = tf.layers.add().apply([b1, b2]) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "residual" });
  randomizeWeights(model, 6);
  const parser = await parseAndCompare(model);
  assertEquals(parser.layerList.map((l) => l.layerType), [
    "Conv2D",
    "Conv2D",
    "Concatenate",
    "Conv2D",
    "AveragePooling2D",
    "Flatten",
    "Dense",
  ]);
  assertEquals(parser.layerList[3].activation, "relu");
});

Deno.test("BN on the input folds forward into Dense and valid Conv; kept before a 'same' conv", async () => {
  const i1 = tf.input({ shape: [12] });
  let x = tf.layers.batchNormalization().apply(i1) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 4 }).apply(x) as tf.SymbolicTensor;
  const m1 = tf.model({ inputs: i1, outputs: x, name: "bn_input_dense" });
  randomizeWeights(m1, 8);
  const p1 = await parseAndCompare(m1);
  assertEquals(p1.layerList.map((l) => l.layerType), ["Dense"]);

  const i2 = tf.input({ shape: [6, 6, 2] });
  let y = tf.layers.batchNormalization().apply(i2) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 3, kernelSize: 3 }).apply(y) as tf.SymbolicTensor;
  const m2 = tf.model({ inputs: i2, outputs: y, name: "bn_input_conv" });
  randomizeWeights(m2, 9);
  const p2 = await parseAndCompare(m2);
  assertEquals(p2.layerList.map((l) => l.layerType), ["Conv2D"]);

  const i3 = tf.input({ shape: [6, 6, 2] });
  let z = tf.layers.batchNormalization().apply(i3) as tf.SymbolicTensor;
  z = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same" }).apply(z) as tf.SymbolicTensor;
  const m3 = tf.model({ inputs: i3, outputs: z, name: "bn_input_conv_same" });
  randomizeWeights(m3, 10);
  const p3 = await parseAndCompare(m3);
  assertEquals(p3.layerList.map((l) => l.layerType), ["BatchNormalization", "Conv2D"]);
});

Deno.test("DepthwiseConv2D + BN, SeparableConv2D split, ReLU(max_value) → clamped relu", async () => {
  const input = tf.input({ shape: [7, 7, 3] });
  let x = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: "same" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "depthwise" });
  randomizeWeights(model, 11);
  const parser = await parseAndCompare(model);
  assertEquals(parser.layerList.map((l) => l.layerType), ["DepthwiseConv2D", "DepthwiseConv2D", "Conv2D"]);
  assertEquals(parser.layerList[0].activation, "clamped_relu_0.0_6.0");
});

Deno.test("max2avg_pool, softmax_to_relu, append_softmax", async () => {
  await initBackend();
  const input = tf.input({ shape: [4, 4, 1] });
  let x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  const p = new ModelParser(asInputModel(model), { max2avgPool: true, softmaxToRelu: true });
  p.parse();
  assertEquals(p.layerList.map((l) => [l.layerType, l.activation ?? null]), [
    ["AveragePooling2D", null],
    ["Flatten", null],
    ["Dense", "relu"],
  ]);
  const i2 = tf.input({ shape: [3] });
  const d = tf.layers.dense({ units: 2 }).apply(i2) as tf.SymbolicTensor;
  const p2 = new ModelParser(asInputModel(tf.model({ inputs: i2, outputs: d })), {
    appendSoftmax: true,
  });
  p2.parse();
  assertEquals(p2.layerList[0].activation, "softmax");
});

Deno.test("layer names are <idx><Type>_<shape>, the index padded to the digits of the input model's layer count", async () => {
  await initBackend();
  const input = tf.input({ shape: [28, 28, 1], name: "input_1" });
  let x = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 100 });
  x = dense.apply(x) as tf.SymbolicTensor;
  // 4 layers (InputLayer, Conv2D, Flatten, Dense): one digit, as the toolbox's format_layer_idx.
  const p = new ModelParser(asInputModel(tf.model({ inputs: input, outputs: x })));
  p.parse();
  assertEquals(p.layerList.map((l) => l.name), ["0Conv2D_28x28x32", "1Flatten_25088", "2Dense_100"]);
  assertEquals(p.layerList[2].inbound, ["1Flatten_25088"]);
  // The parsed model's input keeps the input model's InputLayer name (the toolbox's input_layer_name).
  assertEquals(p.layerList[0].inbound, ["input_1"]);
  assertEquals(p.buildParsedModel().inputLayers[0].name, "input_1");
  assertEquals(p.getName(dense, 7), "7Dense_100");
  assertEquals(p.getName(dense, 7, "Sparse"), "7Sparse_100");
  // 10 layers: two digits.
  let y: tf.SymbolicTensor = input;
  for (let i = 0; i < 9; i++) y = tf.layers.dense({ units: 3 + i }).apply(y) as tf.SymbolicTensor;
  const p10 = new ModelParser(asInputModel(tf.model({ inputs: input, outputs: y })));
  p10.parse();
  assertEquals(p10.layerList[0].name, "00Dense_28x28x3");
  assertEquals(p10.formatLayerIdx(7), "07");
});

Deno.test("layers outside [restrictions] snn_layers are skipped (as the toolbox skips them); listed ones an SNN cannot implement stop the parse", async () => {
  await initBackend();
  const input = tf.input({ shape: [5, 3] });
  let x = tf.layers.lstm({ units: 4, returnSequences: true, name: "my_lstm" }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = tf.layers.gru({ units: 2, name: "my_gru" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2 }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  // The default snn_layers does not list LSTM/GRU: skipped, with a note naming them.
  const notes: string[] = [];
  const p = new ModelParser(asInputModel(model), { log: (l) => notes.push(l) });
  p.parse();
  assertEquals(p.skippedLayers, ["my_lstm", "my_gru"]);
  assertEquals(p.layerList.map((l) => l.layerType).at(-1), "Dense");
  assertMatch(notes.join("\n"), /outside \[restrictions\] snn_layers: 'my_lstm' \(LSTM\), 'my_gru' \(GRU\)/);
  // Listed in snn_layers, they cannot be parsed: one error naming each layer, its type and the supported set.
  const listed = new ModelParser(asInputModel(model), { snnLayers: ["Dense", "LSTM", "GRU"] });
  const err = await assertRejects(
    () => listed.parse(),
    UnsupportedLayerError,
    /'my_lstm' \(LSTM\), 'my_gru' \(GRU\)/,
  );
  assertMatch(err.message, /Supported layer types: .*Conv2D.*Dense/);
  assertMatch(err.message, /skip_unsupported_layers/);
  // A type left out of snn_layers is skipped even when the parser supports it.
  const noPool = tf.input({ shape: [4, 4, 1] });
  let y = tf.layers.averagePooling2d({ poolSize: 1, name: "pool" }).apply(noPool) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 2 }).apply(y) as tf.SymbolicTensor;
  const q = new ModelParser(asInputModel(tf.model({ inputs: noPool, outputs: y })), {
    snnLayers: ["Dense", "Flatten"],
  });
  q.parse();
  assertEquals(q.skippedLayers, ["pool"]);
  assertEquals(q.layerList.map((l) => l.layerType), ["Flatten", "Dense"]);
});

/** A parser that hides Flatten layers, as a Caffe/Lasagne graph has none before its InnerProduct/Dense. */
class HiddenFlattenParser extends ModelParser {
  private isFlatten(l: tf.layers.Layer): boolean {
    return l.getClassName() === "Flatten";
  }
  override getLayerIterable(): tf.layers.Layer[] {
    return super.getLayerIterable().filter((l) => !this.isFlatten(l));
  }
  override getInboundLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
    return super.getInboundLayers(layer).flatMap((
      l,
    ) => (this.isFlatten(l) ? super.getInboundLayers(l) : [l]));
  }
  override getOutboundLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
    return super.getOutboundLayers(layer).flatMap((
      l,
    ) => (this.isFlatten(l) ? super.getOutboundLayers(l) : [l]));
  }
}

for (const dataFormat of ["channels_last", "channels_first"] as const) {
  Deno.test(`Flatten is inserted before a Dense that reads a spatial tensor (${dataFormat})`, async () => {
    const cf = dataFormat === "channels_first";
    const input = tf.input({ shape: cf ? [2, 6, 5] : [6, 5, 2] });
    let x = tf.layers.conv2d({ filters: 3, kernelSize: 3, dataFormat: cf ? "channelsFirst" : "channelsLast" })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 4 }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x, name: `hidden_flatten_${dataFormat}` });
    randomizeWeights(model, 12);
    const parser = new HiddenFlattenParser(asInputModel(model, dataFormat));
    parser.parse();
    assertEquals(parser.layerList.map((l) => l.layerType), ["Conv2D", "Flatten", "Dense"]);
    assertEquals(parser.layerList[1].name, "1Flatten_36"); // 4 input-model layers: one digit
    const parsed = parser.buildParsedModel();
    const xIn = randomInput([2, ...(model.inputs[0].shape.slice(1) as number[])]);
    const expected = await predictModel(model, xIn);
    const actual = await predictModel(parsed, xIn, { inputPerm: parser.inputPerm });
    assertClose(actual.data, expected.data, { rtol: 1e-4, atol: 1e-5 });
  });
}

Deno.test("nested models (Sequential and Functional used as layers) are parsed through", async () => {
  const inner = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: "relu" }),
    ],
  });
  const i2 = tf.input({ shape: [4, 4, 3] });
  const f2 = tf.layers.flatten().apply(i2) as tf.SymbolicTensor;
  const block = tf.model({
    inputs: i2,
    outputs: tf.layers.dense({ units: 5 }).apply(f2) as tf.SymbolicTensor,
  });
  const input = tf.input({ shape: [6, 6, 2] });
  let x = inner.apply(input) as tf.SymbolicTensor;
  x = block.apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "nested" });
  randomizeWeights(model, 13);
  const parser = await parseAndCompare(model);
  assertEquals(parser.layerList.map((l) => [l.layerType, l.activation ?? null]), [
    ["Conv2D", "relu"],
    ["Flatten", null],
    ["Dense", "softmax"],
  ]);
});

for (const dataFormat of ["channels_last", "channels_first"] as const) {
  Deno.test(`Conv2DTranspose + BN, UpSampling2D, ZeroPadding2D, Cropping2D, Reshape keep outputs (${dataFormat})`, async () => {
    const df = dataFormat === "channels_first" ? "channelsFirst" : "channelsLast";
    const input = tf.input({ shape: dataFormat === "channels_first" ? [2, 5, 5] : [5, 5, 2] });
    let x = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, dataFormat: df })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ axis: dataFormat === "channels_first" ? 1 : -1 }).apply(
      x,
    ) as tf.SymbolicTensor;
    x = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], dataFormat: df }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.upSampling2d({ size: [2, 1], dataFormat: df }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.cropping2D({ cropping: [[1, 1], [2, 0]], dataFormat: df }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reshape({ targetShape: [3, 22 * 11] }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x, name: `transpose_${dataFormat}` });
    randomizeWeights(model, 14);
    const parser = await parseAndCompare(model, dataFormat);
    assertEquals(parser.layerList[0].layerType, "Conv2DTranspose");
    assertTrue(parser.layerList[0].absorbed.some((a) => a.startsWith("BatchNormalization")));
  });
}

Deno.test("Average becomes Concatenate + weighted identity-sum; softmax on channels_first maps keep their axis", async () => {
  const input = tf.input({ shape: [2, 5, 4] });
  const a = tf.layers.conv2d({ filters: 3, kernelSize: 1, dataFormat: "channelsFirst" }).apply(
    input,
  ) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 3, kernelSize: 1, dataFormat: "channelsFirst" }).apply(
    input,
  ) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({
    filters: 3,
    kernelSize: 1,
    dataFormat: "channelsFirst",
    activation: "softmax",
  })
    .apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
  let x = tf.layers.average().apply([sum, a, c]) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: "merge_softmax_cf" });
  randomizeWeights(model, 15);
  const parser = await parseAndCompare(model, "channels_first");
  assertEquals(parser.layerList.filter((l) => l.layerType === "Concatenate").length, 2);
});

Deno.test("[cell] binarize_weights / quantize_weights + weight_precision act on Dense/Conv kernels", async () => {
  const input = tf.input({ shape: [4, 4, 1] });
  let x = tf.layers.conv2d({ filters: 2, kernelSize: 2 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3 }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  randomizeWeights(model, 16);
  const kernels = [model.layers[1], model.layers[3]].map((l) =>
    Float32Array.from(l.getWeights()[0].dataSync())
  );

  const pb = new ModelParser(asInputModel(model), { binarizeWeights: true });
  pb.parse();
  const parametric = pb.layerList.filter((l) => l.parameters);
  parametric.forEach((l, i) =>
    assertEquals(Array.from(l.parameters![0].data), Array.from(binarize(kernels[i])))
  );

  const pq = new ModelParser(asInputModel(model), { quantizeWeights: true, weightPrecision: "Q1.4" });
  pq.parse();
  pq.layerList.filter((l) => l.parameters).forEach((l, i) =>
    assertEquals(Array.from(l.parameters![0].data), Array.from(reducePrecision(kernels[i], 1, 4)))
  );

  const missing = new ModelParser(asInputModel(model), { quantizeWeights: true });
  await assertRejects(() => missing.parse(), ConfigError, /weight_precision/);
});

Deno.test("the parser reads its settings from a ToolboxConfig (INI) as well as from plain options", () => {
  const config = new ConfigParser();
  config.readString(DEFAULT_CONFIG, "<defaults>");
  config.readString(
    "[conversion]\nmax2avg_pool = True\nsoftmax_to_relu = yes\n[cell]\nquantize_weights = 1\n" +
      "weight_precision = Q2.6\n",
    "<experiment>",
  );
  const opts = parserOptionsFromConfig(config);
  assertEquals([opts.max2avgPool, opts.softmaxToRelu, opts.quantizeWeights, opts.binarizeWeights], [
    true,
    true,
    true,
    false,
  ]);
  assertEquals(opts.weightPrecision, "Q2.6");
  const input = tf.input({ shape: [4, 4, 1] });
  let x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const p = new ModelParser(asInputModel(tf.model({ inputs: input, outputs: x })), config);
  p.parse();
  assertEquals(p.layerList.map((l) => l.layerType), ["AveragePooling2D", "Flatten", "Dense"]);
  assertEquals(p.layerList[2].activation, "relu");
  assertTrue(p.layerList[2].absorbed.includes("weights quantized to Q2.6"));
});

Deno.test("skip_unsupported_layers passes unsupported layers that snn_layers lists through and lists them", async () => {
  const input = tf.input({ shape: [3] });
  let x = tf.layers.dense({ units: 4 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.leakyReLU({ name: "leaky" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2 }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  const snnLayers = ["Dense", "LeakyReLU"];
  await assertRejects(
    () => new ModelParser(asInputModel(model), { snnLayers }).parse(),
    UnsupportedLayerError,
    /'leaky'/,
  );
  const p = new ModelParser(asInputModel(model), { snnLayers, skipUnsupported: true });
  p.parse();
  assertEquals(p.skippedLayers, ["leaky"]);
  assertEquals(p.layerList.map((l) => l.layerType), ["Dense", "Dense"]);
  assertEquals(p.layerList[1].inbound, [p.layerList[0].name]);
});
