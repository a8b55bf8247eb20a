/**
 * saveKerasH5 writes the Keras 2 legacy HDF5 layout: h5py reads the root
 * attributes, `model_config`, `layer_names`, `weight_names` and the weight
 * datasets with the model's shapes and values; loadKerasModel loads it back
 * with identical predictions, custom registered layer classes included.
 */
import { assertClose, assertEquals, assertTrue, fixturesDir } from "./_assert.ts";
import { pythonHas, runPython } from "./_io_python.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { loadKerasModel, saveKerasH5 } from "../lib/importers/keras/mod.ts";

await initBackend(); // a test is an entry point: it starts the backend the loaders compute on

const FIX = fixturesDir();
if (!FIX) console.warn("skipping the Keras save tests on fixtures: ../shared/fixtures is absent");
const hasH5py = await pythonHas("numpy", "h5py");

/** The structure of a Keras HDF5 file as h5py sees it. */
const H5PY_STRUCTURE = `
import h5py, json, sys, numpy as np
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
f = h5py.File(sys.argv[1], "r")
mw = f["model_weights"]
layers = []
for ln in mw.attrs["layer_names"]:
    g = mw[s(ln)]
    ws = []
    for wn in g.attrs["weight_names"]:
        d = g[s(wn)]
        a = np.asarray(d, dtype=np.float64)
        ws.append({"name": s(wn), "shape": list(d.shape), "dtype": str(d.dtype), "sum": float(a.sum())})
    layers.append({"name": s(ln), "weights": ws})
cfg = json.loads(s(f.attrs["model_config"]))
print(json.dumps({"attrs": sorted(f.attrs.keys()), "keras_version": s(f.attrs["keras_version"]),
  "backend": s(f.attrs["backend"]), "class_name": cfg["class_name"], "config_keys": sorted(cfg.keys()),
  "layers": layers}))
`;

type Structure = {
  attrs: string[];
  keras_version: string;
  backend: string;
  class_name: string;
  config_keys: string[];
  layers: { name: string; weights: { name: string; shape: number[]; dtype: string; sum: number }[] }[];
};

function predict(model: tf.LayersModel, x: InstanceType<typeof tf.Tensor>): Float32Array {
  return tf.tidy(() => Float32Array.from((model.predict(x) as InstanceType<typeof tf.Tensor>).dataSync()));
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keras_save_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (
  const file of [
    "keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5",
    "keras-h5/st_miniresnet_1stack_residual_keras2.9.h5",
  ]
) {
  Deno.test({
    name:
      `saveKerasH5: ${file} → h5py reads the Keras layout; loadKerasModel round-trips predictions exactly`,
    ignore: !FIX,
    fn: () =>
      withTmp(async (dir) => {
        const source = await loadKerasModel(`${FIX}${file}`);
        const out = `${dir}/saved.h5`;
        await saveKerasH5(source.model, out);
        const back = await loadKerasModel(out);
        try {
          assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["saved.h5"], "no temporary file left");
          assertEquals(back.dataFormat, source.dataFormat);
          assertEquals(back.metadata.kernelsFlipped, "false");
          assertEquals(
            back.model.layers.map((l) => l.getConfig()),
            source.model.layers.map((l) => l.getConfig()),
          );
          const shape = source.model.inputs[0].shape.map((d) => d ?? 3);
          const x = tf.randomUniform(shape, 0, 1, "float32", 11);
          assertClose(predict(back.model, x), predict(source.model, x), { rtol: 0, atol: 0 });
          x.dispose();
          if (!hasH5py) return;
          const s: Structure = JSON.parse(await runPython(H5PY_STRUCTURE, [out]));
          assertEquals(s.attrs, ["backend", "keras_version", "model_config"]);
          assertEquals([s.keras_version, s.backend], ["2.2.4", "tensorflow"]);
          assertEquals(s.class_name, source.metadata.modelClass);
          assertEquals(s.config_keys, ["class_name", "config"]);
          assertEquals(s.layers.map((l) => l.name), source.model.layers.map((l) => l.name));
          for (const [i, layer] of source.model.layers.entries()) {
            const stored = s.layers[i].weights;
            assertEquals(
              stored.map((w) => w.name),
              layer.weights.map((v) => `${v.originalName}:0`),
              layer.name,
            );
            assertEquals(stored.map((w) => w.shape), layer.weights.map((v) => v.shape), layer.name);
            assertTrue(stored.every((w) => w.dtype === "float32"), `${layer.name} float32`);
            const sums = layer.getWeights().map((w) =>
              Array.from(w.dataSync() as Float32Array).reduce((a, b) => a + b, 0)
            );
            assertClose(stored.map((w) => w.sum), sums, { rtol: 1e-5, atol: 1e-5, msg: layer.name });
          }
        } finally {
          source.model.dispose();
          back.model.dispose();
        }
      }),
  });
}

/** A custom layer class (with a weight) as the parser registers them. */
class ChannelScale extends tf.layers.Layer {
  static className = "KerasFormatsTestChannelScale";
  private readonly offset: number;
  private alpha?: ReturnType<tf.layers.Layer["addWeight"]>;
  constructor(config: { offset: number; name?: string }) {
    super(config);
    this.offset = config.offset;
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.alpha = this.addWeight(
      "alpha",
      [shape[shape.length - 1] as number],
      "float32",
      tf.initializers.randomNormal({ seed: 3 }),
    );
    this.built = true;
  }
  override call(
    inputs: InstanceType<typeof tf.Tensor> | InstanceType<typeof tf.Tensor>[],
  ): InstanceType<typeof tf.Tensor> {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.add(tf.mul(x, this.alpha!.read()), this.offset);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), offset: this.offset };
  }
}
tf.serialization.registerClass(ChannelScale);

Deno.test("saveKerasH5: a registered custom layer class round-trips with its config and weights", () =>
  withTmp(async (dir) => {
    const input = tf.input({ shape: [6] });
    const hidden = tf.layers.dense({ units: 4, name: "fc" }).apply(input) as tf.SymbolicTensor;
    const scaled = new ChannelScale({ offset: 0.25, name: "scale" }).apply(hidden) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: scaled, name: "custom" });
    const path = `${dir}/custom.h5`;
    await saveKerasH5(model, path);
    const back = await loadKerasModel(path);
    const layer = back.model.getLayer("scale");
    assertEquals(layer.getClassName(), "KerasFormatsTestChannelScale");
    assertEquals(layer.getConfig().offset, 0.25);
    const x = tf.randomNormal([5, 6], 0, 1, "float32", 5);
    assertClose(predict(back.model, x), predict(model, x), { rtol: 0, atol: 0 });
    assertClose(layer.getWeights()[0].dataSync(), model.getLayer("scale").getWeights()[0].dataSync(), {
      rtol: 0,
      atol: 0,
    });
    model.dispose();
    back.model.dispose();
  }));
