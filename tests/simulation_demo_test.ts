/**
 * The bar on the bundled MNIST demo (testdata/demo: mnist_cnn.json
 * parsed with its BatchNormalization folded, normalized on data/x_norm.npz):
 * SNN top-1 within 0.3 points of the ANN at duration 100, dt 1, on the 1000
 * test images, and every hidden layer's spike rates correlating with the ANN
 * activations above 0.99. Skips when the demo model is absent.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { runSimulation } from "../lib/simulation/run.ts";
import { assertEquals, assertTrue } from "./_assert.ts";

const DEMO = new URL("../testdata/demo/", import.meta.url).pathname;

function present(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const files = [
  "mnist_cnn.json",
  "mnist_cnn.weights.bin",
  "data/x_test.npz",
  "data/y_test.npz",
  "data/x_norm.npz",
];
const missing = files.filter((f) => !present(DEMO + f));
if (missing.length) console.warn(`simulation_demo_test: skipped, demo files missing: ${missing.join(", ")}`);

Deno.test({
  name:
    "MNIST demo: SNN top-1 within 0.3 points of the ANN at duration 100 on 1000 images; hidden correlations > 0.99",
  ignore: missing.length > 0,
  fn: async () => {
    await initBackend();
    const lib = getModelLibrary("keras");
    const parser = createParser(await lib.load(DEMO + "mnist_cnn.json"), {});
    parser.parse();
    const model = parser.buildParsedModel();
    const [x, y, xNorm] = await Promise.all(
      ["x_test", "y_test", "x_norm"].map((k) => readNpzArray(`${DEMO}data/${k}.npz`)),
    );
    await normalizeParameters(model, xNorm, { batchSize: 100 });
    const started = performance.now();
    const r = await runSimulation(
      model,
      { x, y },
      resolveSimulationOptions({ duration: 100, dt: 1, batchSize: 250, numToTest: 1000 }),
    );
    const secs = (performance.now() - started) / 1000;
    console.log(
      `demo: SNN ${(100 * r.snnAccuracy).toFixed(1)} %, ANN ${(100 * r.annAccuracy).toFixed(1)} %, ` +
        `correlations ${r.correlationByLayer.map((c) => c.correlation.toFixed(4)).join(" ")}, ` +
        `SOPs/MACs ${(r.sops / r.macs).toFixed(2)}, ${secs.toFixed(1)} s`,
    );
    assertEquals(r.numSamples, 1000);
    assertTrue(
      Math.abs(r.snnAccuracy - r.annAccuracy) <= 0.003,
      `SNN ${r.snnAccuracy} vs ANN ${r.annAccuracy}`,
    );
    for (const c of r.correlationByLayer.slice(0, -1)) {
      assertTrue(c.correlation > 0.99, `${c.layer}: ${c.correlation}`);
    }
    model.dispose();
  },
});
