/**
 * The committed demo files (testdata/demo, written by make_demo.ts): the
 * data subset is exactly MNIST's first 1000 test / training images, and the
 * saved TF.js model reproduces the accuracy TensorFlow.js measured when it
 * was trained (checks the save handler and the committed weights).
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { loadMnist } from "./_mnist.ts";

const DEMO = new URL("../testdata/demo/", import.meta.url).pathname;

Deno.test("demo data: x_test/y_test are MNIST's first 1000 test images and one-hot labels, x_norm the first 1000 training images", async () => {
  const test = await loadMnist("test", { limit: 1000 });
  const train = await loadMnist("train", { limit: 1000 });
  const x = await readNpzArray(`${DEMO}data/x_test.npz`);
  const y = await readNpzArray(`${DEMO}data/y_test.npz`);
  const norm = await readNpzArray(`${DEMO}data/x_norm.npz`);
  assertEquals([x.dtype, x.shape], ["float32", [1000, 28, 28, 1]]);
  assertEquals([y.dtype, y.shape], ["float32", [1000, 10]]);
  assertEquals([norm.dtype, norm.shape], ["float32", [1000, 28, 28, 1]]);
  assertTrue(x.data.every((v, i) => v === test.x[i]), "x_test pixels differ from MNIST");
  assertTrue(norm.data.every((v, i) => v === train.x[i]), "x_norm pixels differ from MNIST");
  for (let i = 0; i < 1000; i++) {
    const row = Array.from(y.data.subarray(i * 10, i * 10 + 10) as Float32Array);
    assertEquals(row.indexOf(1), test.y[i], `label ${i}`);
    assertEquals(row.reduce((a, b) => a + b, 0), 1, `one-hot row ${i}`);
  }
});

Deno.test("demo model: the saved TF.js model reproduces its recorded subset accuracy", async () => {
  await initBackend();
  const report = JSON.parse(await Deno.readTextFile(`${DEMO}mnist_cnn.accuracy.json`));
  const json = JSON.parse(await Deno.readTextFile(`${DEMO}mnist_cnn.json`));
  const weightData = (await Deno.readFile(`${DEMO}${json.weightsManifest[0].paths[0]}`)).buffer;
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData,
  }));
  assertTrue(
    model.layers.some((l) => l.getClassName() === "BatchNormalization"),
    "demo model has BatchNormalization",
  );
  const x = await readNpzArray(`${DEMO}data/x_test.npz`);
  const y = await readNpzArray(`${DEMO}data/y_test.npz`);
  const predicted = tf.tidy(() =>
    (model.predict(tf.tensor4d(x.data as Float32Array, [1000, 28, 28, 1])) as tf.Tensor).argMax(-1).dataSync()
  );
  const truth = tf.tidy(() => tf.tensor2d(y.data as Float32Array, [1000, 10]).argMax(-1).dataSync());
  let correct = 0;
  for (let i = 0; i < 1000; i++) if (predicted[i] === truth[i]) correct++;
  assertTrue(
    Math.abs(correct / 1000 - report.subset_accuracy) <= 0.001,
    `${correct / 1000} vs ${report.subset_accuracy}`,
  );
  assertTrue(report.test_accuracy >= 0.985, `recorded test accuracy ${report.test_accuracy} below 98.5 %`);
  model.dispose();
});
