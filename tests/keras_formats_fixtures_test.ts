/**
 * Every real Keras fixture (../shared/fixtures: keras-h5, keras-h5-weights-json,
 * keras3, tfjs-layers) either loads with the weights h5py / numpy read from
 * the same file, or fails with the clear error; the Theano model's kernels
 * are flipped by default and flipping changes its outputs.
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue, fixturesDir } from "./_assert.ts";
import { pythonHas, runPython } from "./_io_python.ts";
import { tf } from "../deps.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { loadKerasModel } from "../lib/importers/keras/mod.ts";

const FIX = fixturesDir();
if (!FIX) console.warn("skipping Keras fixture tests: ../shared/fixtures is absent");
const hasH5py = FIX !== undefined && await pythonHas("numpy", "h5py");

/** Expected facts of each loadable fixture. */
const LOADABLE: {
  file: string;
  dataFormat: string;
  input: (number | null)[][];
  meta: Record<string, string>;
}[] = [
  {
    file: "keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5",
    dataFormat: "channels_first",
    input: [[null, 1, 28, 28]],
    meta: { format: "keras-h5", kerasVersion: "2.2.4", kernelsFlipped: "false" },
  },
  {
    file: "keras-h5/snn_cifar10_bn_keras2.0.4_theano.h5",
    dataFormat: "channels_first",
    input: [[null, 3, 32, 32]],
    meta: { format: "keras-h5", backend: "theano", kernelsFlipped: "true" },
  },
  {
    file: "keras-h5/snn_mnist_tiny_keras2.2.4.h5",
    dataFormat: "channels_last",
    input: [[null, 28, 28, 1]],
    meta: { format: "keras-h5", kernelsFlipped: "false" },
  },
  {
    file: "keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5",
    dataFormat: "channels_last",
    input: [[null, 224, 224, 3]],
    meta: { format: "keras-h5", kerasVersion: "2.8.0", modelClass: "Functional" },
  },
  {
    file: "keras-h5/st_miniresnet_1stack_residual_keras2.9.h5",
    dataFormat: "channels_last",
    input: [[null, 64, 50, 1]],
    meta: { format: "keras-h5", modelClass: "Functional" },
  },
  {
    file: "keras-h5/hls4ml_conv1d_1layer_keras2.11.h5",
    dataFormat: "channels_last",
    input: [[null, 5, 5]],
    meta: { format: "keras-h5", kerasVersion: "2.11.0" },
  },
  {
    file: "keras-h5/fdeep_lstm_bidirectional_keras2.2.5.h5",
    dataFormat: "channels_last",
    input: [[null, 17, 4], [null, 1, 10], [null, null, 4], [null, 12], [null, 12]],
    meta: { format: "keras-h5", modelClass: "Model" },
  },
  {
    file: "keras-h5-weights-json/hls4ml_KERAS_conv2d_model.json",
    dataFormat: "channels_last",
    input: [[null, 8, 8, 1]],
    meta: { format: "keras-json+h5", kerasVersion: "2.0.0" },
  },
  {
    file: "keras-h5-weights-json/hls4ml_KERAS_conv2d_model_weights.h5",
    dataFormat: "channels_last",
    input: [[null, 8, 8, 1]],
    meta: { format: "keras-json+h5" },
  },
  {
    file: "keras-h5-weights-json/snn_keras1_mnist_mlp_98.15.json",
    dataFormat: "channels_last",
    input: [[null, 784]],
    meta: { format: "keras-json+h5", kerasGeneration: "1", kernelsFlipped: "false" },
  },
  {
    file: "keras-h5-weights-json/snn_keras1_mnist_mlp_98.15_weights.h5",
    dataFormat: "channels_last",
    input: [[null, 784]],
    meta: { format: "keras-json+h5", kerasGeneration: "1" },
  },
  {
    file: "tfjs-layers/cnn-explainer-tinyvgg/model.json",
    dataFormat: "channels_last",
    input: [[null, 64, 64, 3]],
    meta: { format: "tfjs-layers" },
  },
  {
    file: "tfjs-layers/tfjs-examples-abalone/model.json",
    dataFormat: "channels_last",
    input: [[null, 8]],
    meta: { format: "tfjs-layers" },
  },
];

/** Per stored weight: sum, first and last element, as h5py reads them from a Keras HDF5 file. */
const H5PY_WEIGHTS = `
import h5py, json, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["model_weights"] if "model_weights" in f else f
out = {}
for ln in g.attrs["layer_names"]:
    ln = ln.decode() if isinstance(ln, bytes) else ln
    lg = g[ln]
    arrs = []
    for wn in lg.attrs["weight_names"]:
        wn = wn.decode() if isinstance(wn, bytes) else wn
        a = np.asarray(lg[wn], dtype=np.float64)
        arrs.append({"size": int(a.size), "sum": float(a.sum()), "abs": float(np.abs(a).sum())})
    if arrs:
        out[ln] = arrs
print(json.dumps(out))
`;

/** The same facts for a tfjs model.json, read with numpy from its shards. */
const NUMPY_TFJS = `
import json, sys, os, numpy as np
doc = json.load(open(sys.argv[1]))
d = os.path.dirname(sys.argv[1])
out = {}
for grp in doc["weightsManifest"]:
    buf = b"".join(open(os.path.join(d, p), "rb").read() for p in grp["paths"])
    off = 0
    for w in grp["weights"]:
        n = int(np.prod(w["shape"]))
        a = np.frombuffer(buf, dtype=np.float32, count=n, offset=off).astype(np.float64)
        off += 4 * n
        layer = w["name"].rsplit("/", 1)[0]
        out.setdefault(layer, []).append({"size": n, "sum": float(a.sum()), "abs": float(np.abs(a).sum())})
print(json.dumps(out))
`;
import { initBackend } from "../lib/backend/mod.ts";

await initBackend(); // a test is an entry point: it starts the backend the loaders compute on

type WeightFacts = Record<string, { size: number; sum: number; abs: number }[]>;

/** The same facts from the loaded model, by layer name. */
function loadedFacts(model: tf.LayersModel): WeightFacts {
  const out: WeightFacts = {};
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    out[layer.name] = ws.map((w) => {
      const d = w.dataSync();
      let sum = 0;
      let abs = 0;
      for (const v of d) {
        sum += v;
        abs += Math.abs(v);
      }
      return { size: d.length, sum, abs };
    });
  }
  return out;
}

for (const c of LOADABLE) {
  Deno.test({
    name: `loadKerasModel: ${c.file} loads with the weights stored in the file`,
    ignore: !FIX,
    fn: async () => {
      const path = `${FIX}${c.file}`;
      const input = await loadKerasModel(path);
      try {
        assertEquals(input.library, "keras");
        assertEquals(input.dataFormat, c.dataFormat);
        assertEquals(input.model.inputs.map((t) => t.shape), c.input);
        for (const [k, v] of Object.entries(c.meta)) assertEquals(input.metadata[k], v, `metadata.${k}`);
        if (!hasH5py) return;
        const weightsFile = input.metadata.weightsFile;
        const script = c.meta.format === "tfjs-layers" ? NUMPY_TFJS : H5PY_WEIGHTS;
        const expected: WeightFacts = JSON.parse(await runPython(script, [weightsFile]));
        const got = loadedFacts(input.model);
        if (c.file.includes("lstm")) {
          // Recurrent cells may order their arrays differently; compare each layer's totals.
          assertEquals(Object.keys(got).sort(), Object.keys(expected).sort());
          const total = (
            fs: { sum: number; abs: number }[],
          ) => [fs.reduce((a, f) => a + f.sum, 0), fs.reduce((a, f) => a + f.abs, 0)];
          for (const [layer, facts] of Object.entries(expected)) {
            assertClose(total(got[layer]), total(facts), { rtol: 1e-4, atol: 1e-4, msg: layer });
          }
          return;
        }
        assertEquals(Object.keys(got).sort(), Object.keys(expected).sort(), "layers with weights");
        for (const [layer, facts] of Object.entries(expected)) {
          assertEquals(got[layer].map((f) => f.size), facts.map((f) => f.size), `${layer} sizes`);
          assertClose(got[layer].map((f) => f.sum), facts.map((f) => f.sum), {
            rtol: 1e-4,
            atol: 1e-4,
            msg: layer,
          });
          assertClose(got[layer].map((f) => f.abs), facts.map((f) => f.abs), {
            rtol: 1e-4,
            atol: 1e-4,
            msg: layer,
          });
        }
      } finally {
        input.model.dispose();
      }
    },
  });
}

Deno.test({
  name:
    "loadKerasModel: the QKeras .keras archive fails with one UnsupportedLayerError naming every QKeras layer",
  ignore: !FIX,
  fn: async () => {
    const path = `${FIX}keras3/hls4ml_example-models_qkeras-v3_3layer.keras`;
    const err = await assertRejects(() => loadKerasModel(path), UnsupportedLayerError, /QDense/);
    assertMatch(err.message, /hls4ml_example-models_qkeras-v3_3layer\.keras/);
    for (const name of ["fc1", "fc2", "fc3", "output"]) {
      assertMatch(err.message, new RegExp(`\\b${name} \\(QDense, module qkeras\\.qlayers\\)`));
    }
    for (const name of ["relu1", "relu2", "relu3"]) {
      assertMatch(err.message, new RegExp(`${name} \\(QActivation`));
    }
    assertMatch(err.message, /^.*: 7 layer\(s\)/);
    assertTrue(!/fc1_input|softmax \(/.test(err.message), "built-in layers are not listed");
  },
});

Deno.test({
  name:
    "loadKerasModel: Theano CIFAR kernels are flipped by default (stored [4,4] is loaded [0,0]); unflipped differs",
  ignore: !FIX,
  fn: async () => {
    const path = `${FIX}keras-h5/snn_cifar10_bn_keras2.0.4_theano.h5`;
    const flipped = await loadKerasModel(path);
    const plain = await loadKerasModel(path, { flipKernels: false });
    try {
      assertEquals(plain.metadata.kernelsFlipped, "false");
      const k1 = flipped.model.getLayer("conv2d_1").getWeights()[0];
      const k0 = plain.model.getLayer("conv2d_1").getWeights()[0];
      assertEquals(k1.shape, [5, 5, 3, 64]);
      const a = k1.arraySync() as number[][][][];
      const b = k0.arraySync() as number[][][][];
      for (const [i, j] of [[0, 0], [1, 3], [4, 2]]) {
        assertEquals(a[i][j][2][7], b[4 - i][4 - j][2][7], `kernel[${i}][${j}]`);
      }
      assertTrue(a[0][0][0][0] !== b[0][0][0][0], "flipping changes the kernel");
      const x = tf.randomUniform([4, 3, 32, 32], 0, 1, "float32", 7);
      const y1 = (flipped.model.predict(x) as InstanceType<typeof tf.Tensor>).dataSync();
      const y0 = (plain.model.predict(x) as InstanceType<typeof tf.Tensor>).dataSync();
      let diff = 0;
      for (let i = 0; i < y1.length; i++) diff = Math.max(diff, Math.abs(y1[i] - y0[i]));
      assertTrue(diff > 1e-3, `flipped and unflipped outputs differ (max |diff| ${diff})`);
    } finally {
      flipped.model.dispose();
      plain.model.dispose();
    }
  },
});

Deno.test({
  name:
    "loadKerasModel: each file keeps its Flatten semantics (Keras 2.2 channels_first permutes, Keras 2.0 does not)",
  ignore: !FIX,
  fn: async () => {
    // tfjs-layers' Flatten transposes NCHW to NHWC first only when its dataFormat is channelsFirst.
    const lenet = await loadKerasModel(`${FIX}keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5`);
    const cifar = await loadKerasModel(`${FIX}keras-h5/snn_cifar10_bn_keras2.0.4_theano.h5`);
    try {
      assertEquals(lenet.model.getLayer("flatten_1").getConfig().dataFormat, "channelsFirst");
      assertTrue(
        cifar.model.getLayer("flatten_1").getConfig().dataFormat !== "channelsFirst",
        "Keras 2.0 Flatten",
      );
      // Flattening as laid out: output element i of the Keras 2.0 Flatten is input element i in NCHW order.
      const flatten = cifar.model.getLayer("flatten_1");
      const x = tf.randomUniform([1, 4, 3, 2], 0, 1, "float32", 3);
      const y = flatten.apply(x) as InstanceType<typeof tf.Tensor>;
      assertClose(y.dataSync(), x.dataSync(), { rtol: 0, atol: 0 });
      const permuted = lenet.model.getLayer("flatten_1").apply(x) as InstanceType<typeof tf.Tensor>;
      assertClose(permuted.dataSync(), tf.transpose(x, [0, 2, 3, 1]).dataSync(), { rtol: 0, atol: 0 });
    } finally {
      lenet.model.dispose();
      cifar.model.dispose();
    }
  },
});
