/**
 * The Caffe library on the real fixtures in ../shared/fixtures/caffe: the
 * trained LeNet on the MNIST test set (known top-1 99.14 %), and every BVLC
 * prototxt's layer list and blob shapes against shapes derived by hand with
 * Caffe's formulas (convolution floor mode, pooling ceil mode).
 */
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { fixturesDir } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigError, UnsupportedLayerError } from "../lib/errors.ts";
import { readPrototxt } from "../lib/importers/caffe/net.ts";
import { caffePreprocessing } from "../lib/importers/caffe/inputs.ts";
import { inferCaffeShapes } from "../lib/importers/caffe/shapes.ts";
import { resolveCaffeInputs } from "../lib/importers/caffe/inputs.ts";
import { buildCaffeModel, loadCaffeModel } from "../lib/importers/caffe/load.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { evaluateModel } from "../lib/parsing/evaluate.ts";
import { mnistTestNchw } from "./_mnist.ts";

const fixtures = fixturesDir();
const dir = fixtures ? `${fixtures}caffe/` : "";
if (!fixtures) console.log("caffe fixture tests skipped: ../shared/fixtures is absent");

/** Caffe's pooling output size, written out again for the hand derivations below. */
const pool = (n: number, k: number, s: number): number => Math.ceil((n - k) / s) + 1;
const conv = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1;

const LENET: [string, number[]][] = [
  ["conv1", [20, conv(28, 5, 1, 0), 24]],
  ["pool1", [20, pool(24, 2, 2), 12]],
  ["conv2", [50, 8, 8]],
  ["pool2", [50, pool(8, 2, 2), 4]],
  ["ip1", [500]],
  ["relu1", [500]],
  ["ip2", [10]],
];

const EXPECTED: Record<string, { inputShape?: number[]; layers: [string, number[]][]; buildError?: RegExp }> =
  {
    "lenet.prototxt": { layers: [["data", [1, 28, 28]], ...LENET, ["prob", [10]]] },
    "bvlc_lenet_v1format_2014.prototxt": { layers: [...LENET, ["prob", [10]]] },
    "bvlc_lenet_train_test.prototxt": { inputShape: [1, 28, 28], layers: [["mnist", [1, 28, 28]], ...LENET] },
    "bvlc_cifar10_quick.prototxt": {
      layers: [
        ["data", [3, 32, 32]],
        ["conv1", [32, conv(32, 5, 1, 2), 32]],
        ["pool1", [32, pool(32, 3, 2), 16]], // ceil(29/2)+1 = 16 (floor mode would give 15)
        ["relu1", [32, 16, 16]],
        ["conv2", [32, 16, 16]],
        ["relu2", [32, 16, 16]],
        ["pool2", [32, pool(16, 3, 2), 8]],
        ["conv3", [64, 8, 8]],
        ["relu3", [64, 8, 8]],
        ["pool3", [64, pool(8, 3, 2), 4]],
        ["ip1", [64]],
        ["ip2", [10]],
        ["prob", [10]],
      ],
    },
    "bvlc_cifar10_full_sigmoid_train_test_bn.prototxt": {
      inputShape: [3, 32, 32],
      layers: [
        ["cifar", [3, 32, 32]],
        ["conv1", [32, 32, 32]],
        ["pool1", [32, 16, 16]],
        ["bn1", [32, 16, 16]],
        ["Sigmoid1", [32, 16, 16]],
        ["conv2", [32, 16, 16]],
        ["bn2", [32, 16, 16]],
        ["Sigmoid2", [32, 16, 16]],
        ["pool2", [32, 8, 8]],
        ["conv3", [64, 8, 8]],
        ["bn3", [64, 8, 8]],
        ["Sigmoid3", [64, 8, 8]],
        ["pool3", [64, 4, 4]],
        ["ip1", [10]],
      ],
    },
    "bvlc_mnist_siamese.prototxt": {
      layers: [["data", [1, 28, 28]], ...LENET, ["feat", [2]]],
    },
    "bvlc_reference_caffenet_deploy.prototxt": {
      buildError: /Caffe layer 'norm1' \(LRN\)/,
      layers: [
        ["data", [3, 227, 227]],
        ["conv1", [96, conv(227, 11, 4, 0), 55]],
        ["relu1", [96, 55, 55]],
        ["pool1", [96, pool(55, 3, 2), 27]],
        ["norm1", [96, 27, 27]],
        ["conv2", [256, conv(27, 5, 1, 2), 27]],
        ["relu2", [256, 27, 27]],
        ["pool2", [256, pool(27, 3, 2), 13]],
        ["norm2", [256, 13, 13]],
        ["conv3", [384, 13, 13]],
        ["relu3", [384, 13, 13]],
        ["conv4", [384, 13, 13]],
        ["relu4", [384, 13, 13]],
        ["conv5", [256, 13, 13]],
        ["relu5", [256, 13, 13]],
        ["pool5", [256, pool(13, 3, 2), 6]],
        ["fc6", [4096]],
        ["relu6", [4096]],
        ["drop6", [4096]],
        ["fc7", [4096]],
        ["relu7", [4096]],
        ["drop7", [4096]],
        ["fc8", [1000]],
        ["prob", [1000]],
      ],
    },
  };

for (const [file, want] of Object.entries(EXPECTED)) {
  Deno.test({
    name: `caffe fixture ${file}: layer list and Caffe blob shapes`,
    ignore: !fixtures,
    fn: async () => {
      await initBackend();
      const net = await readPrototxt(dir + file);
      const inputs = resolveCaffeInputs(net, want.inputShape);
      const shapes = inferCaffeShapes(net, new Map(inputs.map((i) => [i.name, i.shape])));
      const got = [...shapes.entries()].map(([name, s]) => [name, s[0]] as [string, number[]]);
      assertEquals(got, want.layers);
      if (want.buildError) {
        await assertRejects(
          () => buildCaffeModel(net, { allowMissingWeights: true }),
          UnsupportedLayerError,
          want.buildError,
        );
        return;
      }
      const { model } = buildCaffeModel(net, { inputShape: want.inputShape, allowMissingWeights: true });
      for (const [name, shape] of want.layers) {
        const layer = model.layers.find((l) => l.name === name);
        if (layer) assertEquals((layer.outputShape as number[]).slice(1), shape, `TF.js shape of ${name}`);
      }
      model.dispose();
    },
  });
}

Deno.test({
  name: "caffe fixture bvlc_lenet_train_test: TEST phase, scale preprocessing, input shape required",
  ignore: !fixtures,
  fn: async () => {
    await initBackend();
    const net = await readPrototxt(`${dir}bvlc_lenet_train_test.prototxt`);
    assertEquals(net.layers.filter((l) => l.type === "Data").length, 1);
    assertEquals(caffePreprocessing(net), {
      layer: "mnist",
      scale: 0.00390625,
      meanValues: [],
      meanFile: undefined,
    });
    await assertRejects(
      () => buildCaffeModel(net, { allowMissingWeights: true }),
      ConfigError,
      /--input-shape/,
    );
    const tmp = await Deno.makeTempDir();
    try {
      // The trained weights fit the train/test net too; its Data layer's scaling is reported as metadata.
      await Deno.copyFile(`${dir}bvlc_lenet_train_test.prototxt`, `${tmp}/net.prototxt`);
      await Deno.copyFile(`${dir}lenet_iter_10000.caffemodel`, `${tmp}/net_iter_10000.caffemodel`);
      const m = await loadCaffeModel(`${tmp}/net.prototxt`, { inputShape: [1, 28, 28] });
      assertEquals(m.metadata.preprocessing_scale, "0.00390625");
      assertEquals(m.metadata.weights, `${tmp}/net_iter_10000.caffemodel`);
      assertTrue(/accuracy: Accuracy layer ignored/.test(m.metadata.notes), m.metadata.notes);
      m.model.dispose();
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "caffe fixture lenet + lenet_iter_10000.caffemodel: 99.14 % on MNIST (input and parsed model); flipped kernels fail",
  ignore: !fixtures,
  fn: async () => {
    await initBackend();
    const { x, y } = await mnistTestNchw();
    const weights = `${dir}lenet_iter_10000.caffemodel`;
    const m = await loadCaffeModel(`${dir}lenet.prototxt`, { weights });
    const score = await evaluateModel(m.model, x, y, { batchSize: 500 });
    console.log(`Caffe LeNet input model top-1: ${(score.top1 * 100).toFixed(2)} %`);
    assertTrue(Math.abs(score.top1 - 0.9914) <= 0.0005, `top-1 ${score.top1}`);
    const parser = new ModelParser(m);
    parser.parse();
    const parsed = await parser.evaluate(500, undefined, x, y);
    console.log(`Caffe LeNet parsed model top-1: ${(parsed.top1 * 100).toFixed(2)} %`);
    assertTrue(Math.abs(parsed.top1 - 0.9914) <= 0.0005, `parsed top-1 ${parsed.top1}`);
    // Caffe cross-correlates: flipping the kernels (as for Theano) ruins the model.
    const flipped = await loadCaffeModel(`${dir}lenet.prototxt`, { weights, flipKernels: true });
    const bad = await evaluateModel(flipped.model, x, y, { batchSize: 500, numToTest: 2000 });
    assertTrue(bad.top1 < 0.9, `flipped top-1 ${bad.top1}`);
  },
});
