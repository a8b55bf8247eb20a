/**
 * channels_first (NCW) 1-D pooling through real files: tf.keras 2 HDF5
 * models (testdata/parsing/gen_pool1d.py, written with h5py) with
 * MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D and
 * GlobalAveragePooling1D(keepdims) after a Conv1D, loaded by the Keras
 * library; the input model, the parsed model and the input model saved and
 * loaded again all match PyTorch (tfjs-layers alone pools over the channels).
 */
import { assertClose, assertEquals, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { saveKerasH5 } from "../lib/importers/keras/save.ts";
import type { NDArray } from "../lib/io/ndarray.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { modelConfig, predictParsed } from "./_parsing_helpers.ts";

interface Nd {
  shape: number[];
  data: number[];
}
const CASES = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/parsing/pool1d_cases.json", import.meta.url)),
) as Record<"stack" | "keepdims", { x: Nd; y: Nd }>;
const TOL = { rtol: 1e-4, atol: 1e-5 };

function ndarray(a: Nd): NDArray {
  return { data: Float32Array.from(a.data), shape: a.shape, dtype: "float32" };
}

for (const name of ["stack", "keepdims"] as const) {
  Deno.test(`channels_first 1-D pooling (${name}): input, parsed and re-saved model match PyTorch`, async () => {
    await initBackend();
    const lib = getModelLibrary("keras");
    const file = new URL(`../testdata/parsing/pool1d_${name}_cf.h5`, import.meta.url).pathname;
    const input = await lib.load(file);
    assertEquals(input.dataFormat, "channels_first");
    const x = ndarray(CASES[name].x);
    const y = Float32Array.from(CASES[name].y.data);
    const classes = input.model.layers.map((l) => l.getClassName());
    assertTrue(classes.includes("MaxPooling1D") && classes.includes("AveragePooling1D"), `${classes}`);
    assertClose((await predictModel(input.model, x)).data, y, { ...TOL, msg: "input model vs torch" });

    const parser = createParser(input);
    parser.parse();
    const parsed = parser.buildParsedModel();
    const got = await predictParsed(parser, x, parsed);
    assertEquals(got.shape, CASES[name].y.shape);
    assertClose(got.data, y, { ...TOL, msg: "parsed model vs torch" });

    const dir = await Deno.makeTempDir({ prefix: "snn-pool1d-" });
    try {
      await saveKerasH5(input.model, `${dir}/copy.h5`);
      const config = await modelConfig(`${dir}/copy.h5`);
      assertTrue(!config.includes("SnnChannelsFirst"), "saved under the Keras class names");
      assertTrue(config.includes('"data_format":"channels_first"'), config);
      const again = await lib.load(`${dir}/copy.h5`);
      assertClose((await predictModel(again.model, x)).data, y, { ...TOL, msg: "re-saved model vs torch" });
      again.model.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    parsed.dispose();
    input.model.dispose();
  });
}
