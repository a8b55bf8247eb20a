/**
 * (1) Parse + build time against the time to read the model file's bytes,
 * on the MNIST CNN, MobileNet and ResNet-18 (ONNX): one group per model,
 * baseline = reading every file of the model.
 *
 * - `load`: the model library reads the file into an input model (HDF5 /
 *   JSON + weights / ONNX protobuf decoded, TF.js model built);
 * - `load + parse + build`: the above plus the abstract parser's `parse()`
 *   and `buildParsedModel()` (BatchNorm folded, activations absorbed), i.e.
 *   what `snntoolbox parse` does before writing.
 *
 * Run alone: `deno bench -A bench/parse_bench.ts`.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { availableModels, loadInputModel, parseAndBuild, readModelBytes } from "./_helpers.ts";

await initBackend({ backend: "wasm" });
const models = await availableModels("parse_bench");

function dispose(...models: tf.LayersModel[]): void {
  for (const m of models) {
    try {
      m.dispose();
    } catch { /* weights shared with a model disposed before */ }
  }
}

for (const model of models) {
  const group = `parse ${model.name}`;
  const big = model.name !== "mnist";
  const opts = big ? { n: 5, warmup: 1 } : {};
  Deno.bench({ name: `${model.name}: read file bytes`, group, baseline: true, ...opts }, async () => {
    await readModelBytes(model);
  });
  Deno.bench({ name: `${model.name}: load`, group, ...opts }, async () => {
    const input = await loadInputModel(model);
    dispose(input.model);
  });
  Deno.bench({ name: `${model.name}: load + parse + build`, group, ...opts }, async () => {
    const input = await loadInputModel(model);
    dispose(parseAndBuild(input), input.model);
  });
}
