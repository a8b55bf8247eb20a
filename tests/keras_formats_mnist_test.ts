/**
 * The loaded (unparsed) Keras fixtures reproduce the MNIST test accuracies
 * measured independently (../shared/fixtures/README.md) to within 0.05
 * percentage points on all 10,000 test images: channels_first LeNet-5 with
 * Keras ≥ 2.2 Flatten semantics, a channels_last CNN, and a Keras 1 MLP
 * (flat 784 inputs) loaded from JSON + weights-only HDF5.
 */
import { assertTrue, fixturesDir } from "./_assert.ts";
import { loadMnist } from "./_mnist.ts";
import { tf } from "../deps.ts";
import { loadKerasModel } from "../lib/importers/keras/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend(); // a test is an entry point: it starts the backend the loaders compute on

const FIX = fixturesDir();
if (!FIX) console.warn("skipping Keras MNIST accuracy tests: ../shared/fixtures is absent");

/** Top-1 accuracy in percent of `model` on MNIST test images reshaped to `shape` (without batch). */
async function accuracy(model: tf.LayersModel, shape: number[]): Promise<number> {
  const { x, y, n } = await loadMnist("test");
  const per = 28 * 28;
  const batch = 500;
  let correct = 0;
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const pred = tf.tidy(() => {
      const xb = tf.tensor(x.subarray(start * per, (start + m) * per), [m, ...shape]);
      return (model.predict(xb) as InstanceType<typeof tf.Tensor>).argMax(-1);
    });
    const labels = await pred.data();
    pred.dispose();
    for (let i = 0; i < m; i++) if (labels[i] === y[start + i]) correct++;
  }
  return (100 * correct) / n;
}

const CASES = [
  { file: "keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5", shape: [1, 28, 28], known: 99.14 },
  { file: "keras-h5/snn_mnist_tiny_keras2.2.4.h5", shape: [28, 28, 1], known: 92.71 },
  { file: "keras-h5-weights-json/snn_keras1_mnist_mlp_98.15.json", shape: [784], known: 98.15 },
];

for (const c of CASES) {
  Deno.test({
    name: `loadKerasModel: ${c.file} reproduces its MNIST accuracy ${c.known} % (±0.05)`,
    ignore: !FIX,
    fn: async () => {
      const input = await loadKerasModel(`${FIX}${c.file}`);
      try {
        const acc = await accuracy(input.model, c.shape);
        console.log(`${c.file}: ${acc.toFixed(2)} % (known ${c.known} %)`);
        assertTrue(Math.abs(acc - c.known) <= 0.05 + 1e-9, `accuracy ${acc} % vs known ${c.known} %`);
      } finally {
        input.model.dispose();
      }
    },
  });
}
