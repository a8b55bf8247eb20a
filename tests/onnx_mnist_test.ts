/**
 * The demo's PyTorch MNIST CNN (testdata/onnx/train_mnist.py, BatchNorm kept
 * in the ONNX file): the input model and the parsed model give PyTorch's
 * prediction for every one of the 10,000 test images (ties aside), and so
 * PyTorch's accuracy.
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { loadMnist } from "./_mnist.ts";
import { ONNX_TESTDATA, parseToModel } from "./_onnx.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { readNpy } from "../lib/io/npy.ts";
import { loadPytorchModel } from "../lib/importers/pytorch/load.ts";

const MODEL = new URL("../testdata/demo/mnist_torch", import.meta.url).pathname;

/** Top-1 class per row, and whether the two best outputs tie (within float32 rounding). */
function argmaxRows(y: Float32Array, classes: number): { pred: Int32Array; tie: Uint8Array } {
  const n = y.length / classes;
  const pred = new Int32Array(n);
  const tie = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let second = -Infinity;
    for (let c = 1; c < classes; c++) {
      const v = y[i * classes + c];
      if (v > y[i * classes + best]) {
        second = y[i * classes + best];
        best = c;
      } else if (v > second) second = v;
    }
    pred[i] = best;
    tie[i] = y[i * classes + best] - second <= 1e-6 * Math.abs(y[i * classes + best]) ? 1 : 0;
  }
  return { pred, tie };
}

async function predictAll(
  model: tf.LayersModel,
  x: Float32Array,
  shape: number[],
  n: number,
): Promise<Float32Array> {
  const out = new Float32Array(n * 10);
  const per = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i += 1000) {
    const m = Math.min(1000, n - i);
    const t = tf.tensor(x.subarray(i * per, (i + m) * per), [m, ...shape], "float32");
    const y = model.predict(t) as tf.Tensor;
    out.set(await y.data() as Float32Array, i * 10);
    tf.dispose([t, y]);
  }
  return out;
}

Deno.test("onnx MNIST (PyTorch-trained): input and parsed model predict exactly what PyTorch does on 10,000 images", async () => {
  await initBackend();
  const mnist = await loadMnist("test");
  const ref = Int32Array.from((await readNpy(`${ONNX_TESTDATA}mnist_torch_preds.npy`)).data as Int32Array);
  const { top1_percent } = JSON.parse(await Deno.readTextFile(`${ONNX_TESTDATA}mnist_torch_accuracy.json`));
  assertEquals(mnist.n, ref.length);
  const input = await loadPytorchModel(MODEL);
  assertEquals(input.dataFormat, "channels_first");
  assertTrue(
    input.model.layers.some((l) => l.getClassName() === "BatchNormalization"),
    "BatchNorm kept in the input model",
  );
  // x is n × 28 × 28: NCHW with C = 1 and NHWC with C = 1 are the same bytes.
  const check = async (model: tf.LayersModel, shape: number[], what: string) => {
    const { pred, tie } = argmaxRows(await predictAll(model, mnist.x, shape, mnist.n), 10);
    let differ = 0;
    let correct = 0;
    for (let i = 0; i < mnist.n; i++) {
      if (pred[i] !== ref[i] && !tie[i]) differ++;
      if (pred[i] === mnist.y[i]) correct++;
    }
    assertEquals(differ, 0, `${what}: ${differ} predictions differ from PyTorch's`);
    assertEquals(Math.round(correct / mnist.n * 1e4) / 100, top1_percent, `${what} accuracy`);
  };
  await check(input.model, [1, 28, 28], "input model");
  const parsed = parseToModel(input);
  assertTrue(
    !parsed.layers.some((l) => l.getClassName() === "BatchNormalization"),
    "BatchNorm folded by the parser",
  );
  await check(parsed, [28, 28, 1], "parsed model");
});
