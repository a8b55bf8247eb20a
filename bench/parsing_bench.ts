/**
 * Parsing benchmarks on the MobileNet v1 0.25 fixture (ImageNet, 224×224;
 * `../shared/fixtures/keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5`):
 * `deno bench -A bench/parsing_bench.ts`.
 *
 * - parse + build: the abstract parser's `parse()` and `buildParsedModel()`
 *   on the loaded input model (27 BatchNorms folded, 27 ReLU6 absorbed);
 * - throughput: the parsed model vs the unparsed input model, batch 8.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { getModelLibrary } from "../lib/parsing/model_libs/mod.ts";

const file =
  new URL("../../shared/fixtures/keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5", import.meta.url).pathname;
let present = true;
try {
  Deno.statSync(file);
} catch {
  present = false;
  console.log(`parsing_bench: ${file} is absent; skipping`);
}

if (present) {
  await initBackend();
  const lib = getModelLibrary("keras");
  const inputModel = await lib.load(file);
  const parser = lib.createParser(inputModel, {});
  parser.parse();
  const parsed = parser.buildParsedModel();
  const x = tf.randomUniform([8, 224, 224, 3]);

  Deno.bench({ name: "MobileNet 0.25: parse + buildParsedModel", group: "parse", n: 5, warmup: 1 }, () => {
    const p = lib.createParser(inputModel, {});
    p.parse();
    p.buildParsedModel().dispose();
  });

  Deno.bench({
    name: "MobileNet 0.25: parsed model, batch 8",
    group: "infer",
    baseline: true,
    n: 5,
    warmup: 1,
  }, () => {
    tf.tidy(() => (parsed.predict(x) as tf.Tensor).dataSync());
  });

  Deno.bench(
    { name: "MobileNet 0.25: unparsed input model, batch 8", group: "infer", n: 5, warmup: 1 },
    () => {
      tf.tidy(() => (inputModel.model.predict(x) as tf.Tensor).dataSync());
    },
  );
}
