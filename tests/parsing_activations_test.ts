import { tf } from "../deps.ts";
import { assertClose, assertEquals } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { applyActivation, registerCustomActivation } from "../lib/layers/activations.ts";
import { asInputModel, randomInput } from "./_parsing_helpers.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";

await initBackend();
const data = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/parsing/activations.json", import.meta.url)),
);

for (const [name, expected] of Object.entries(data.cases as Record<string, number[]>)) {
  Deno.test(`custom activation ${name} matches the toolbox's numpy definition`, async () => {
    const x = tf.tensor1d(data.x);
    const y = applyActivation(name, x);
    assertClose(await y.data(), expected, { rtol: 1e-5, atol: 1e-6, msg: name });
    tf.dispose([x, y]);
  });
}

Deno.test("a parsed layer with a custom activation builds, saves and loads back (registered class)", async () => {
  const input = tf.input({ shape: [5] });
  const d = tf.layers.dense({ units: 4 }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: d });
  registerCustomActivation("relu_Q1.4");
  const parser = new ModelParser(asInputModel(model));
  parser.parse();
  parser.layerList[0].activation = "relu_Q1.4";
  const parsed = parser.buildParsedModel();
  const x = randomInput([3, 5]);
  const before = await predictModel(parsed, x);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await parsed.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const after = await predictModel(loaded, x);
  assertEquals(Array.from(after.data), Array.from(before.data));
  const steps = Array.from(before.data).map((v) => v * 16);
  assertEquals(steps.map(Math.round), steps, "outputs are multiples of 2^-4");
});
