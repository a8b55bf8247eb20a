/**
 * Data-based normalization: scale factors and normalized parameters against
 * numpy's computation of the toolbox's method (testdata/simulation/
 * gen_normalization.py; also for an int64 set written by np.savez),
 * predictions kept on a branched ReLU CNN and on the
 * LeNet-5 fixture (accuracy on the demo MNIST images), and the factors file
 * written and reused.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { percentile, selectInPlace } from "../lib/conversion/percentile.ts";
import { float32Array, type NDArray } from "../lib/io/ndarray.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { evaluateModel } from "../lib/parsing/evaluate.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { assertClose, assertEquals, assertTrue, fixturesDir } from "./_assert.ts";

interface Ref {
  sizes: number[];
  names: string[];
  activations: string[];
  batch_size: number;
  x_norm: number[];
  weights: { w: number[]; b: number[] }[];
  percentile_tests: { values: number[]; p: number; expected: number }[];
  cases: {
    percentile: number;
    schedule: boolean;
    scale_factors: Record<string, number>;
    normalized: { w: number[]; b: number[] }[];
  }[];
}

const ref: Ref = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/simulation/normalization_ref.json", import.meta.url)),
);
await initBackend();

function buildMlp(): tf.LayersModel {
  const input = tf.input({ shape: [ref.sizes[0]], name: "input" });
  let x: tf.SymbolicTensor = input;
  ref.names.forEach((name, i) => {
    const layer = tf.layers.dense({
      units: ref.sizes[i + 1],
      activation: ref.activations[i] as "relu",
      name,
    });
    x = layer.apply(x) as tf.SymbolicTensor;
    layer.setWeights([
      tf.tensor(ref.weights[i].w, [ref.sizes[i], ref.sizes[i + 1]]),
      tf.tensor(ref.weights[i].b, [ref.sizes[i + 1]]),
    ]);
  });
  return tf.model({ inputs: input, outputs: x });
}

Deno.test("percentile matches numpy.percentile (linear)", () => {
  for (const t of ref.percentile_tests) {
    const got = percentile(Float32Array.from(t.values), t.p);
    assertClose([got ?? NaN], [t.expected], { rtol: 1e-6, msg: `p=${t.p} n=${t.values.length}` });
  }
  assertEquals(percentile(new Float32Array(0), 50), undefined);
});

Deno.test("selectInPlace puts the k-th smallest at k (duplicates, sorted and reversed input)", () => {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const inputs = [
    Float32Array.from({ length: 257 }, () => Math.floor(rand() * 9) / 8),
    Float32Array.from({ length: 100 }, (_, i) => i),
    Float32Array.from({ length: 100 }, (_, i) => 100 - i),
    new Float32Array(33).fill(0.5),
  ];
  for (const values of inputs) {
    const sorted = values.slice().sort();
    for (let k = 0; k < values.length; k++) {
      const v = values.slice();
      selectInPlace(v, k);
      assertEquals(v[k], sorted[k], `k=${k}`);
      for (let i = 0; i < k; i++) assertTrue(v[i] <= v[k]);
      for (let i = k + 1; i < v.length; i++) assertTrue(v[i] >= v[k]);
    }
  }
});

/** Normalize `buildMlp()` on `xNorm` and compare factors and parameters with numpy's `expected`. */
async function assertMatchesNumpy(
  xNorm: NDArray,
  options: { percentile: number; schedule: boolean },
  expected: Pick<Ref["cases"][number], "scale_factors" | "normalized">,
): Promise<void> {
  const model = buildMlp();
  try {
    const res = await normalizeParameters(model, xNorm, {
      percentile: options.percentile,
      normalizationSchedule: options.schedule,
      batchSize: ref.batch_size,
    });
    assertEquals(Object.keys(res.scaleFactors), Object.keys(expected.scale_factors));
    for (const [k, v] of Object.entries(expected.scale_factors)) {
      assertClose([res.scaleFactors[k]], [v], { rtol: 1e-5, msg: `scale factor ${k}` });
    }
    ref.names.forEach((name, i) => {
      const [w, b] = model.getLayer(name).getWeights();
      assertClose(w.dataSync(), expected.normalized[i].w, { rtol: 1e-5, atol: 1e-7, msg: `${name} kernel` });
      assertClose(b.dataSync(), expected.normalized[i].b, { rtol: 1e-5, atol: 1e-7, msg: `${name} bias` });
    });
  } finally {
    model.dispose();
  }
}

for (const c of ref.cases) {
  Deno.test(`normalized parameters match numpy (percentile ${c.percentile}, schedule ${c.schedule})`, async () => {
    const xNorm = float32Array(ref.x_norm, [ref.x_norm.length / ref.sizes[0], ref.sizes[0]]);
    await assertMatchesNumpy(xNorm, c, c);
  });
}

Deno.test("an int64 normalization set (np.savez) normalizes like numpy does on it as float32", async () => {
  const dir = new URL("../testdata/simulation/", import.meta.url);
  const xNorm = await readNpzArray(new URL("x_norm_int64.npz", dir).pathname);
  assertEquals([xNorm.dtype, xNorm.shape], ["int64", [23, ref.sizes[0]]]);
  const expected = JSON.parse(await Deno.readTextFile(new URL("normalization_int64_ref.json", dir)));
  await assertMatchesNumpy(xNorm, { percentile: expected.percentile, schedule: false }, expected);
});

/** Two conv branches concatenated, max-pooled, a conv on the concatenation, a softmax Dense. */
function buildBranchedCnn(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.4, seed: seed + s });
  const input = tf.input({ shape: [8, 8, 2], name: "input_1" });
  const a = tf.layers.conv2d({
    filters: 3,
    kernelSize: 3,
    padding: "same",
    activation: "relu",
    name: "conv_a",
    kernelInitializer: init(1),
    biasInitializer: init(2),
  }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({
    filters: 2,
    kernelSize: 1,
    activation: "relu",
    name: "conv_b",
    kernelInitializer: init(3),
    biasInitializer: init(4),
  }).apply(input) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ axis: -1, name: "concat" }).apply([a, b]) as tf.SymbolicTensor;
  const pool = tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }).apply(cat) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({
    filters: 4,
    kernelSize: 3,
    activation: "relu",
    name: "conv_c",
    kernelInitializer: init(5),
    biasInitializer: init(6),
  }).apply(pool) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: "flatten" }).apply(c) as tf.SymbolicTensor;
  const out = tf.layers.dense({
    units: 5,
    activation: "softmax",
    name: "out",
    kernelInitializer: init(7),
    biasInitializer: init(8),
  }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

Deno.test("normalization keeps the predictions of a branched ReLU CNN; hidden activations scale by 1/λ", async () => {
  const model = buildBranchedCnn(11);
  const x = tf.randomUniform([40, 8, 8, 2], 0, 1, "float32", 5);
  const xNorm = float32Array(x.dataSync() as Float32Array, [40, 8, 8, 2]);
  const probe = tf.model({
    inputs: model.inputs,
    outputs: [model.getLayer("conv_c").output as tf.SymbolicTensor, model.outputs[0]],
  });
  const [hiddenBefore, outBefore] = (probe.predict(x) as tf.Tensor[]).map((t) => t.dataSync().slice());
  const res = await normalizeParameters(model, xNorm, { batchSize: 8 });
  const [hiddenAfter, outAfter] = (probe.predict(x) as tf.Tensor[]).map((t) => t.dataSync().slice());
  assertTrue(Math.abs(res.scaleFactors.conv_c - 1) > 0.05, "the test needs a scale factor far from 1");
  assertClose(outAfter, outBefore, { rtol: 1e-4, atol: 1e-6, msg: "softmax outputs" });
  const lambda = res.scaleFactors.conv_c;
  assertClose(hiddenAfter, Array.from(hiddenBefore, (v) => v / lambda), {
    rtol: 1e-4,
    atol: 1e-6,
    msg: "conv_c",
  });
  // λ(conv_c) is the 99.9th percentile of its non-zero activations on the same data, computed here by sorting.
  const nz = Array.from(hiddenBefore).filter((v) => v !== 0).sort((p, q) => p - q);
  const rank = 0.999 * (nz.length - 1);
  const lo = Math.floor(rank);
  const expected = nz[lo] + (nz[Math.min(lo + 1, nz.length - 1)] - nz[lo]) * (rank - lo);
  assertClose([lambda], [expected], { rtol: 1e-4 });
  assertEquals(res.scaleFactors.out !== undefined, true);
  tf.dispose(x);
});

Deno.test("scale factors are written to <logDir>/normalization/<percentile>.json and reused", async () => {
  const logDir = await Deno.makeTempDir();
  try {
    const first = buildBranchedCnn(3);
    const second = buildBranchedCnn(3);
    const xs = [1, 2].map((s) => tf.randomUniform([16, 8, 8, 2], 0, 1, "float32", s));
    const norm = xs.map((x) => float32Array(x.dataSync() as Float32Array, [16, 8, 8, 2]));
    const r1 = await normalizeParameters(first, norm[0], { logDir, percentileLabel: "99.9" });
    assertEquals(r1.reused, false);
    assertEquals(r1.file, `${logDir}/normalization/99.9.json`);
    const saved = JSON.parse(await Deno.readTextFile(r1.file!));
    assertEquals(Object.keys(saved), ["input_1", "conv_a", "conv_b", "conv_c", "out"]);
    // A different normalization set: the saved factors must win.
    const r2 = await normalizeParameters(second, norm[1], { logDir, percentileLabel: "99.9" });
    assertEquals(r2.reused, true);
    assertEquals(r2.scaleFactors, saved);
    for (const name of ["conv_a", "conv_c", "out"]) {
      assertClose(
        second.getLayer(name).getWeights()[0].dataSync(),
        first.getLayer(name).getWeights()[0].dataSync(),
      );
    }
    tf.dispose(xs);
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});

const fixtures = fixturesDir();
const LENET = fixtures ? `${fixtures}keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5` : undefined;
if (!fixtures) {
  console.warn("conversion_normalize_test: fixture test skipped, /work/shared/fixtures is absent");
}

Deno.test({
  name: "normalization keeps the accuracy of a real parsed model (LeNet-5 fixture, demo MNIST images)",
  ignore: !fixtures,
  fn: async () => {
    const lib = getModelLibrary("keras");
    const parser = createParser(await lib.load(LENET!), {});
    parser.parse();
    const model = parser.buildParsedModel();
    const demo = new URL("../testdata/demo/data/", import.meta.url).pathname;
    const [x, y, xNorm] = await Promise.all(
      ["x_test", "y_test", "x_norm"].map((k) => readNpzArray(`${demo}${k}.npz`)),
    );
    const before = await evaluateModel(model, x, y, { batchSize: 200, topK: 1 });
    const probe = tf.model({ inputs: model.inputs, outputs: model.outputs });
    const xs = tf.tensor(x.data as Float32Array, x.shape).slice(0, 100);
    const outBefore = (probe.predict(xs) as tf.Tensor).dataSync().slice();
    const res = await normalizeParameters(model, xNorm, { batchSize: 100 });
    const after = await evaluateModel(model, x, y, { batchSize: 200, topK: 1 });
    assertTrue(Object.values(res.scaleFactors).some((f) => Math.abs(f - 1) > 0.1), "factors far from 1");
    assertEquals(after.top1, before.top1);
    assertClose((probe.predict(xs) as tf.Tensor).dataSync(), outBefore, { rtol: 1e-3, atol: 1e-5 });
    tf.dispose(xs);
    model.dispose();
  },
});
