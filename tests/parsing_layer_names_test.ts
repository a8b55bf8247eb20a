/**
 * Layer names of the models the ONNX, Caffe and Lasagne libraries build
 * (lib/importers/layer_names.ts): valid TF.js names for foreign
 * names, unique within a model.
 */
import { assertEquals } from "./_assert.ts";
import { safeLayerName, uniqueLayerName, uniqueName } from "../lib/importers/layer_names.ts";

Deno.test("safeLayerName: invalid characters, leading non-letters and empty names", () => {
  assertEquals(safeLayerName("conv1/3x3 reduce"), "conv1_3x3_reduce");
  assertEquals(safeLayerName("fc-7.a"), "fc-7.a");
  assertEquals(safeLayerName("0"), "n0");
  assertEquals(safeLayerName("_x"), "n_x");
  assertEquals(safeLayerName(""), "layer");
});

Deno.test("uniqueName / uniqueLayerName: suffixes _1, _2 … after the names already used", () => {
  const used = new Set<string>();
  assertEquals(uniqueName("conv", used), "conv");
  assertEquals(uniqueName("conv", used), "conv_1");
  assertEquals(uniqueName("conv", used), "conv_2");
  assertEquals(uniqueLayerName("conv", used), "conv_3");
  assertEquals(uniqueLayerName("conv_1", used), "conv_1_1");
  assertEquals(uniqueLayerName("data/x", used), "data_x");
  assertEquals([...used].length, 6);
});
