/**
 * Builds the bundled demo (run once; the outputs are committed):
 *
 * 1. `data/x_test.npz`, `data/y_test.npz` — the first 1000 MNIST test
 *    images (float32 in [0, 1], NHWC `(1000, 28, 28, 1)`) and their one-hot
 *    labels (float32 `(1000, 10)`); `data/x_norm.npz` — the first 1000
 *    training images, for data-based normalization. Key `arr_0`, compressed.
 * 2. `mnist_cnn.json` + `mnist_cnn.weights.bin` — a small MNIST CNN with
 *    BatchNormalization and average pooling (suited to spiking conversion),
 *    trained here with TensorFlow.js layers (seeded), in TF.js layers format.
 * 3. `mnist_cnn.accuracy.json` — the test accuracy TensorFlow.js measures on
 *    the full 10,000-image test set and on the 1000-image subset.
 *
 * Usage (from the repository root):
 *   deno run -A testdata/demo/make_demo.ts [--epochs N] [--train-limit N] [--data-only]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../../deps.ts";
import { initBackend } from "../../lib/backend/mod.ts";
import { writeNpz } from "../../lib/io/npz.ts";
import { writeFileAtomic } from "../../lib/io/atomic.ts";
import { loadMnist, type Mnist } from "../../tests/_mnist.ts";
import { rng } from "../../tests/_rng.ts";

const OUT = new URL("./", import.meta.url).pathname;
const SUBSET = 1000;
const SEED = 1234;

const { values: args } = parseArgs({
  options: {
    epochs: { type: "string", default: "3" },
    "train-limit": { type: "string" },
    "batch-size": { type: "string", default: "128" },
    "data-only": { type: "boolean", default: false },
  },
});

function oneHot(labels: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) out[i * 10 + labels[i]] = 1;
  return out;
}

async function writeData(test: Mnist, train: Mnist): Promise<void> {
  await Deno.mkdir(`${OUT}data`, { recursive: true });
  const px = 28 * 28;
  await writeNpz(`${OUT}data/x_test.npz`, [{
    data: test.x.slice(0, SUBSET * px),
    shape: [SUBSET, 28, 28, 1],
    dtype: "float32",
  }], { compressed: true });
  await writeNpz(`${OUT}data/y_test.npz`, [{
    data: oneHot(test.y, SUBSET),
    shape: [SUBSET, 10],
    dtype: "float32",
  }], { compressed: true });
  await writeNpz(`${OUT}data/x_norm.npz`, [{
    data: train.x.slice(0, SUBSET * px),
    shape: [SUBSET, 28, 28, 1],
    dtype: "float32",
  }], { compressed: true });
}

function buildModel(): tf.Sequential {
  const init = (k: number) => tf.initializers.heNormal({ seed: SEED + k });
  const model = tf.sequential({ name: "mnist_cnn" });
  model.add(tf.layers.conv2d({
    inputShape: [28, 28, 1],
    filters: 16,
    kernelSize: 5,
    kernelInitializer: init(1),
    name: "conv2d_1",
  }));
  model.add(tf.layers.batchNormalization({ name: "batch_normalization_1" }));
  model.add(tf.layers.activation({ activation: "relu", name: "activation_1" }));
  model.add(tf.layers.averagePooling2d({ poolSize: 2, name: "average_pooling2d_1" }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, kernelInitializer: init(2), name: "conv2d_2" }));
  model.add(tf.layers.batchNormalization({ name: "batch_normalization_2" }));
  model.add(tf.layers.activation({ activation: "relu", name: "activation_2" }));
  model.add(tf.layers.averagePooling2d({ poolSize: 2, name: "average_pooling2d_2" }));
  model.add(tf.layers.flatten({ name: "flatten_1" }));
  model.add(tf.layers.dropout({ rate: 0.25, seed: SEED, name: "dropout_1" }));
  model.add(tf.layers.dense({
    units: 10,
    activation: "softmax",
    kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 3 }),
    name: "dense_1",
  }));
  return model;
}

async function train(model: tf.Sequential, data: Mnist, epochs: number, batchSize: number): Promise<void> {
  const random = rng(SEED);
  const px = 28 * 28;
  const steps = Math.floor(data.n / batchSize);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = 2e-3 * Math.pow(0.3, epoch);
    (model.optimizer as unknown as { learningRate: number }).learningRate = lr;
    const order = Array.from({ length: data.n }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const start = performance.now();
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      const xb = new Float32Array(batchSize * px);
      const yb = new Float32Array(batchSize * 10);
      for (let b = 0; b < batchSize; b++) {
        const k = order[s * batchSize + b];
        xb.set(data.x.subarray(k * px, (k + 1) * px), b * px);
        yb[b * 10 + data.y[k]] = 1;
      }
      const x = tf.tensor4d(xb, [batchSize, 28, 28, 1]);
      const y = tf.tensor2d(yb, [batchSize, 10]);
      const loss = await model.trainOnBatch(x, y);
      x.dispose();
      y.dispose();
      lossSum += Array.isArray(loss) ? loss[0] : loss;
      if ((s + 1) % 100 === 0 || s === steps - 1) {
        const secs = ((performance.now() - start) / 1000).toFixed(0);
        console.error(`epoch ${epoch + 1}/${epochs} step ${s + 1}/${steps} loss ${(lossSum / (s + 1)).toFixed(4)} ${secs}s`);
      }
    }
  }
}

function accuracy(model: tf.LayersModel, data: Mnist, n: number): number {
  let correct = 0;
  const px = 28 * 28;
  for (let start = 0; start < n; start += 500) {
    const m = Math.min(500, n - start);
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(data.x.subarray(start * px, (start + m) * px), [m, 28, 28, 1]);
      return (model.predict(x) as tf.Tensor).argMax(-1);
    });
    const labels = pred.dataSync();
    pred.dispose();
    for (let i = 0; i < m; i++) if (labels[i] === data.y[start + i]) correct++;
  }
  return correct / n;
}

async function saveModel(model: tf.LayersModel, name: string): Promise<void> {
  const weightsFile = `${name}.weights.bin`;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData;
    if (!(weights instanceof ArrayBuffer)) throw new Error("expected one weight buffer");
    const modelJson = {
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
    };
    await writeFileAtomic(`${OUT}${weightsFile}`, new Uint8Array(weights));
    await writeFileAtomic(`${OUT}${name}.json`, JSON.stringify(modelJson) + "\n");
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

/**
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel, so Conv2D
 * layers cannot train on it. For stride 1, valid padding, NHWC (what this
 * model uses) the filter gradient is itself a convolution:
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b,oh+kh,ow+kw,ci]·dy[b,oh,ow,co], i.e.
 * conv2d(x as [ci,H,W,b], dy as [oh,ow,b,co]) transposed to [kh,kw,ci,co].
 * Composed from the backend's own kernels; checked against a direct sum below.
 */
function registerWasmConv2DBackpropFilter(): void {
  const kernel = (name: string) => tf.getKernel(name, "wasm")!.kernelFunc;
  const transpose = (args: KernelArgs, x: Info, perm: number[]): Info =>
    kernel("Transpose")({ inputs: { x }, attrs: { perm }, backend: args.backend }) as Info;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { x, dy } = args.inputs as { x: Info; dy: Info };
      const attrs = args.attrs as { strides: number | number[]; pad: unknown; dataFormat: string };
      const strides = Array.isArray(attrs.strides) ? attrs.strides : [attrs.strides, attrs.strides];
      if (strides.some((s) => s !== 1) || attrs.pad !== "valid" || attrs.dataFormat !== "NHWC") {
        throw new Error("Conv2DBackpropFilter (wasm shim): only stride 1, valid padding, NHWC");
      }
      const backend = args.backend as { disposeData(id: unknown): void };
      const xT = transpose(args, x, [3, 1, 2, 0]);
      const dyT = transpose(args, dy, [1, 2, 0, 3]);
      const r = kernel("Conv2D")({
        inputs: { x: xT, filter: dyT },
        attrs: { strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [1, 1] },
        backend: args.backend,
      }) as Info;
      const out = transpose(args, r, [1, 2, 0, 3]);
      for (const t of [xT, dyT, r]) backend.disposeData(t.dataId);
      return out;
    },
  });
  checkConv2DBackpropFilter();
}

/** Compare the shim with the defining sum on random data. */
function checkConv2DBackpropFilter(): void {
  const [b, h, w, ci, co, k] = [3, 7, 6, 2, 4, 3];
  const random = rng(7);
  const xs = Float32Array.from({ length: b * h * w * ci }, () => random() - 0.5);
  const dys = Float32Array.from({ length: b * (h - k + 1) * (w - k + 1) * co }, () => random() - 0.5);
  const got = tf.tidy(() => {
    const x = tf.tensor4d(xs, [b, h, w, ci]);
    const dy = tf.tensor4d(dys, [b, h - k + 1, w - k + 1, co]);
    const gradOf = tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, "valid").mul(dy).sum());
    return gradOf(tf.zeros([k, k, ci, co])).dataSync();
  });
  const oh = h - k + 1, ow = w - k + 1;
  let worst = 0;
  for (let kh = 0; kh < k; kh++) {
    for (let kw = 0; kw < k; kw++) {
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) {
          let sum = 0;
          for (let n = 0; n < b; n++) {
            for (let y = 0; y < oh; y++) {
              for (let z = 0; z < ow; z++) {
                sum += xs[((n * h + y + kh) * w + z + kw) * ci + c] * dys[((n * oh + y) * ow + z) * co + o];
              }
            }
          }
          worst = Math.max(worst, Math.abs(sum - got[((kh * k + kw) * ci + c) * co + o]));
        }
      }
    }
  }
  if (!(worst < 1e-4)) throw new Error(`Conv2DBackpropFilter shim is wrong (max error ${worst})`);
  console.error(`Conv2DBackpropFilter wasm shim checked (max error ${worst.toExponential(1)})`);
}

async function main(): Promise<void> {
  const backend = await initBackend();
  if (backend.name === "wasm") registerWasmConv2DBackpropFilter();
  console.error(`backend ${backend.name}${backend.fallbackReason ? ` (${backend.fallbackReason})` : ""}`);
  const test = await loadMnist("test");
  const trainLimit = args["train-limit"] ? Number(args["train-limit"]) : undefined;
  const trainSet = await loadMnist("train", { limit: trainLimit });
  await writeData(test, trainSet);
  console.error("wrote data/x_test.npz, data/y_test.npz, data/x_norm.npz");
  if (args["data-only"]) return;

  const model = buildModel();
  model.compile({ optimizer: tf.train.adam(2e-3), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const epochs = Number(args.epochs);
  const batchSize = Number(args["batch-size"]);
  const t0 = performance.now();
  await train(model, trainSet, epochs, batchSize);
  const trainSeconds = (performance.now() - t0) / 1000;
  const full = accuracy(model, test, test.n);
  const subset = accuracy(model, test, SUBSET);
  console.error(`test accuracy ${(full * 100).toFixed(2)} % (10,000), ${(subset * 100).toFixed(2)} % (first 1000)`);
  await saveModel(model, "mnist_cnn");
  const report = {
    test_accuracy: full,
    test_images: test.n,
    subset_accuracy: subset,
    subset_images: SUBSET,
    framework: `TensorFlow.js ${tf.version.tfjs} (${backend.name} backend)`,
    epochs,
    batch_size: batchSize,
    train_images: trainSet.n,
    train_seconds: Math.round(trainSeconds),
    seed: SEED,
  };
  await writeFileAtomic(`${OUT}mnist_cnn.accuracy.json`, JSON.stringify(report, null, 2) + "\n");
}

await main();
