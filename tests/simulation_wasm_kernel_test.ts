/**
 * The fused integrate-and-fire kernel on the WASM backend (WebAssembly SIMD
 * on the backend's heap, lib/simulation/kernels/wasm.ts) computes exactly
 * what the element-wise TF.js ops compute — spikes, counts and potentials
 * bit for bit, for every spike mode, reset, leak and refractory setting, on
 * layers whose size is and is not a multiple of four — and so does a whole
 * network with per-step statistics; the statistics summed in the kernel's
 * pass (int32 sums) equal each sample's fan-out-weighted and plain spike sums; `Reset by
 * modulo` runs the element-wise ops; memory does not grow over 1,000 steps.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { createNeuronLayer } from "../lib/simulation/neuron.ts";
import { type CellOptions, resolveSimulationOptions } from "../lib/simulation/options.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { assertEquals, assertTrue } from "./_assert.ts";
import { rng } from "./_rng.ts";
import { assertFlatMemoryOver1000Steps, assertFusedEqualsComposed } from "./_sim_kernels.ts";

await initBackend({ backend: "wasm", threads: 1 });

const CELLS: { activation: string; cell: Partial<CellOptions>; dt: number }[] = [
  { activation: "relu", cell: {}, dt: 1 },
  { activation: "relu", cell: { vThresh: 0.6 }, dt: 1 },
  { activation: "relu", cell: { reset: "Reset to zero", vReset: 0.1 }, dt: 1 },
  { activation: "relu", cell: { tauRefrac: 2, leak: true, vThresh: 0.8 }, dt: 0.5 },
  { activation: "relu", cell: { reset: "Reset to zero", tauRefrac: 1 }, dt: 1 },
  { activation: "binary_sigmoid", cell: {}, dt: 1 },
  { activation: "binary_tanh", cell: { vThresh: 0.7 }, dt: 1 },
];

for (const c of CELLS) {
  for (const shape of [[3, 5, 7], [2, 4, 8], [1, 3]]) {
    Deno.test(
      `wasm: the fused kernel equals the element-wise ops: ${c.activation} ${
        JSON.stringify(c.cell)
      } dt ${c.dt}, layer [${shape}]`,
      () => assertFusedEqualsComposed(shape, c, true),
    );
  }
}

Deno.test("wasm: Reset by modulo runs the element-wise ops", () =>
  assertFusedEqualsComposed(
    [3, 5, 7],
    { activation: "relu", cell: { reset: "Reset by modulo", vThresh: 0.5 }, dt: 1 },
    false,
  ));

for (const activation of ["relu", "binary_tanh"]) {
  Deno.test(`wasm: the statistics summed in the kernel's pass are each sample's fan-out · spikes and spikes (${activation})`, async () => {
    const shape = [3, 4, 6]; // 24 neurons per sample: statistics in the kernel
    const cell = resolveSimulationOptions({ cell: { vThresh: 0.7 } }).cell;
    const layer = createNeuronLayer(shape, { cell, dt: 1, activation, seed: 1, stream: 1 }, true);
    assertTrue(layer.stepWithStats !== undefined, "the kernel sums the statistics");
    const noStats = createNeuronLayer([3, 5], { cell, dt: 1, activation: "relu", seed: 1, stream: 1 }, true);
    assertEquals(noStats.stepWithStats, undefined, "5 neurons per sample: not a multiple of 4");
    noStats.dispose();
    const r = rng(11);
    const fan = Int32Array.from({ length: 24 }, () => Math.floor(r() * 300));
    const fanout = tf.tensor1d(fan, "int32");
    let total = 0;
    for (let t = 0; t < 20; t++) {
      const values = Float32Array.from({ length: 72 }, () => (r() - 0.2) * 0.8);
      const current = tf.tensor(values, shape);
      const { spikes, stats } = layer.stepWithStats!(current, t, fanout);
      const [s, st] = [await spikes.data(), await stats.data()];
      tf.dispose([current, spikes, stats]);
      const expected: number[] = [];
      for (let b = 0; b < 3; b++) {
        let sops = 0, count = 0;
        for (let j = 0; j < 24; j++) {
          const fired = s[b * 24 + j] !== 0 ? 1 : 0;
          sops += fired * fan[j];
          count += fired;
        }
        expected.push(sops, count);
        total += count;
      }
      assertEquals(Array.from(st), expected, `statistics at step ${t}`);
    }
    assertTrue(total > 50, `the case must produce spikes (got ${total})`);
    fanout.dispose();
    layer.dispose();
  });
}

/** conv → avg-pool → conv → flatten → dense, random weights. */
function smallModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.randomUniform({ minval: -0.2, maxval: 0.6, seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [9, 9, 1], filters: 3, kernelSize: 3, kernelInitializer: init(1) }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, kernelInitializer: init(2) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: init(3) }),
    ],
  });
}

Deno.test("wasm: a whole network steps the same fused and element-wise, statistics included", async () => {
  const model = smallModel();
  const options = resolveSimulationOptions({ duration: 60, cell: { tauRefrac: 1 } });
  const [fused, composed] = [true, false].map((f) => SpikingNetwork.fromModel(model, options, { fused: f }));
  fused.init(5);
  composed.init(5);
  assertEquals([fused.fused, composed.fused], [true, false]);
  const input = tf.randomUniform([5, 9, 9, 1], 0, 1, "float32", 3);
  for (let t = 0; t < 60; t++) {
    const [a, b] = [fused, composed].map((net) => net.step(input, t, { stats: true }));
    assertEquals(Array.from(await a.output.data()), Array.from(await b.output.data()), `output at step ${t}`);
    assertEquals(
      Array.from(await a.stats!.data()),
      Array.from(await b.stats!.data()),
      `statistics at step ${t}`,
    );
    tf.dispose([a.output, a.stats!, b.output, b.stats!]);
  }
  const [ca, cb] = [await fused.spikeCounts(), await composed.spikeCounts()];
  assertEquals(ca.map((c) => Array.from(c)), cb.map((c) => Array.from(c)));
  assertTrue(ca.every((c) => c.some((v) => v > 0)), "every layer spikes");
  fused.dispose();
  composed.dispose();
  input.dispose();
  model.dispose();
});

Deno.test("wasm: memory does not grow over 1,000 time steps of the fused kernel", () => {
  assertFlatMemoryOver1000Steps(smallModel(), [9, 9, 1]);
});
