/**
 * Conformance of the Keras library + parser on the real fixtures in
 * ../shared/fixtures: every Keras file either parses and reproduces the
 * unparsed model (textbook BatchNorm reference, 1e-4 relative) or fails
 * with the unsupported-layer error (MNIST accuracies: parsing_mnist_test.ts).
 */
import { tf } from "../deps.ts";
import { assertClose, assertEquals, assertRejects, assertTrue, fixturesDir } from "./_assert.ts";
import { predictParsed, randomInput, referencePredict } from "./_parsing_helpers.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import type { ParserOptions } from "../lib/parsing/options.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";

const dir = fixturesDir();
if (!dir) console.log("parsing_fixtures_test: ../shared/fixtures is absent; skipping the fixture tests");
await initBackend();

async function parseFixture(file: string, options: ParserOptions = {}) {
  const lib = getModelLibrary("keras");
  const inputModel = await lib.load(`${dir}${file}`);
  const parser = createParser(inputModel, options);
  parser.parse();
  return { inputModel, parser, parsed: parser.buildParsedModel() };
}

async function assertParsedMatches(file: string): Promise<void> {
  const { inputModel, parser, parsed } = await parseFixture(file);
  const shape = inputModel.model.inputs[0].shape.slice(1) as number[];
  const x = randomInput([2, ...shape], 11);
  const xt = tf.tensor(x.data as Float32Array, x.shape);
  const ref = referencePredict(inputModel.model, xt);
  const expected = (await ref.data()) as Float32Array;
  tf.dispose([xt, ref]);
  const actual = await predictParsed(parser, x, parsed);
  const scale = Math.max(...Array.from(expected, Math.abs));
  assertClose(actual.data, expected, { rtol: 1e-4, atol: 1e-4 * scale, msg: file });
}

const MATCHING = [
  "keras-h5/st_miniresnet_1stack_residual_keras2.9.h5",
  "keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5",
  "keras-h5/snn_cifar10_bn_keras2.0.4_theano.h5",
  "keras-h5/hls4ml_conv1d_1layer_keras2.11.h5",
  "keras-h5-weights-json/hls4ml_KERAS_conv2d_model.json",
  "tfjs-layers/cnn-explainer-tinyvgg/model.json",
  "tfjs-layers/tfjs-examples-abalone/model.json",
];

for (const file of MATCHING) {
  Deno.test({
    name: `fixture ${file}: parsed model matches the unparsed one within 1e-4`,
    ignore: !dir,
    fn: () => assertParsedMatches(file),
  });
}

Deno.test({
  name: "fixture mini-ResNet: Add → Concatenate + identity-sum conv, every BatchNorm absorbed",
  ignore: !dir,
  async fn() {
    const { parser } = await parseFixture("keras-h5/st_miniresnet_1stack_residual_keras2.9.h5");
    const types: string[] = parser.layerList.map((l) => l.layerType);
    assertTrue(
      !types.includes("BatchNormalization") && !types.includes("Add") && !types.includes("Activation"),
    );
    assertEquals(types.filter((t) => t === "Concatenate").length, 2);
    assertEquals(
      parser.layerList.filter((l) => l.absorbed.some((a) => a.startsWith("BatchNormalization"))).length,
      7,
    );
  },
});

/** Fixtures with layers an SNN cannot implement, and the snn_layers that list them (else they are skipped). */
const UNSUPPORTED: [string, RegExp, ParserOptions][] = [
  [
    "keras-h5/fdeep_lstm_bidirectional_keras2.2.5.h5",
    /'lstm_1' \(LSTM\).*'bidirectional_1' \(Bidirectional\)/,
    { snnLayers: ["Dense", "LSTM", "Bidirectional"] },
  ],
  ["keras3/hls4ml_example-models_qkeras-v3_3layer.keras", /fc1 \(QDense/, {}],
];

for (const [file, re, options] of UNSUPPORTED) {
  Deno.test({
    name: `fixture ${file}: fails with the unsupported-layer error naming the layers`,
    ignore: !dir,
    async fn() {
      await assertRejects(() => parseFixture(file, options), UnsupportedLayerError, re);
    },
  });
}
