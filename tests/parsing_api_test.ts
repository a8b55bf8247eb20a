/**
 * The parser API beyond the toolbox's per-layer answers: `config`, the layer
 * dictionary, `evaluate` on arrays and on a dataflow of batches, and custom
 * objects from a `[paths] filepath_custom_objects` file reaching the Keras
 * loader (testdata/parsing/gen_custom_objects.py: a model naming an
 * activation only that file defines; expected output from numpy).
 */
import { tf } from "../deps.ts";
import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigParser } from "../lib/config/configparser.ts";
import { DEFAULT_CONFIG } from "../lib/config/defaults.ts";
import { DatasetError, ModelFormatError } from "../lib/errors.ts";
import type { InputModel } from "../lib/importers/input_model.ts";
import { loadKerasModel } from "../lib/importers/keras/mod.ts";
import type { Float32NDArray, NDArray } from "../lib/io/ndarray.ts";
import {
  assembleCustomDict,
  getCustomActivationsDict,
  getCustomLayersDict,
} from "../lib/layers/custom_objects.ts";
import { type DataFlowBatch, predictModel } from "../lib/parsing/evaluate.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { randomInput, randomizeWeights } from "./_parsing_helpers.ts";

await initBackend();

const DIR = new URL("../testdata/parsing/", import.meta.url);

function inputModel(model: tf.LayersModel, library = "keras"): InputModel {
  return { model, library, path: "api.h5", dataFormat: "channels_last", metadata: {} };
}

function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const hidden = tf.layers.dense({ units: 6, activation: "relu" }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: "softmax" }).apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  randomizeWeights(model, 3);
  return model;
}

Deno.test("config: the ToolboxConfig given, or the defaults with the plain options set", () => {
  const model = smallModel();
  const fromOptions = new ModelParser(inputModel(model), {
    batchSize: 4,
    softmaxToRelu: true,
    snnLayers: ["Dense"],
  });
  assertEquals(fromOptions.config.getInt("simulation", "batch_size"), 4);
  assertEquals(fromOptions.config.getBoolean("conversion", "softmax_to_relu"), true);
  assertEquals(fromOptions.config.getBoolean("conversion", "max2avg_pool"), false);
  assertEquals(fromOptions.config.getLiteral("restrictions", "snn_layers"), {
    kind: "set",
    items: ["Dense"],
  });
  assertEquals(fromOptions.getBatchInputShape(), [4, 4]);
  const ini = new ConfigParser();
  ini.readString(DEFAULT_CONFIG);
  ini.set("simulation", "batch_size", "9");
  const fromIni = new ModelParser(inputModel(model), ini);
  assertTrue(fromIni.config === ini);
  assertEquals(fromIni.options.batchSize, 9);
  assertEquals(fromIni.getBatchInputShape(), [9, 4]);
});

Deno.test("layerDict: the input library's layer type names → Keras (empty for Keras names)", () => {
  const model = smallModel();
  assertEquals(new ModelParser(inputModel(model)).layerDict, {});
  assertEquals(new ModelParser(inputModel(model, "caffe")).layerDict.InnerProduct, "Dense");
  assertEquals(new ModelParser(inputModel(model, "lasagne")).layerDict.Conv2DLayer, "Conv2D");
});

Deno.test("evaluate: arrays, or a dataflow of batches (at most num_to_test / batch_size of them)", async () => {
  const model = smallModel();
  const parser = new ModelParser(inputModel(model));
  parser.parse();
  const x = randomInput([10, 4], 5);
  const probs = await predictModel(model, x);
  // Labels: the model's own top class for the first 6 samples, another class for the rest.
  const labels = Int32Array.from({ length: 10 }, (_, i) => {
    const row = Array.from(probs.data.subarray(i * 3, i * 3 + 3));
    const top = row.indexOf(Math.max(...row));
    return i < 6 ? top : (top + 1) % 3;
  });
  const y = { data: labels, shape: [10], dtype: "int32" as const };
  const all = await parser.evaluate(4, undefined, x, y);
  assertEquals(all.count, 10);
  assertClose([all.top1], [0.6], { atol: 1e-9 });
  const slice = (a: NDArray, s: number, e: number, w: number): NDArray => ({
    ...a,
    data: a.data.slice(s * w, e * w),
    shape: [e - s, ...a.shape.slice(1)],
  });
  const batches: DataFlowBatch[] = [0, 4, 8].map((s) => {
    const e = Math.min(10, s + 4);
    return { x: slice(x, s, e, 4), y: slice(y, s, e, 1) };
  });
  const flowAll = await parser.evaluate(4, undefined, undefined, undefined, batches);
  assertEquals(flowAll, all);
  // num_to_test = 9 with batches of 4: the toolbox's steps = int(9 / 4) = 2 batches, 8 samples.
  async function* flow() {
    yield* batches.map((b) => [(b as { x: NDArray }).x, (b as { y: NDArray }).y] as const);
  }
  const two = await parser.evaluate(4, 9, undefined, undefined, flow());
  assertEquals(two.count, 8);
  assertClose([two.top1], [6 / 8], { atol: 1e-9 });
  await assertRejects(() => parser.evaluate(4, 9), DatasetError, /no test samples/);
});

Deno.test("filepath_custom_objects: a LimitedReLU the file defines is registered under its key by the Keras loader", async () => {
  const file = new URL("custom_objects_keras.h5", DIR).pathname;
  const objects = new URL("custom_objects.json", DIR).pathname;
  const cases = JSON.parse(await Deno.readTextFile(new URL("custom_objects_cases.json", DIR)));
  await assertRejects(() => loadKerasModel(file), ModelFormatError, /my_LimitedReLU|myLimitedReLU/i);
  const customObjects = assembleCustomDict(getCustomActivationsDict(objects), getCustomLayersDict());
  assertEquals(customObjects.my_LimitedReLU.kind, "activation");
  assertEquals(customObjects.unrelated, undefined, "only LimitedReLU keys become activations");
  const input = await loadKerasModel(file, { customObjects });
  const x: Float32NDArray = { data: Float32Array.from(cases.x.data), shape: cases.x.shape, dtype: "float32" };
  const y = await predictModel(input.model, x);
  assertClose(y.data, cases.y.data, { rtol: 1e-5, atol: 1e-6 });
  // The parsed model keeps the activation under its key.
  const parser = new ModelParser(input);
  parser.parse();
  assertEquals(parser.layerList[0].activation, "my_LimitedReLU");
  const parsed = await predictModel(parser.buildParsedModel(), x);
  assertClose(parsed.data, cases.y.data, { rtol: 1e-5, atol: 1e-6 });
});
