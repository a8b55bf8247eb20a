/**
 * NIR round trips of the real models in ../shared/fixtures that convert
 * (Keras LeNet-5 and MNIST CNNs, a Theano CIFAR-10 CNN, the mini-ResNet with
 * its residual branches, an MLP, a Conv1D model, an ONNX MLP, Caffe LeNet):
 * parsed as `run` parses them (max pooling as average pooling, softmax as
 * ReLU), exported, then
 *
 * - the independent reader (tests/nir_reader.py) evaluates the graph as the
 *   ANN its rates approximate: equal to the parsed model's output;
 * - the reference implementation reads the file and rewrites the same layout;
 * - the graph read back simulates exactly as the original converted network
 *   (output spikes and spike counts at every step).
 *
 * MobileNet's Reshape to 1x1xC is refused with a clear error.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { exportNir, toNirGraph } from "../lib/conversion/nir.ts";
import { readNir } from "../lib/io/nir_read.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { spikingModelFromNir } from "../lib/simulation/nir.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { assertClose, assertEquals, assertRejects, assertTrue, fixturesDir } from "./_assert.ts";
import { readerAvailable, referenceCheck, runReader } from "./_nir.ts";

const FIX = fixturesDir();
if (!FIX) console.warn("nir_fixtures_test: skipped, ../shared/fixtures is absent");
const haveReader = FIX ? await readerAvailable() : false;

const FIXTURES: [string, string][] = [
  ["keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5", "keras"],
  ["keras-h5/snn_mnist_tiny_keras2.2.4.h5", "keras"],
  ["keras-h5/snn_cifar10_bn_keras2.0.4_theano.h5", "keras"],
  ["keras-h5/st_miniresnet_1stack_residual_keras2.9.h5", "keras"],
  ["keras-h5/hls4ml_conv1d_1layer_keras2.11.h5", "keras"],
  ["keras-h5-weights-json/snn_keras1_mnist_mlp_98.15.json", "keras"],
  ["keras-h5-weights-json/hls4ml_KERAS_conv2d_model.json", "keras"],
  ["onnx/hls4ml_three_layer_bn_pytorch.onnx", "onnx"],
  ["caffe/lenet.prototxt", "caffe"],
];

async function parsed(file: string, lib: string): Promise<tf.LayersModel> {
  const library = getModelLibrary(lib);
  const parser = createParser(await library.load(`${FIX}${file}`), {
    max2avgPool: true,
    softmaxToRelu: true,
  });
  parser.parse();
  return parser.buildParsedModel();
}

/**
 * The ANN the spiking network approximates: the parsed model with every
 * spiking layer rectified (IF neurons rectify even where the ANN layer is
 * linear, e.g. Caffe LeNet's convolutions or the mini-ResNet's shortcut).
 */
async function rectified(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = model.toJSON(undefined, false) as {
    config: { layers: { class_name: string; config: Record<string, unknown> }[] };
  };
  for (const l of topology.config.layers) {
    if (["Dense", "Conv1D", "Conv2D", "DepthwiseConv2D"].includes(l.class_name)) l.config.activation = "relu";
  }
  const clone = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  clone.setWeights(model.getWeights());
  return clone;
}

/** Seeded inputs in [0, 1). */
function inputs(shape: number[], n: number): tf.Tensor {
  let a = 12345;
  const next = () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296);
  return tf.tensor(Float32Array.from({ length: n * shape.reduce((x, y) => x * y, 1) }, next), [n, ...shape]);
}

for (const [file, lib] of FIXTURES) {
  Deno.test({
    name: `NIR fixture round trip: ${file}`,
    ignore: !FIX,
    fn: async () => {
      await initBackend();
      const model = await parsed(file, lib);
      const dir = await Deno.makeTempDir();
      try {
        const out = `${dir}/model.nir`;
        const cell = { vThresh: 1, vReset: 0, reset: "Reset to zero", tauRefrac: 0, leak: false };
        const { warnings } = await exportNir(model, { cell, dt: 1, duration: 15, max2avgPool: true }, out);
        assertTrue(warnings.every((w) => /average pooling/.test(w)), warnings.join());
        const shape = model.inputs[0].shape.slice(1) as number[];
        const n = 2;
        const x = inputs(shape, n);
        if (haveReader) {
          const ann = await rectified(model);
          const expected = (ann.predict(x) as tf.Tensor).dataSync() as Float32Array;
          ann.dispose();
          const xs = { data: x.dataSync() as Float32Array, shape: x.shape, dtype: "float32" as const };
          const view = await runReader(out, xs, { ann: true, channelsLast: true });
          // The reader's output is in NIR order; a Flatten output (the mini-ResNet's) is channels-first.
          const { graph } = await readNir(out);
          const back = spikingModelFromNir(graph, out);
          const order = back.outputIndex;
          const per = expected.length / n;
          const ours = order
            ? Array.from(
              { length: expected.length },
              (_, i) => expected[Math.floor(i / per) * per + order[i % per]],
            )
            : Array.from(expected);
          back.model.dispose();
          const scale = Math.max(...expected.map(Math.abs), 1e-6);
          assertClose(view.outputs.flat(), ours, { rtol: 1e-4, atol: 1e-5 * scale, msg: file });
        }
        const check = await referenceCheck(out, dir);
        if (check) assertTrue(check.nodes.includes("input") && check.nodes.includes("output"));

        const { graph } = await readNir(out);
        const back = spikingModelFromNir(graph, out);
        const opts = resolveSimulationOptions({ cell: { reset: "Reset to zero" } });
        const a = SpikingNetwork.fromModel(model, { ...opts, max2avgPool: true });
        const b = SpikingNetwork.fromModel(back.model, { ...opts, cell: { ...opts.cell, ...back.cell } });
        a.init(n);
        b.init(n);
        let spikes = 0;
        for (let t = 0; t < 15; t++) {
          const [oa, ob] = [await a.stepAndRead(x, t), await b.stepAndRead(x, t)];
          assertEquals(
            Array.from(ob.outputSpikes),
            Array.from(oa.outputSpikes),
            `${file}: output spikes at step ${t}`,
          );
          assertEquals(Array.from(ob.spikeCount), Array.from(oa.spikeCount), `${file}: spikes at step ${t}`);
          spikes += oa.spikeCount.reduce((s, v) => s + v, 0);
        }
        assertTrue(spikes > 0, `${file}: the network spiked`);
        a.dispose();
        b.dispose();
        x.dispose();
        back.model.dispose();
      } finally {
        model.dispose();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "NIR fixture: MobileNet's Reshape to 1x1xC is refused naming the layer",
  ignore: !FIX,
  fn: async () => {
    await initBackend();
    const model = await parsed("keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5", "keras");
    const cell = { vThresh: 1, vReset: 0, reset: "Reset to zero", tauRefrac: 0, leak: false };
    await assertRejects(
      () => Promise.resolve(toNirGraph(model, { cell, dt: 1, duration: 10, max2avgPool: true })),
      UnsupportedLayerError,
      /layer '\d+Reshape_1x1x256' \(Reshape\) cannot be exported to NIR: only a reshape to one dimension/,
    );
    model.dispose();
  },
});
