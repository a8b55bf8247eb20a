/**
 * Data-parallel inference (lib/backend/workers.ts): outputs equal the
 * single-threaded run of the whole batch in this process, for batches
 * smaller than, equal to and not divisible by the worker count.
 */
import { tf } from "../deps.ts";
import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { DataParallelModel, splitBatch } from "../lib/backend/workers.ts";
import { ConfigError, SnnToolboxError } from "../lib/errors.ts";
import { registerCustomActivation } from "../lib/layers/activations.ts";

function convNet(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [12, 12, 2],
        filters: 8,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: init(1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(2) }),
    ],
  });
}

Deno.test("backend workers: splitBatch gives contiguous near-equal slices", () => {
  assertEquals(splitBatch(7, 2), [4, 3]);
  assertEquals(splitBatch(32, 3), [11, 11, 10]);
  assertEquals(splitBatch(1, 4), [1]);
  assertEquals(splitBatch(6, 6), [1, 1, 1, 1, 1, 1]);
});

Deno.test("backend workers: 2 workers give the single-threaded outputs, in order", async () => {
  const info = await initBackend({ threads: 1 });
  const model = convNet();
  const pool = await DataParallelModel.create(model, { workers: 2 });
  try {
    assertEquals(pool.workers, 2);
    assertEquals(pool.info.threads, 1);
    for (const batch of [1, 2, 7]) {
      const x = tf.randomUniform([batch, 12, 12, 2], 0, 1, "float32", batch);
      const expected = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
      const y = await pool.predict({ data: x.dataSync() as Float32Array, shape: x.shape, dtype: "float32" });
      assertEquals(y.shape, [batch, 10]);
      if (info.name === pool.info.name && info.threads === 1) {
        // Same backend and kernels on every slice: bitwise equal.
        assertEquals(Array.from(y.data), Array.from(expected), `batch ${batch}`);
      } else {
        assertClose(y.data, expected, { rtol: 1e-5, msg: `batch ${batch}` });
      }
    }
  } finally {
    await pool.close();
  }
});

Deno.test("backend workers: models with several outputs are refused", async () => {
  const input = tf.input({ shape: [4] });
  const a = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [a, b], name: "two_heads" });
  await assertRejects(
    () => DataParallelModel.create(model),
    ConfigError,
    /'two_heads' has 1 inputs and 2 outputs/,
  );
  await assertRejects(
    () => DataParallelModel.create(convNet(), { workers: 0 }),
    ConfigError,
    /'workers'.*found 0/,
  );
});

Deno.test("backend workers: option 'modules' is imported in each worker before the model loads", async () => {
  await initBackend({ threads: 1 });
  const relu6 = "clamped_relu_0.0_6.0";
  registerCustomActivation(relu6);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [4],
        units: 3,
        // A toolbox activation: TF.js only knows it once registered.
        activation: relu6 as unknown as "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        biasInitializer: tf.initializers.constant({ value: 1 }),
      }),
    ],
  });
  const x = tf.tensor2d([[9, 9, 9, 9], [-9, -9, -9, -9], [0.1, -0.2, 0.3, -0.4]]);
  const expected = Array.from((model.predict(x) as tf.Tensor).dataSync());
  assertTrue(expected.includes(6) && expected.includes(0), `clamped outputs expected: ${expected}`);

  await assertRejects(
    () => DataParallelModel.create(model, { workers: 1 }),
    SnnToolboxError,
    /loading the model failed: Unknown activation/,
  );
  const lib = new URL("../lib/layers/activations.ts", import.meta.url).href;
  const module = `data:text/javascript,${
    encodeURIComponent(
      `import { registerCustomActivation } from ${JSON.stringify(lib)};\n` +
        `registerCustomActivation(${JSON.stringify(relu6)});`,
    )
  }`;
  const pool = await DataParallelModel.create(model, { workers: 2, modules: [module] });
  try {
    const y = await pool.predict({ data: x.dataSync() as Float32Array, shape: x.shape, dtype: "float32" });
    assertClose(y.data, expected, { rtol: 1e-6 });
  } finally {
    await pool.close();
  }
  await assertRejects(
    () =>
      DataParallelModel.create(model, {
        workers: 1,
        modules: ["data:text/javascript,throw new Error('boom')"],
      }),
    SnnToolboxError,
    /data-parallel worker failed: .*boom/,
  );
});
