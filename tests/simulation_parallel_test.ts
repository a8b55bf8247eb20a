/**
 * Data-parallel simulation (lib/simulation/parallel.ts): 2 and 3 workers
 * give exactly the totals of one (whole batches to the workers; and every
 * batch split by sample when the network state carries over between
 * batches), with Poisson input and a softmax output layer, whose random
 * draws are keyed by sample; a sample draws the same numbers whichever
 * batch it is simulated in; workers started ahead of the runs serve
 * several runs alike.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { resolveSimulationOptions, type SimulationOptions } from "../lib/simulation/options.ts";
import { runSimulation, type SimulationResult } from "../lib/simulation/run.ts";
import { SimulationWorkers } from "../lib/simulation/parallel.ts";
import { assertEquals, assertTrue } from "./_assert.ts";

await initBackend();

function model(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.randomUniform({ minval: -0.1, maxval: 0.5, seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: init(2) }),
    ],
  });
}

const N = 12;
const x = tf.randomUniform([N, 6, 6, 1], 0, 1, "float32", 5);
const data = {
  x: { data: x.dataSync() as Float32Array, shape: [N, 6, 6, 1], dtype: "float32" as const },
  y: { data: Int32Array.from({ length: N }, (_, i) => i % 4), shape: [N], dtype: "int32" as const },
};

async function run(
  m: tf.LayersModel,
  options: Partial<SimulationOptions>,
  workers: number | SimulationWorkers,
): Promise<SimulationResult> {
  const opts = resolveSimulationOptions({ duration: 30, batchSize: 4, numToTest: N, seed: 3, ...options });
  return await runSimulation(m, data, opts, { workers, stepStats: true, logVars: ["spiketrains_n_b_l_t"] });
}

for (
  const [label, options] of [
    ["whole batches", { poissonInput: true, inputRate: 400 }],
    ["each batch split by sample (state carried over)", { poissonInput: true, resetBetweenNthSample: 2 }],
  ] as const
) {
  Deno.test(`parallel simulation, ${label}: 2 and 3 workers give exactly the tallies of one`, async () => {
    const m = model();
    try {
      const one = await run(m, options, 1);
      assertTrue(one.sops > 0 && one.tallies.spikesByTime.some((v) => v > 0), "the network spikes");
      for (const workers of [2, 3]) {
        const many = await run(m, options, workers);
        assertEquals(many.tallies, one.tallies, `${workers} workers`);
        assertEquals([many.truth, many.guesses, many.histogram], [one.truth, one.guesses, one.histogram]);
      }
    } finally {
      m.dispose();
    }
  });
}

Deno.test("a sample draws the same random numbers in whichever batch it is simulated", async () => {
  const m = model();
  try {
    // Analog input (no batch-wide Poisson scaling); the softmax output layer draws at random.
    const straight = await run(m, {}, 1);
    const order = [4, 5, 6, 7, 0, 1, 2, 3, 11, 10, 9, 8];
    const shuffled = await run(m, { sampleIdxsToTest: order }, 1);
    assertEquals(shuffled.tallies.sampleIndices, order);
    order.forEach((id, i) => {
      assertEquals(shuffled.guesses[i], straight.guesses[id], `sample ${id}`);
      assertEquals(shuffled.tallies.sampleSops[i], straight.tallies.sampleSops[id], `sample ${id} SOPs`);
    });
  } finally {
    m.dispose();
  }
});

Deno.test("workers started ahead serve several runs (a sweep), each with exactly the tallies of one thread", async () => {
  const m = model();
  const started = SimulationWorkers.spawn(2, tf.getBackend() as "wasm" | "cpu");
  try {
    const cases: Partial<SimulationOptions>[] = [
      { poissonInput: true, inputRate: 400 },
      { poissonInput: true, resetBetweenNthSample: 2 },
      { duration: 20 },
    ];
    for (const options of cases) {
      const one = await run(m, options, 1);
      const borrowed = await run(m, options, started);
      assertEquals(borrowed.tallies, one.tallies, JSON.stringify(options));
    }
  } finally {
    await started.close();
    m.dispose();
  }
});
