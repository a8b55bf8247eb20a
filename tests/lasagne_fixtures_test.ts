/**
 * The Lasagne library on the real fixture
 * ../shared/fixtures/lasagne/snn_lasagne_lenet5_mnist_99.02_params.h5 with
 * the build script testdata/lasagne/lenet5.py (the architecture its
 * SOURCES.md describes): known top-1 99.03 % on the 10,000 MNIST test images.
 */
import { assertEquals, assertTrue, fixturesDir } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { evaluateModel } from "../lib/parsing/evaluate.ts";
import { loadLasagneModel } from "../lib/importers/lasagne/load.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { guessModelLibrary } from "../lib/importers/mod.ts";
import { mnistTestNchw } from "./_mnist.ts";

const fixtures = fixturesDir();
if (!fixtures) console.log("lasagne fixture tests skipped: ../shared/fixtures is absent");
const script = new URL("../testdata/lasagne/lenet5.py", import.meta.url).pathname;

Deno.test({
  name: "lasagne fixture lenet5 (99.02 params .h5): 99.03 % on MNIST, input and parsed model",
  ignore: !fixtures,
  fn: async () => {
    await initBackend();
    const { x, y } = await mnistTestNchw();
    const weights = `${fixtures}lasagne/snn_lasagne_lenet5_mnist_99.02_params.h5`;
    assertEquals(guessModelLibrary(script), "lasagne");
    const m = await loadLasagneModel(script, { weights });
    assertEquals(m.metadata.kernels_flipped, "conv1,conv2");
    const score = await evaluateModel(m.model, x, y, { batchSize: 500 });
    console.log(`Lasagne LeNet-5 input model top-1: ${(score.top1 * 100).toFixed(2)} %`);
    assertTrue(Math.abs(score.top1 - 0.9903) <= 0.0005, `top-1 ${score.top1}`);
    const parser = new ModelParser(m);
    parser.parse();
    const parsed = await parser.evaluate(500, 2000, x, y);
    // The parsed model (BN folded, channels-last) predicts as the input model on the first 2,000 images.
    const ref = await evaluateModel(m.model, x, y, { batchSize: 500, numToTest: 2000 });
    console.log(`Lasagne LeNet-5 parsed model top-1 (2,000 images): ${(parsed.top1 * 100).toFixed(2)} %`);
    assertEquals(parsed.top1, ref.top1);
  },
});
