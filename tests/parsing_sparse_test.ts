/**
 * The toolbox's pruned layers (Sparse, SparseConv2D, SparseDepthwiseConv2D)
 * and per-layer fixed point formats, from a Keras 2 HDF5 file written the
 * way Keras saves them (testdata/parsing/gen_sparse.py; expected outputs
 * from PyTorch with kernel × mask): the file loads, the input model and the
 * parsed model compute PyTorch's outputs, the parse rules (parseSparse,
 * parseSparseConvolution, parseSparseDepthwiseConvolution) keep the mask, the
 * batch norm after a pruned layer folds into it, and the Dense layer's
 * `Qm.f` / `quantize_bias` reach `[cell] quantize_weights`.
 */
import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigError } from "../lib/errors.ts";
import { loadKerasModel } from "../lib/importers/keras/mod.ts";
import { reducePrecision } from "../lib/layers/activations.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";
import type { Float32NDArray } from "../lib/io/ndarray.ts";

await initBackend();

const DIR = new URL("../testdata/parsing/", import.meta.url);
const FILE = new URL("sparse_keras.h5", DIR).pathname;
type Nd = { shape: number[]; data: number[] };
const cases = JSON.parse(await Deno.readTextFile(new URL("sparse_cases.json", DIR))) as Record<string, Nd>;
const nd = (a: Nd): Float32NDArray => ({ data: Float32Array.from(a.data), shape: a.shape, dtype: "float32" });

Deno.test("pruned layers load from a Keras HDF5 file and compute kernel × mask (PyTorch reference)", async () => {
  const input = await loadKerasModel(FILE);
  assertEquals(
    input.model.layers.map((l) => l.getClassName()),
    [
      "InputLayer",
      "SparseConv2D",
      "SparseDepthwiseConv2D",
      "BatchNormalization",
      "Flatten",
      "Sparse",
      "Dense",
    ],
  );
  // The per-layer precision attributes TF.js layers drop are kept beside the model.
  assertEquals(input.layerAttributes, { fc: { "Qm.f": [2, 5], quantize_bias: true } });
  const y = await predictModel(input.model, nd(cases.x));
  assertClose(y.data, nd(cases.y).data, { rtol: 1e-4, atol: 1e-5 });
});

Deno.test("parseSparse*: pruned layers become their dense counterparts with the mask; names keep the toolbox's types", async () => {
  const parser = createParser(await loadKerasModel(FILE), {});
  const layers = parser.parse();
  assertEquals(layers.map((l) => l.name), [
    "0SparseConv2D_6x6x3",
    "1SparseDepthwiseConv2D_4x4x3",
    "2Flatten_48",
    "3Sparse_5",
    "4Dense_3",
  ]);
  assertEquals(layers.map((l) => l.layerType), ["Conv2D", "DepthwiseConv2D", "Flatten", "Dense", "Dense"]);
  assertEquals(layers.map((l) => l.mask?.shape), [[3, 3, 2, 3], [3, 3, 3, 1], undefined, [48, 5], undefined]);
  assertTrue(
    layers[1].absorbed.some((a) => a.startsWith("BatchNormalization")),
    "BN folded into the pruned layer",
  );
  const y = await predictModel(parser.buildParsedModel(), nd(cases.x));
  assertClose(y.data, nd(cases.y).data, { rtol: 1e-4, atol: 1e-5 });
});

Deno.test("quantize_weights: a layer's own Qm.f and quantize_bias apply; the others take [cell] weight_precision", async () => {
  const input = await loadKerasModel(FILE);
  // The pruned layers state no Qm.f: without weight_precision, the toolbox's assertion (a ConfigError here).
  await assertRejects(
    () => Promise.resolve(createParser(input, { quantizeWeights: true }).parse()),
    ConfigError,
    /sparse_conv.*Qm\.f/,
  );
  const parser = createParser(input, { quantizeWeights: true, weightPrecision: "Q1.7" });
  const layers = parser.parse();
  const [kernel, bias] = layers[4].parameters!;
  assertEquals(Array.from(kernel.data), Array.from(reducePrecision(nd(cases.dense_kernel).data, 2, 5)));
  assertEquals(Array.from(bias.data), Array.from(reducePrecision(nd(cases.dense_bias).data, 2, 5)));
  assertTrue(layers[4].absorbed.includes("weights quantized to Q2.5"));
  assertTrue(layers[0].absorbed.includes("weights quantized to Q1.7"));
  // [cell] quantize_bias is off: the pruned conv keeps its bias, quantized only where the layer asks.
  const raw = createParser(input, {}).parse();
  assertEquals(Array.from(layers[0].parameters![1].data), Array.from(raw[0].parameters![1].data));
  assertEquals(layers.map((l) => l.qmf), [undefined, undefined, undefined, undefined, undefined]);
});
