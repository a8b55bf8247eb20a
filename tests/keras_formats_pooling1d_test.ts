/**
 * 1-D pooling and `data_format`: tfjs-layers' MaxPooling1D, AveragePooling1D,
 * GlobalAveragePooling1D and GlobalMaxPooling1D always pool over axis 1
 * (they ignore `data_format`); the Keras loader builds channels_first ones
 * as corrected layers. Each class alone, in both formats, loads with the
 * Keras class name and data format and computes what a plain loop over the
 * steps computes, with the output shape Keras gives.
 */
import { assertClose, assertEquals } from "./_assert.ts";
import { tf } from "../deps.ts";
import { writeHdf5Atomic } from "../lib/io/hdf5.ts";
import { loadKerasModel } from "../lib/importers/keras/mod.ts";
import { layerDataFormat } from "../lib/layers/tfjs_fixes.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend(); // a test is an entry point: it starts the backend the loaders compute on

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

/**
 * Pooling of `x` over the steps by plain loops: `x` is `[steps, channels]`
 * (channels_last) or `[channels, steps]` (channels_first), row-major; the
 * result is laid out the same way (`[channels]` for global pooling).
 */
function poolSteps(x: number[], className: string, first: boolean): { data: number[]; shape: number[] } {
  const global = className.startsWith("Global");
  const window = global ? STEPS : 2;
  const at = (step: number, c: number): number => first ? x[c * STEPS + step] : x[step * CHANNELS + c];
  const starts = Array.from({ length: Math.floor(STEPS / window) }, (_, i) => i * window);
  const pooled = starts.map((start) =>
    Array.from({ length: CHANNELS }, (_, c) => {
      const values = Array.from({ length: window }, (_, i) => at(start + i, c));
      return className.includes("Max") ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / window;
    })
  );
  if (global) return { data: pooled[0], shape: [CHANNELS] };
  if (!first) return { data: pooled.flat(), shape: [starts.length, CHANNELS] };
  return {
    data: Array.from({ length: CHANNELS }, (_, c) => pooled.map((p) => p[c])).flat(),
    shape: [CHANNELS, starts.length],
  };
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
  for (const dataFormat of ["channels_first", "channels_last"]) {
    Deno.test(`loadKerasModel: ${dataFormat} ${className} pools over the steps like a plain loop`, () =>
      withTmp(async (dir) => {
        const first = dataFormat === "channels_first";
        const path = `${dir}/${className}.h5`;
        await writePoolingModel(path, className, dataFormat);
        const { model, dataFormat: modelFormat } = await loadKerasModel(path);
        try {
          assertEquals(modelFormat, dataFormat);
          const layer = model.layers[0];
          assertEquals(layer.getClassName(), className, "reports the Keras class");
          assertEquals(layerDataFormat(layer) ?? "channelsLast", first ? "channelsFirst" : "channelsLast");
          // Distinct values, so pooling over the wrong axis or window cannot match by chance.
          const x = Array.from({ length: STEPS * CHANNELS }, (_, i) => Math.sin(1.7 * i + 0.3) * (i + 1));
          const expected = poolSteps(x, className, first);
          assertEquals(model.outputs[0].shape.slice(1), expected.shape, "output shape");
          const t = tf.tensor3d(x, first ? [1, CHANNELS, STEPS] : [1, STEPS, CHANNELS]);
          const y = model.predict(t) as tf.Tensor;
          const got = Array.from(await y.data());
          tf.dispose([t, y]);
          assertClose(got, expected.data, { rtol: 1e-6, atol: 1e-6, msg: className });
        } finally {
          model.dispose();
        }
      }));
  }
}
