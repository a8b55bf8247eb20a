/**
 * The MNIST fixtures keep their known accuracy (fixtures/README.md) after
 * parsing, on all 10,000 MNIST test images (pixels / 255).
 */
import { assertEquals, assertTrue, fixturesDir } from "./_assert.ts";
import { loadMnist } from "./_mnist.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";

const dir = fixturesDir();
if (!dir) console.log("parsing_mnist_test: ../shared/fixtures is absent; skipping the MNIST accuracy tests");
await initBackend();

async function parseFixture(file: string) {
  const lib = getModelLibrary("keras");
  const inputModel = await lib.load(`${dir}${file}`);
  const parser = createParser(inputModel, {});
  parser.parse();
  return { inputModel, parser };
}

const MNIST: [string, number][] = [
  ["keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5", 0.9914],
  ["keras-h5/snn_mnist_tiny_keras2.2.4.h5", 0.9271],
  ["keras-h5-weights-json/snn_keras1_mnist_mlp_98.15.json", 0.9815],
];

for (const [file, known] of MNIST) {
  Deno.test({
    name: `fixture ${file}: parsed model keeps its MNIST accuracy ${
      (known * 100).toFixed(2)
    } % (10,000 images)`,
    ignore: !dir,
    async fn() {
      const { inputModel, parser } = await parseFixture(file);
      const mnist = await loadMnist("test");
      const shape = inputModel.model.inputs[0].shape.slice(1) as number[];
      const score = await parser.evaluate(
        500,
        undefined,
        { data: mnist.x, shape: [mnist.n, ...shape], dtype: "float32" },
        { data: mnist.y, shape: [mnist.n], dtype: "uint8" },
      );
      assertEquals(score.count, 10000);
      assertTrue(Math.abs(score.top1 - known) <= 0.0005, `${file}: top-1 ${score.top1} vs known ${known}`);
      assertTrue(score.topK >= score.top1, "top-k accuracy is at least top-1");
    },
  });
}
