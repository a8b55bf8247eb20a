/**
 * The simulator on the WebGPU backend (Mesa's lavapipe where there is no
 * GPU; kept small, lavapipe is slow): the fused integrate-and-fire kernel
 * computes exactly what the element-wise ops compute, for every spike mode,
 * reset, leak and refractory setting; noise drawn on the device equals the
 * JavaScript draw bit for bit; memory does not grow over 1,000 steps; a
 * batch beyond the adapter's buffer limit is an error naming the limit.
 * Skips with a message where no WebGPU adapter exists.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { bufferLimit, probeAdapter } from "../lib/backend/webgpu.ts";
import { ConfigError } from "../lib/errors.ts";
import { noiseArray, uniformNoise } from "../lib/simulation/kernels/noise.ts";
import { BatchSimulator } from "../lib/simulation/batch.ts";
import { type CellOptions, resolveSimulationOptions } from "../lib/simulation/options.ts";
import { assertEquals, assertRejects } from "./_assert.ts";
import { assertFlatMemoryOver1000Steps, assertFusedEqualsComposed } from "./_sim_kernels.ts";

const adapter = await probeAdapter();
const skip = typeof adapter === "string";
if (skip) console.warn(`simulation_webgpu_test: skipped, no WebGPU adapter (${adapter})`);
else await initBackend({ backend: "webgpu" });

const CELLS: { activation: string; cell: Partial<CellOptions>; dt: number }[] = [
  { activation: "relu", cell: {}, dt: 1 },
  { activation: "relu", cell: { reset: "Reset to zero", vReset: 0.1 }, dt: 1 },
  { activation: "relu", cell: { reset: "Reset by modulo", vThresh: 0.5 }, dt: 1 },
  { activation: "relu", cell: { tauRefrac: 2, leak: true, vThresh: 0.8 }, dt: 0.5 },
  { activation: "binary_sigmoid", cell: {}, dt: 1 },
  { activation: "binary_tanh", cell: { vThresh: 0.7 }, dt: 1 },
];

for (const c of CELLS) {
  Deno.test({
    name: `webgpu: the fused kernel equals the element-wise ops: ${c.activation} ${
      JSON.stringify(c.cell)
    } dt ${c.dt}`,
    ignore: skip,
    fn: () => assertFusedEqualsComposed([3, 5, 7], c, true),
  });
}

Deno.test({
  name: "webgpu: noise drawn on the device equals the JavaScript draw bit for bit",
  ignore: skip,
  fn: async () => {
    const ids = Int32Array.from([0, 5, 4096, 77]);
    for (const key of [{ seed: 0, stream: 0, step: 0 }, { seed: -3, stream: 2, step: 999 }]) {
      const u = uniformNoise([4, 3, 50], ids, key);
      const gpu = await u.data();
      u.dispose();
      assertEquals(Array.from(gpu), Array.from(noiseArray(ids, 150, key)), JSON.stringify(key));
    }
  },
});

/** conv → max-pool → dense, random weights (all layer kinds with state: gated pool included). */
function smallModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.randomUniform({ minval: -0.2, maxval: 0.6, seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: init(2) }),
    ],
  });
}

Deno.test({
  name: "webgpu: memory does not grow over 1,000 time steps",
  ignore: skip,
  fn: () => {
    assertFlatMemoryOver1000Steps(smallModel(), [6, 6, 1]);
  },
});

Deno.test({
  name: "webgpu: a batch beyond the adapter's buffer limit is an error naming the limit",
  ignore: skip,
  fn: async () => {
    const units = 1 << 20; // state: 2 rows × 4 bytes = 8 MiB per sample
    const limit = bufferLimit()!;
    const batch = Math.floor(limit / (8 * units)) + 1;
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units })] });
    const mib = (b: number) => (b / 2 ** 20).toFixed(1).replace(".", "\\.");
    try {
      await assertRejects(
        () => Promise.resolve().then(() => new BatchSimulator(model, resolveSimulationOptions(), batch)),
        ConfigError,
        new RegExp(
          `^\\[simulation\\] batch_size = ${batch}: the state of spiking layer '.*' needs ${
            mib(8 * units * batch)
          } MiB ` +
            `at this batch size, but the WebGPU adapter binds at most ${mib(limit)} MiB per buffer ` +
            `\\(maxStorageBufferBindingSize\\); use a batch of at most ${batch - 1}$`,
        ),
      );
      // A batch of one fits.
      new BatchSimulator(model, resolveSimulationOptions(), 1).dispose();
    } finally {
      model.dispose();
    }
  },
});
