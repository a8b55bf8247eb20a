/**
 * Subprocess of tests/backend_threads_test.ts (the backend initialises once
 * per process, so each thread count needs its own process): initialises the
 * backend (thread count from `SNNTOOLBOX_THREADS`), computes matMul, conv2d
 * and a small MLP on the inputs in testdata/backend/ and prints one JSON
 * object on stdout.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { readNpy } from "../lib/io/npy.ts";

const dir = new URL("../testdata/backend/", import.meta.url);

async function tensor(name: string): Promise<tf.Tensor> {
  const arr = await readNpy(new URL(`${name}.npy`, dir).pathname);
  return tf.tensor(arr.data as Float32Array, arr.shape, "float32");
}

/** Whether Deno's own module `Worker` still works after the backend initialised. */
async function webWorkerWorks(): Promise<boolean> {
  const src = "self.onmessage = (e) => self.postMessage(e.data + 1);";
  const worker = new Worker(`data:text/javascript,${encodeURIComponent(src)}`, { type: "module" });
  try {
    return await new Promise<boolean>((resolve) => {
      worker.onmessage = (e) => resolve(e.data === 42);
      worker.onerror = () => resolve(false);
      worker.postMessage(41);
    });
  } finally {
    worker.terminate();
  }
}

const info = await initBackend();
const matmul = tf.matMul(await tensor("matmul_a"), await tensor("matmul_b"));
const conv = tf.conv2d(
  (await tensor("conv_x")) as tf.Tensor4D,
  (await tensor("conv_k")) as tf.Tensor4D,
  1,
  "same",
);
const hidden = tf.relu(
  tf.add(tf.matMul(await tensor("mlp_x"), await tensor("mlp_w1")), await tensor("mlp_b1")),
);
const logits = tf.add(tf.matMul(hidden, await tensor("mlp_w2")), await tensor("mlp_b2"));
const argmax = tf.argMax(logits, 1);

console.log(JSON.stringify({
  info,
  backend: tf.getBackend(),
  matmul: Array.from(await matmul.data()),
  conv: Array.from(await conv.data()),
  logits: Array.from(await logits.data()),
  argmax: Array.from(await argmax.data()),
  webWorker: await webWorkerWorks(),
}));
