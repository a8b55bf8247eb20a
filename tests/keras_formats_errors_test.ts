/**
 * Broken or foreign inputs give a ModelFormatError naming the file (and the
 * layer, with expected vs found) — never a raw HDF5, zip or tfjs error —
 * and the file kind is sniffed from the bytes, not the extension.
 */
import { assertEquals, assertMatch, assertRejects, fixturesDir } from "./_assert.ts";
import { ModelFormatError } from "../lib/errors.ts";
import { loadKerasModel } from "../lib/importers/keras/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend(); // a test is an entry point: it starts the backend the loaders compute on

const DIR = new URL("../testdata/keras/", import.meta.url).pathname;
const FIX = fixturesDir();
if (!FIX) console.warn("skipping the Keras fixture-based error tests: ../shared/fixtures is absent");

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keras_formats_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The Keras 1 test architecture, modified by `edit`, written as `<dir>/NAME.json` beside a copy of its weights. */
async function editedKeras1(dir: string, edit: (layers: Record<string, unknown>[]) => void): Promise<string> {
  const doc = JSON.parse(await Deno.readTextFile(`${DIR}keras1_th_cnn.json`));
  edit(doc.config);
  await Deno.writeTextFile(`${dir}/net.json`, JSON.stringify(doc));
  await Deno.copyFile(`${DIR}keras1_th_cnn_weights.h5`, `${dir}/net_weights.h5`);
  return `${dir}/net.json`;
}

Deno.test({
  name: "loadKerasModel: a truncated .h5 is a ModelFormatError naming the file",
  ignore: !FIX,
  fn: () =>
    withTmp(async (dir) => {
      const bytes = await Deno.readFile(`${FIX}keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5`);
      const path = `${dir}/cut.h5`;
      await Deno.writeFile(path, bytes.subarray(0, bytes.length >> 1));
      await assertRejects(() => loadKerasModel(path), ModelFormatError, /cut\.h5/);
    }),
});

Deno.test("loadKerasModel: a truncated .keras archive is a ModelFormatError naming the file", () =>
  withTmp(async (dir) => {
    const bytes = await Deno.readFile(`${DIR}keras3_functional.keras`);
    const path = `${dir}/cut.keras`;
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 4000));
    await assertRejects(
      () => loadKerasModel(path),
      ModelFormatError,
      /cut\.keras: not a readable zip archive/,
    );
  }));

Deno.test("loadKerasModel: JSON that is not a model is a ModelFormatError naming the file and its keys", () =>
  withTmp(async (dir) => {
    const path = `${dir}/settings.json`;
    await Deno.writeTextFile(path, JSON.stringify({ learning_rate: 0.1, layers: 3 }));
    const err = await assertRejects(
      () => loadKerasModel(path),
      ModelFormatError,
      /settings\.json: JSON is not a Keras model/,
    );
    assertMatch(err.message, /found keys: learning_rate, layers/);
    await Deno.writeTextFile(path, "{ not json");
    await assertRejects(() => loadKerasModel(path), ModelFormatError, /settings\.json: not valid JSON/);
  }));

Deno.test("loadKerasModel: bytes that are neither HDF5, zip nor JSON are a ModelFormatError", () =>
  withTmp(async (dir) => {
    const path = `${dir}/model.h5`;
    await Deno.writeFile(path, new Uint8Array(4096).map((_, i) => (i * 37) & 0xff));
    await assertRejects(() => loadKerasModel(path), ModelFormatError, /model\.h5: not a Keras model file/);
  }));

Deno.test("loadKerasModel: a tfjs graph model is refused clearly", () =>
  withTmp(async (dir) => {
    const path = `${dir}/model.json`;
    await Deno.writeTextFile(path, JSON.stringify({ format: "graph-model", modelTopology: { node: [] } }));
    await assertRejects(
      () => loadKerasModel(path),
      ModelFormatError,
      /model\.json: a tfjs graph-model model/,
    );
  }));

Deno.test("loadKerasModel: architecture JSON without weights names the weight files it looked for", () =>
  withTmp(async (dir) => {
    await Deno.copyFile(`${DIR}keras1_th_cnn.json`, `${dir}/alone.json`);
    await assertRejects(
      () => loadKerasModel(`${dir}/alone.json`),
      ModelFormatError,
      /alone\.json: architecture JSON without weights; expected .*alone\.h5 or .*alone_weights\.h5/,
    );
  }));

Deno.test("loadKerasModel: a kernel whose stored shape does not fit names the layer, expected and found", () =>
  withTmp(async (dir) => {
    const path = await editedKeras1(dir, (layers) => {
      (layers[0].config as Record<string, unknown>).nb_filter = 5;
      (layers[3].config as Record<string, unknown>).input_dim = 45;
    });
    const err = await assertRejects(() => loadKerasModel(path), ModelFormatError, /net_weights\.h5/);
    assertMatch(err.message, /layer 'convolution2d_1' \(Conv2D\)/);
    assertMatch(err.message, /shape \[4, 2, 3, 3\]; expected \[3, 3, 2, 5\]/);
  }));

Deno.test("loadKerasModel: a layer with no stored weights is a ModelFormatError naming it", () =>
  withTmp(async (dir) => {
    const path = await editedKeras1(dir, (layers) => {
      layers.push({
        class_name: "Dense",
        config: { name: "dense_extra", output_dim: 2, activation: "linear" },
      });
    });
    await assertRejects(
      () => loadKerasModel(path),
      ModelFormatError,
      /net_weights\.h5: no weights stored for layer 'dense_extra' \(Dense\); expected 2 arrays \[5, 2\], \[2\]/,
    );
  }));

Deno.test({
  name: "loadKerasModel: an HDF5 full model mislabelled .keras is sniffed and loads",
  ignore: !FIX,
  fn: () =>
    withTmp(async (dir) => {
      const path = `${dir}/tiny.keras`;
      await Deno.copyFile(`${FIX}keras-h5/snn_mnist_tiny_keras2.2.4.h5`, path);
      const input = await loadKerasModel(path);
      assertEquals(input.metadata.format, "keras-h5");
      assertEquals(input.model.inputs[0].shape, [null, 28, 28, 1]);
      input.model.dispose();
    }),
});

Deno.test("loadKerasModel: a Functional config referring to a missing layer or node fails instead of hanging", () =>
  withTmp(async (dir) => {
    const layer = (cls: string, name: string, config: Record<string, unknown>, inbound: unknown[]) => ({
      class_name: cls,
      name,
      config: { name, ...config },
      inbound_nodes: inbound,
    });
    const doc = {
      class_name: "Functional",
      config: {
        name: "broken",
        layers: [
          layer("InputLayer", "x", { batch_input_shape: [null, 4] }, []),
          layer("Dense", "a", { units: 3 }, [[["x", 0, 0, {}]]]),
          layer("Dense", "b", { units: 2 }, [[["ghost", 0, 0, {}]]]),
          layer("Dense", "c", { units: 2 }, [[["a", 3, 0, {}]]]),
        ],
        input_layers: [["x", 0, 0]],
        output_layers: [["b", 0, 0], ["c", 0, 0]],
      },
    };
    await Deno.writeTextFile(`${dir}/graph.json`, JSON.stringify(doc));
    await Deno.copyFile(`${DIR}keras1_th_cnn_weights.h5`, `${dir}/graph.h5`);
    const err = await assertRejects(
      () => loadKerasModel(`${dir}/graph.json`),
      ModelFormatError,
      /graph\.json: the model graph is broken: layer 'b' refers to layer 'ghost', which does not exist/,
    );
    assertMatch(err.message, /layer 'c' refers to node 3 of layer 'a', which has 1/);
  }));

Deno.test({
  name: "loadKerasModel: tfjs weight shard paths may not leave the model's folder; short shards are reported",
  ignore: !FIX,
  fn: () =>
    withTmp(async (dir) => {
      const doc = JSON.parse(await Deno.readTextFile(`${FIX}tfjs-layers/tfjs-examples-abalone/model.json`));
      doc.weightsManifest[0].paths = ["../weights.bin"];
      await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(doc));
      await assertRejects(
        () => loadKerasModel(`${dir}/model.json`),
        ModelFormatError,
        /model\.json: weight shard path '\.\.\/weights\.bin' leaves the model's folder/,
      );
      doc.weightsManifest[0].paths = ["weights.bin"];
      await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(doc));
      const bin = await Deno.readFile(`${FIX}tfjs-layers/tfjs-examples-abalone/weights.bin`);
      await Deno.writeFile(`${dir}/weights.bin`, bin.subarray(0, 1000));
      await assertRejects(
        () => loadKerasModel(`${dir}/model.json`),
        ModelFormatError,
        /model\.json: weight shards of group 0 \(weights\.bin\) hold 1000 bytes; the manifest needs 12204/,
      );
    }),
});

Deno.test({
  name: "keras errors: a corrupt weights .h5 beside the JSON is reported against the .h5, as one clean line",
  ignore: !FIX,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "snn_keras_corrupt_" });
    try {
      const base = `${FIX}keras-h5-weights-json/hls4ml_KERAS_conv2d_model`;
      await Deno.copyFile(`${base}.json`, `${dir}/m.json`);
      const bytes = await Deno.readFile(`${base}_weights.h5`);
      // Zeroed metadata (HDF5 raises an error) and 0xff garbage (the WASM library aborts).
      for (const [from, to, value] of [[1000, 3000, 0], [2000, 6000, 255]]) {
        const bad = bytes.slice();
        bad.fill(value, from, to);
        await Deno.writeFile(`${dir}/m_weights.h5`, bad);
        const err = await assertRejects(
          () => loadKerasModel(`${dir}/m.json`),
          ModelFormatError,
          /m_weights\.h5: /,
        );
        assertEquals(err.message.includes("\n"), false, "one line");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
