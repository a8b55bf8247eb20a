/**
 * NIR export of converted networks (lib/conversion/nir.ts) on small models
 * built here that exercise every mapping: asymmetric TensorFlow padding
 * (even kernels, strides, ZeroPadding2D), 'same' average pooling (padding
 * left out of the count), concatenated branches (spatial and flat),
 * depthwise and 1-D convolutions, thresholds other than 1.
 *
 * - The independent reader (tests/nir_reader.py, from the NIR spec) evaluates
 *   each graph as the ANN its rates approximate: it must equal the TF.js
 *   model's output (layouts, kernel transposition, flatten order, padding).
 * - The reference implementation reads each file and rewrites the same layout.
 * - Reading each graph back for the simulator gives the same spikes, step by
 *   step, as the original network (and 'same' padding is restored).
 * - What NIR cannot express is one clear error each; reset by subtraction is
 *   a stated difference.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { exportNir, float32Below, type NirExportOptions, toNirGraph } from "../lib/conversion/nir.ts";
import { readNir } from "../lib/io/nir_read.ts";
import { registerCustomActivation } from "../lib/layers/activations.ts";
import { spikingModelFromNir } from "../lib/simulation/nir.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { readerAvailable, referenceCheck, runReader } from "./_nir.ts";
import { rng } from "./_rng.ts";

await initBackend();
const haveReader = await readerAvailable();

/** Give every weight of `model` seeded values in [-0.5, 0.7) (positive-leaning, so neurons fire). */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tensor(Float32Array.from({ length: w.size }, () => r() * 1.2 - 0.5), w.shape)
    ),
  );
}

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;

/** Asymmetric padding everywhere: even kernel 'same', 'same' average pooling, strided 'same' conv. */
function paddingModel(): tf.LayersModel {
  const input = tf.input({ shape: [7, 6, 3] });
  let x = apply(
    tf.layers.conv2d({ filters: 4, kernelSize: [2, 3], padding: "same", activation: "relu" }),
    input,
  );
  x = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same" }), x);
  x = apply(
    tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
    x,
  );
  x = apply(tf.layers.flatten(), x);
  const out = apply(tf.layers.dense({ units: 6, activation: "relu" }), x);
  return tf.model({ inputs: input, outputs: out, name: "padding" });
}

/** Branches: spatial Concatenate → pooling → conv, and a Concatenate of flattened branches → Dense. */
function branchModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 5, 2] });
  const a = apply(
    tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", activation: "relu" }),
    input,
  );
  const b = apply(tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: "relu" }), input);
  let x = apply(tf.layers.concatenate(), [a, b]);
  x = apply(tf.layers.averagePooling2d({ poolSize: 2 }), x);
  x = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }), x);
  const flat = apply(tf.layers.concatenate(), [apply(tf.layers.flatten(), x), apply(tf.layers.flatten(), b)]);
  const out = apply(tf.layers.dense({ units: 5, activation: "relu" }), flat);
  return tf.model({ inputs: input, outputs: out, name: "branches" });
}

/** ZeroPadding2D before a conv and before an average pooling; a strided depthwise convolution. */
function zeroPaddingModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 2] });
  let x = apply(tf.layers.zeroPadding2d({ padding: [[0, 1], [1, 2]] }), input);
  x = apply(tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: "relu" }), x);
  x = apply(tf.layers.zeroPadding2d({ padding: 1 }), x);
  x = apply(tf.layers.averagePooling2d({ poolSize: 2 }), x);
  x = apply(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      strides: 2,
      padding: "same",
      depthMultiplier: 2,
      activation: "relu",
    }),
    x,
  );
  x = apply(tf.layers.flatten(), x);
  const out = apply(tf.layers.dense({ units: 4, activation: "relu" }), x);
  return tf.model({ inputs: input, outputs: out, name: "zeropad_depthwise" });
}

function conv1dModel(): tf.LayersModel {
  const input = tf.input({ shape: [9, 2] });
  let x = apply(tf.layers.conv1d({ filters: 3, kernelSize: 4, padding: "same", activation: "relu" }), input);
  x = apply(tf.layers.flatten(), x);
  const out = apply(tf.layers.dense({ units: 4, activation: "relu" }), x);
  return tf.model({ inputs: input, outputs: out, name: "conv1d" });
}

const CASES: { name: string; make: () => tf.LayersModel; vThresh: number; groups?: boolean }[] = [
  { name: "padding", make: paddingModel, vThresh: 1 },
  { name: "padding, v_thresh 0.5", make: paddingModel, vThresh: 0.5 },
  { name: "branches", make: branchModel, vThresh: 1 },
  // The reference's Conv2d derives its input type from weight.shape[1], which is C / groups: its type
  // check refuses any grouped convolution, so the reference check is skipped for this one.
  { name: "zero padding + depthwise", make: zeroPaddingModel, vThresh: 1, groups: true },
  { name: "conv1d", make: conv1dModel, vThresh: 1 },
];

function exportOptions(vThresh: number, reset = "Reset to zero"): NirExportOptions {
  return { cell: { vThresh, vReset: 0, reset, tauRefrac: 0, leak: false }, dt: 1, duration: 20 };
}

function randomInput(shape: number[], n: number, seed: number): tf.Tensor {
  const r = rng(seed);
  return tf.tensor(Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => r()), [
    n,
    ...shape,
  ]);
}

for (const c of CASES) {
  Deno.test(`NIR export (${c.name}): the spec's ANN view equals the model; the reference reads it; it reads back to the same spikes`, async () => {
    const model = c.make();
    seedWeights(model, 11);
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/net.nir`;
      const { warnings } = await exportNir(model, exportOptions(c.vThresh), file);
      assertEquals(warnings, []);
      const inShape = model.inputs[0].shape.slice(1) as number[];
      const n = 6;
      const x = randomInput(inShape, n, 5);

      if (haveReader) {
        const expected = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
        const xs = { data: x.dataSync() as Float32Array, shape: x.shape, dtype: "float32" as const };
        const ann = await runReader(file, xs, { ann: true, channelsLast: true });
        assertClose(ann.outputs.flat(), Array.from(expected), { rtol: 1e-4, atol: 1e-5, msg: c.name });
        assertTrue(expected.some((v) => v > 0), "the model's output is not all zero");
      }
      if (!c.groups) {
        const check = await referenceCheck(file, dir);
        if (check) assertTrue(check.nodes.includes("output"));
      }

      const { graph } = await readNir(file);
      const back = spikingModelFromNir(graph, file);
      assertEquals(back.cell, { vThresh: c.vThresh, vReset: 0, reset: "Reset to zero" });
      const opts = resolveSimulationOptions({ cell: { vThresh: c.vThresh, reset: "Reset to zero" } });
      const a = SpikingNetwork.fromModel(model, opts);
      const b = SpikingNetwork.fromModel(back.model, { ...opts, cell: { ...opts.cell, ...back.cell } });
      // (A pooling of concatenated branches comes back as one pooling per branch: same neurons in all.)
      const neurons = (net: SpikingNetwork) => net.layers.reduce((s, l) => s + l.neurons, 0);
      assertEquals(neurons(b), neurons(a));
      a.init(n);
      b.init(n);
      const xdt = tf.mul(x, opts.dt);
      let spikes = 0;
      for (let t = 0; t < 20; t++) {
        const [oa, ob] = [await a.stepAndRead(xdt, t), await b.stepAndRead(xdt, t)];
        assertEquals(Array.from(ob.outputSpikes), Array.from(oa.outputSpikes), `${c.name} step ${t}`);
        assertEquals(Array.from(ob.spikeCount), Array.from(oa.spikeCount), `${c.name} step ${t}`);
        spikes += oa.spikeCount.reduce((s, v) => s + v, 0);
      }
      if (b.layers.length === a.layers.length) {
        assertEquals(
          (await b.spikeCounts()).map((s) => Array.from(s)),
          (await a.spikeCounts()).map((s) => Array.from(s)),
        );
      }
      assertTrue(spikes > 0, "the network spiked");
      a.dispose();
      b.dispose();
      tf.dispose([x, xdt]);
      back.model.dispose();
    } finally {
      model.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("NIR export: the structure — thresholds, Scale(v_thresh), restored 'same' padding, split branches", () => {
  const pad = paddingModel();
  const { graph } = toNirGraph(pad, exportOptions(0.5));
  const types = Object.values(graph.nodes).map((n) => n.type);
  assertEquals(types.filter((t) => t === "IF").length, 4);
  assertEquals(types.filter((t) => t === "Scale").length, 5); // 4 × spike amplitude + 1 × average
  const ifNode = Object.values(graph.nodes).find((n) => n.type === "IF")!;
  assertTrue(ifNode.type === "IF");
  const th = Number(ifNode.vThreshold.data[0]);
  assertEquals(th, float32Below(0.5));
  assertTrue(th < 0.5 && Math.fround(th) === th && Math.fround((th + 0.5) / 2) !== (th + 0.5) / 2);
  // The even kernel [2, 3] 'same' pads (0, 1) rows: one zero row prepended, symmetric padding 1.
  const conv = Object.values(graph.nodes).find((n) => n.type === "Conv2d")!;
  assertTrue(conv.type === "Conv2d");
  assertEquals([conv.weight.shape, conv.padding], [[4, 3, 3, 3], [1, 1]]);
  assertTrue(
    (conv.weight.data as Float32Array).slice(0, 3).every((v) => v === 0),
    "first kernel row is zero",
  );
  assertMatch(String(graph.metadata?.notes), /zero kernel taps/);
  const back = spikingModelFromNir(graph);
  const convs = back.model.layers.filter((l) => l.getClassName() === "Conv2D");
  assertEquals(convs.map((l) => (l.getConfig() as { padding: string }).padding), ["same", "same"]);
  assertEquals(convs.map((l) => (l.getConfig() as { kernelSize: number[] }).kernelSize), [[2, 3], [3, 3]]);
  back.model.dispose();
  pad.dispose();

  const br = branchModel();
  const g = toNirGraph(br, exportOptions(1)).graph;
  // The conv after the concatenation reads two branches: two Conv2d nodes into one IF node.
  const into = (n: string) => g.edges.filter(([, b]) => b === n).map(([a]) => a);
  const ifs = Object.keys(g.nodes).filter((k) => g.nodes[k].type === "IF" && into(k).length === 2);
  assertEquals(ifs.length, 2, "the conv and the dense after a concatenation");
  assertEquals(ifs.map((n) => into(n).map((p) => g.nodes[p].type).sort().join()), [
    "Conv2d,Conv2d",
    "Affine,Linear",
  ]);
  br.dispose();
});

Deno.test("NIR export: what NIR cannot express is one clear error each; reset by subtraction is a stated difference", async () => {
  const seq = (layers: tf.layers.Layer[], shape: number[]) =>
    tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: shape }), ...layers] });
  const cases: [string, () => tf.LayersModel, NirExportOptions, RegExp][] = [
    [
      "max pooling",
      () =>
        seq([tf.layers.conv2d({ filters: 2, kernelSize: 3 }), tf.layers.maxPooling2d({ poolSize: 2 })], [
          6,
          6,
          1,
        ]),
      exportOptions(1),
      /MaxPooling2D\) cannot be exported to NIR: the toolbox's spiking max-pooling .* max2avg_pool = True/,
    ],
    [
      "softmax output",
      () => seq([tf.layers.flatten(), tf.layers.dense({ units: 3, activation: "softmax" })], [4, 4, 1]),
      exportOptions(1),
      /Dense\) cannot be exported to NIR: the toolbox simulates a softmax layer .* softmax_to_relu = True/,
    ],
    [
      "binary activation",
      () => {
        registerCustomActivation("binary_tanh");
        return seq([tf.layers.dense({ units: 3, activation: "binary_tanh" as "linear" })], [4]);
      },
      exportOptions(1),
      /binary activation 'binary_tanh'/,
    ],
    [
      "transposed convolution",
      () => seq([tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2 })], [4, 4, 1]),
      exportOptions(1),
      /Conv2DTranspose\) cannot be exported to NIR: NIR has no transposed convolution/,
    ],
    [
      "concatenation along a spatial axis",
      () => {
        const i = tf.input({ shape: [4, 4, 1] });
        const c = apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }), i);
        return tf.model({ inputs: i, outputs: apply(tf.layers.concatenate({ axis: 1 }), [c, c]) });
      },
      exportOptions(1),
      /only the channel axis is expressible/,
    ],
    ["refractory period", () => seq([tf.layers.dense({ units: 2 })], [3]), {
      ...exportOptions(1),
      cell: { ...exportOptions(1).cell, tauRefrac: 2 },
    }, /tau_refrac = 2: NIR's IF neuron has no refractory period/],
    ["leak", () => seq([tf.layers.dense({ units: 2 })], [3]), {
      ...exportOptions(1),
      cell: { ...exportOptions(1).cell, leak: true },
    }, /leak = True/],
    [
      "reset by modulo",
      () => seq([tf.layers.dense({ units: 2 })], [3]),
      exportOptions(1, "Reset by modulo"),
      /Reset by modulo has no NIR form/,
    ],
  ];
  for (const [what, make, options, re] of cases) {
    const m = make();
    const err = await assertRejects(() => Promise.resolve(toNirGraph(m, options)), UnsupportedLayerError, re);
    assertTrue(!/\n/.test(err.message), `${what}: one line`);
    m.dispose();
  }
  // Max pooling simulated as average pooling (the toolbox's max2avg_pool) exports, saying so.
  const mp = seq([tf.layers.conv2d({ filters: 2, kernelSize: 3 }), tf.layers.maxPooling2d({ poolSize: 2 })], [
    6,
    6,
    1,
  ]);
  const r = toNirGraph(mp, { ...exportOptions(1), max2avgPool: true });
  assertTrue(Object.values(r.graph.nodes).some((n) => n.type === "AvgPool2d"));
  assertMatch(r.warnings.join(), /exported as average pooling/);
  // Reset by subtraction: exported with NIR's reset, the difference in the warnings and the metadata.
  const sub = toNirGraph(mp, { ...exportOptions(1, "Reset by subtraction"), max2avgPool: true });
  assertMatch(sub.warnings[0], /Reset by subtraction has no NIR form/);
  assertMatch(String(sub.graph.metadata?.differences), /Reset by subtraction has no NIR form/);
  assertEquals(sub.graph.metadata?.toolbox_reset, "Reset by subtraction");
  mp.dispose();
});

Deno.test({
  name:
    "NIR export: with dt = 0.5 the spec's IF (dv/dt = R I, spikes as Dirac pulses) runs as our simulator does",
  ignore: !haveReader,
  fn: async () => {
    const model = paddingModel();
    seedWeights(model, 3);
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/dt.nir`;
      await exportNir(model, { ...exportOptions(1), dt: 0.5, duration: 15 }, file);
      const n = 8, steps = 30;
      const x = randomInput(model.inputs[0].shape.slice(1) as number[], n, 9);
      const opts = resolveSimulationOptions({ dt: 0.5, duration: 15, cell: { reset: "Reset to zero" } });
      const net = SpikingNetwork.fromModel(model, opts);
      net.init(n);
      const xdt = tf.mul(x, opts.dt);
      const counts = new Float32Array(n * 6);
      let spikes = 0;
      for (let t = 0; t < steps; t++) {
        const o = await net.stepAndRead(xdt, t);
        o.outputSpikes.forEach((v, i) => (counts[i] += v));
        spikes += o.spikeCount.reduce((s, v) => s + v, 0);
      }
      const ours = Array.from({ length: n }, (_, i) => {
        const row = Array.from(counts.subarray(i * 6, i * 6 + 6));
        return row.some((v) => v > 0) ? row.indexOf(Math.max(...row)) : -1;
      });
      const xs = { data: x.dataSync() as Float32Array, shape: x.shape, dtype: "float32" as const };
      const r = await runReader(file, xs, { steps, dt: 0.5, channelsLast: true });
      assertEquals(r.predictions, ours);
      assertEquals(r.output_spikes, counts.reduce((a, b) => a + b, 0));
      assertTrue(
        Math.abs(r.spikes - spikes) <= 1e-3 * spikes && spikes > 0,
        `spikes ${r.spikes} vs ours ${spikes}`,
      );
      net.dispose();
      tf.dispose([x, xdt]);
    } finally {
      model.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
