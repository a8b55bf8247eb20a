/**
 * 1-D pooling and `data_format`: tfjs-layers' MaxPooling1D, AveragePooling1D,
 * GlobalAveragePooling1D and GlobalMaxPooling1D always pool over axis 1
 * (they ignore `data_format`), so a Keras channels_first file is refused
 * with an UnsupportedLayerError naming the file, the layer and the reason;
 * the same layers channels_last load and compute what a plain loop over
 * the steps computes.
 */
import { assertClose, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { tf } from "../deps.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { writeHdf5Atomic } from "../lib/io/hdf5.ts";
import { loadKerasModel } from "../lib/io/keras/mod.ts";

const STEPS = 6;
const CHANNELS = 3;
const CLASSES = ["MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"];

/** A Keras 2.2.4 `model.save("x.h5")` file of a Sequential holding one pooling layer `pool`. */
async function writePoolingModel(path: string, className: string, dataFormat: string): Promise<void> {
  const first = dataFormat === "channels_first";
  const config: Record<string, unknown> = {
    name: "pool",
    trainable: true,
    batch_input_shape: first ? [null, CHANNELS, STEPS] : [null, STEPS, CHANNELS],
    dtype: "float32",
    data_format: dataFormat,
  };
  if (!className.startsWith("Global")) {
    Object.assign(config, { pool_size: [2], strides: [2], padding: "valid" });
  }
  const modelConfig = {
    class_name: "Sequential",
    config: { name: "seq", layers: [{ class_name: className, config }] },
  };
  await writeHdf5Atomic(path, (file) => {
    file.create_attribute("keras_version", "2.2.4");
    file.create_attribute("backend", "tensorflow");
    file.create_attribute("model_config", JSON.stringify(modelConfig));
    const mw = file.create_group("model_weights");
    mw.create_attribute("layer_names", ["pool"]);
    mw.create_group("pool").create_attribute("weight_names", new Float64Array(0), [0], "<d");
  });
}

/** Pooling of `x` (`[steps, channels]`, row-major) over the steps, by plain loops. */
function poolSteps(x: number[], className: string): number[] {
  const global = className.startsWith("Global");
  const window = global ? STEPS : 2;
  const out: number[] = [];
  for (let start = 0; start + window <= STEPS; start += window) {
    for (let c = 0; c < CHANNELS; c++) {
      const values = Array.from({ length: window }, (_, i) => x[(start + i) * CHANNELS + c]);
      out.push(
        className.includes("Max") ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / window,
      );
    }
  }
  return out;
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keras_pool1d_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const className of CLASSES) {
  Deno.test(`loadKerasModel: channels_first ${className} is refused, naming the file and the layer`, () =>
    withTmp(async (dir) => {
      const path = `${dir}/cf_${className}.h5`;
      await writePoolingModel(path, className, "channels_first");
      const err = await assertRejects(() => loadKerasModel(path), UnsupportedLayerError);
      assertMatch(err.message, new RegExp(`cf_${className}\\.h5`));
      assertMatch(err.message, new RegExp(`pool \\(${className}\\(data_format=channels_first\\)`));
    }));

  Deno.test(`loadKerasModel: channels_last ${className} pools over the steps like a plain loop`, () =>
    withTmp(async (dir) => {
      const path = `${dir}/cl_${className}.h5`;
      await writePoolingModel(path, className, "channels_last");
      const { model, dataFormat } = await loadKerasModel(path);
      try {
        assertEquals(dataFormat, "channels_last");
        // Distinct values, so pooling over the wrong axis or window cannot match by chance.
        const x = Array.from({ length: STEPS * CHANNELS }, (_, i) => Math.sin(1.7 * i + 0.3) * (i + 1));
        const t = tf.tensor3d(x, [1, STEPS, CHANNELS]);
        const y = model.predict(t) as tf.Tensor;
        const got = Array.from(await y.data());
        tf.dispose([t, y]);
        assertClose(got, poolSteps(x, className), { rtol: 1e-6, atol: 1e-6, msg: className });
      } finally {
        model.dispose();
      }
    }));
}
