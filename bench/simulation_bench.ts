/**
 * Throughput of the INI simulator next to the ANN it was converted from, in
 * the same process: SNN sample·timesteps per second (one step of a whole
 * batch) against ANN samples per second (one forward pass of the same
 * batch). Uses the bundled demo model (testdata/demo/mnist_cnn.json, parsed
 * and normalized) when present, else an untrained CNN of the same shape.
 *
 * Run: `deno bench -A bench/simulation_bench.ts`
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { getModelLibrary } from "../lib/parsing/mod.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { float32Array } from "../lib/io/ndarray.ts";

const BATCH = 100;
const backend = await initBackend();

async function demoModel(): Promise<{ model: tf.LayersModel; label: string }> {
  const path = new URL("../testdata/demo/mnist_cnn.json", import.meta.url).pathname;
  try {
    await Deno.stat(path);
    const lib = getModelLibrary("keras");
    const parser = lib.createParser(await lib.load(path), {});
    parser.parse();
    return { model: parser.buildParsedModel(), label: "demo MNIST CNN (parsed)" };
  } catch {
    const input = tf.input({ shape: [28, 28, 1] });
    let x = tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: "relu" }).apply(
      input,
    ) as tf.SymbolicTensor;
    x = tf.layers.averagePooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.averagePooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 10, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
    return { model: tf.model({ inputs: input, outputs: x }), label: "untrained CNN of the demo's shape" };
  }
}

const { model, label } = await demoModel();
const xb = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, "float32", 1);
await normalizeParameters(model, float32Array(xb.dataSync() as Float32Array, [BATCH, 28, 28, 1]), {
  batchSize: BATCH,
});
const net = SpikingNetwork.fromModel(model, resolveSimulationOptions({ duration: 1000 }));
net.init(BATCH);
let step = 0;

function annForward(): void {
  tf.tidy(() => (model.predict(xb) as tf.Tensor).dataSync());
}

function snnStep(): void {
  net.step(xb, step++ % 1000);
}

// One explicit measurement, printed as the ratio the README quotes.
function rate(f: () => void, n: number): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (n * BATCH) / ((performance.now() - t0) / 1000);
}
const ann = rate(annForward, 10);
const snn = rate(snnStep, 50);
console.log(
  `${label}, batch ${BATCH}, ${backend.name} backend (${backend.threads} thread(s)): ` +
    `ANN ${ann.toFixed(0)} samples/s, SNN ${snn.toFixed(0)} sample·timesteps/s, ` +
    `ratio ANN/SNN ${(ann / snn).toFixed(2)} (a 100-step simulation costs ~${
      (100 * ann / snn).toFixed(0)
    } ANN passes)`,
);

Deno.bench({
  name: `ANN forward pass, batch ${BATCH}`,
  group: "simulation",
  baseline: true,
  n: 10,
  warmup: 1,
}, annForward);
Deno.bench({ name: `SNN time step, batch ${BATCH}`, group: "simulation", n: 50, warmup: 2 }, snnStep);
