/**
 * Subprocess of tests/backend_compare_test.ts (the backend starts once per
 * process): on the backend `SNNTOOLBOX_BACKEND` names, computes what the
 * test compares across backends and prints one JSON object on stdout —
 * outputs of conformance models (input and parsed) on fixed pseudo-random
 * inputs, the demo ANN's logits on the demo's 1000 MNIST test images, and a
 * short simulation of the demo SNN with the scale factors given in the JSON
 * file `argv[0]` (computed once by the test).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { loadInputModel } from "../lib/parsing/files.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { runSimulation } from "../lib/simulation/run.ts";
import { rng } from "./_rng.ts";

/** Conformance models compared (small, so lavapipe stays quick). */
export const COMPARED_MODELS = [
  "keras-h5/snn_mnist_tiny_keras2.2.4.h5",
  "keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5",
  "onnx/hls4ml_conv2d_small_keras.onnx",
];

/** The demo simulation compared: samples, batch, duration. */
export const DEMO_SIMULATION = { numToTest: 200, batchSize: 100, duration: 60 };

async function outputs(model: tf.LayersModel, seed: number): Promise<number[]> {
  const shape = [4, ...model.inputs[0].shape.slice(1).map((d) => d ?? 1)];
  const r = rng(seed);
  const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r), shape);
  const y = model.predict(x) as tf.Tensor;
  const data = Array.from(await y.data());
  tf.dispose([x, y]);
  return data;
}

if (import.meta.main) {
  const [factorsFile, fixtures] = Deno.args;
  const info = await initBackend();
  const result: Record<string, unknown> = { backend: info.name, models: {} };
  for (const file of fixtures ? COMPARED_MODELS : []) {
    const { inputModel } = await loadInputModel(`${fixtures}${file}`);
    const parser = createParser(inputModel, {});
    parser.parse();
    const parsed = parser.buildParsedModel();
    (result.models as Record<string, unknown>)[file] = {
      input: await outputs(inputModel.model, 1),
      parsed: await outputs(parsed, 2),
    };
  }
  const demo = new URL("../testdata/demo/", import.meta.url).pathname;
  const { inputModel } = await loadInputModel(`${demo}mnist_cnn.json`);
  const parser = createParser(inputModel, {});
  parser.parse();
  const model = parser.buildParsedModel();
  const [x, y] = await Promise.all(["x_test", "y_test"].map((k) => readNpzArray(`${demo}data/${k}.npz`)));
  const logits = tf.tidy(() => model.predict(tf.tensor(x.data as Float32Array, x.shape)) as tf.Tensor);
  result.mnistLogits = Array.from(await logits.data());
  logits.dispose();
  const scaleFactors = JSON.parse(await Deno.readTextFile(factorsFile));
  await normalizeParameters(model, undefined, { scaleFactors });
  const sim = await runSimulation(model, { x, y }, resolveSimulationOptions({ ...DEMO_SIMULATION, dt: 1 }));
  result.snn = { accuracy: sim.snnAccuracy, guesses: sim.guesses, sops: sim.sops };
  console.log(JSON.stringify(result));
}
