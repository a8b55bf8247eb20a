/**
 * (3) SNN simulation throughput against ANN throughput, in the same process,
 * on the demo MNIST CNN (parsed, then normalized on the demo's x_norm as the
 * pipeline does) with real MNIST test images, batch 1 and 32: one group per
 * batch size, baseline = one forward pass of the ANN.
 *
 * One ANN iteration classifies `batch` samples; one SNN iteration advances
 * `batch` samples by one time step of the INI simulator (default cell,
 * `duration` 100). The time ratio is therefore the ratio of ANN samples/s to
 * SNN sample·steps/s: a simulation of T steps costs T times that ratio of
 * ANN passes. Run alone: `deno bench -A bench/simulation_bench.ts`.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { benchModel, loadParsedModel, repoPath } from "./_helpers.ts";

const BATCHES = [1, 32];
const DURATION = 100;

await initBackend();
const spec = await benchModel("mnist");
if (typeof spec === "string") throw new Error(spec);
const model = await loadParsedModel(spec);
const data = repoPath("testdata/demo/data/");
await normalizeParameters(model, await readNpzArray(`${data}x_norm.npz`), { batchSize: 100 });
const xTest = await readNpzArray(`${data}x_test.npz`);
const images = Float32Array.from(xTest.data as ArrayLike<number>);
const perSample = xTest.shape.slice(1);
const size = perSample.reduce((a, b) => a * b, 1);

for (const batch of BATCHES) {
  const x = tf.tensor(images.subarray(0, batch * size), [batch, ...perSample]);
  const net = SpikingNetwork.fromModel(model, resolveSimulationOptions({ duration: DURATION }));
  net.init(batch);
  let step = 0;
  const group = `simulate mnist batch ${batch}`;
  Deno.bench({ name: `mnist b${batch}: ANN forward pass`, group, baseline: true }, () => {
    tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  });
  Deno.bench({ name: `mnist b${batch}: SNN time step`, group }, () => {
    if (step === DURATION) {
      net.init(batch); // a new simulation, as for the next batch of the pipeline
      step = 0;
    }
    net.step(x, step++);
  });
}
