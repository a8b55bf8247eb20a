/**
 * The Lasagne library on small cases written by testdata/lasagne/gen_small.py
 * with numpy: pickles of every protocol from 2 on, a build script read by the
 * static interpreter, its parameters as .pkl/.npz, and outputs against a
 * numpy forward pass with Lasagne/Theano semantics.
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigError, ModelFormatError, UnsupportedLayerError } from "../lib/errors.ts";
import type { NDArray } from "../lib/io/ndarray.ts";
import { readNpy } from "../lib/io/npy.ts";
import { type PickleDict, type PickleValue, readPickle } from "../lib/io/pickle/numpy.ts";
import {
  getAllLayers,
  interpretLasagneScript,
  layerParamNames,
} from "../lib/importers/lasagne/interpreter.ts";
import {
  buildLasagneModel,
  findLasagneParameters,
  loadLasagneModel,
  readLasagneParameters,
} from "../lib/importers/lasagne/load.ts";

const dir = new URL("../testdata/lasagne/", import.meta.url).pathname;

function entry(d: PickleValue, key: string): PickleValue {
  const hit = (d as PickleDict).entries.find(([k]) => k === key);
  assertTrue(hit, `key ${key}`);
  return hit[1];
}

for (const proto of [2, 3, 4, 5]) {
  Deno.test(`lasagne pickle protocol ${proto}: numpy arrays, scalars and Python values as numpy wrote them`, async () => {
    const expected = JSON.parse(await Deno.readTextFile(`${dir}pickle_cases.json`));
    const v = readPickle(await Deno.readFile(`${dir}pickle_cases_p${proto}.pkl`), `p${proto}.pkl`);
    const arrays = entry(v, "arrays");
    for (const [key, want] of Object.entries(expected) as [string, { shape: number[]; values: number[] }][]) {
      const arr = entry(arrays, key) as NDArray;
      assertEquals(arr.shape, want.shape, key);
      assertEquals(Array.from(arr.data as ArrayLike<number | bigint>, Number), want.values, key);
    }
    assertEquals((entry(arrays, "f8_big_endian") as NDArray).dtype, "float64");
    assertEquals((entry(arrays, "i8") as NDArray).dtype, "int64");
    const meta = entry(v, "meta") as { kind: "tuple"; items: PickleValue[] };
    assertEquals(meta.items.slice(0, 6), ["tuple", 1, 2.5, null, true, "text"]);
    assertEquals(Array.from(meta.items[6] as Uint8Array), [114, 97, 119]);
    assertEquals(entry(v, "n"), 2n ** 70n);
  });
}

Deno.test("lasagne pickle: foreign globals are refused by name, truncation is reported", async () => {
  const evil = await Deno.readFile(`${dir}evil.pkl`);
  await assertRejects(
    () => readPickle(evil, "evil.pkl"),
    ModelFormatError,
    /evil\.pkl: .*refusing global '(posix|os)\.system'/,
  );
  const good = await Deno.readFile(`${dir}small_net.pkl`);
  await assertRejects(
    () => readPickle(good.subarray(0, 200), "cut.pkl"),
    ModelFormatError,
    /cut\.pkl: .*truncated/,
  );
});

Deno.test("lasagne interpreter: small_net.py layers in get_all_layers order with their parameters", async () => {
  const script = interpretLasagneScript(await Deno.readTextFile(`${dir}small_net.py`), "small_net.py");
  assertEquals(script.entry, "build_cnn()");
  const layers = getAllLayers(script.output);
  assertEquals(
    layers.map((l) => `${l.type}${l.name ? `:${l.name}` : ""}[${layerParamNames(l).join(",")}]`),
    [
      "InputLayer[]",
      "PadLayer[]",
      "Conv2DLayer[W,b]",
      "Conv2DLayer:branch0[W]", // batch_norm removed the bias
      "BatchNormLayer:branch0_bn[beta,gamma,mean,inv_std]",
      "NonlinearityLayer:branch0_bn_nonlin[]",
      "Conv2DLayer:branch1[W]",
      "BatchNormLayer:branch1_bn[beta,gamma,mean,inv_std]",
      "NonlinearityLayer:branch1_bn_nonlin[]",
      "ElemwiseSumLayer[]",
      "ConcatLayer[]",
      "Pool2DLayer[]",
      "MaxPool2DLayer[]",
      "GlobalPoolLayer[]",
      "DropoutLayer[]",
      "DenseLayer[W,b]",
    ],
  );
  const params = await readLasagneParameters(`${dir}small_net.pkl`);
  assertEquals(params.map((p) => p.shape), [
    [3, 2, 3, 3],
    [3],
    [4, 3, 3, 3],
    [4],
    [4],
    [4],
    [4],
    [4, 3, 3, 3],
    [4],
    [4],
    [4],
    [4],
    [7, 5],
    [5],
  ]);
});

Deno.test("lasagne small_net: outputs equal the numpy Lasagne forward pass with .pkl (protocol 2, 4, Python-2 strings) and .npz", async () => {
  await initBackend();
  assertEquals(await findLasagneParameters(`${dir}small_net.py`), `${dir}small_net.pkl`);
  const x = await readNpy(`${dir}small_x.npy`);
  const expected = (await readNpy(`${dir}small_y.npy`)).data as Float32Array;
  for (
    const weights of [undefined, `${dir}small_net_list.pkl`, `${dir}small_net_py2.pkl`, `${dir}small_net.npz`]
  ) {
    const m = await loadLasagneModel(`${dir}small_net.py`, { weights });
    assertEquals(m.dataFormat, "channels_first");
    const t = tf.tensor(x.data as Float32Array, x.shape);
    const y = m.model.predict(t) as tf.Tensor;
    assertClose(y.dataSync(), expected, { rtol: 1e-4, atol: 1e-6, msg: String(weights) });
    tf.dispose([t, y]);
    assertEquals(m.metadata.kernels_flipped, "c0,branch0,branch1");
    m.model.dispose();
  }
});

Deno.test("lasagne script ending inside build_cnn() (its `return` is the last line): blocks close at end of file", async () => {
  await initBackend();
  const full = await Deno.readTextFile(`${dir}small_net.py`);
  const body = full.slice(0, full.indexOf("if __name__")).trimEnd();
  assertTrue(body.endsWith("return net['out'], net"), body.slice(-40));
  const x = await readNpy(`${dir}small_x.npy`);
  const expected = (await readNpy(`${dir}small_y.npy`)).data as Float32Array;
  const params = await readLasagneParameters(`${dir}small_net.pkl`);
  // ending with and without a newline, with blank lines, trailing spaces and a comment after the return
  for (const tail of ["\n", "", "\n\n\n", "   \n", "\n    # done\n", "\r\n"]) {
    const script = interpretLasagneScript(body + tail, "net.py");
    assertEquals(script.entry, "build_cnn()", JSON.stringify(tail));
    const { model } = buildLasagneModel(script.output, params);
    const t = tf.tensor(x.data as Float32Array, x.shape);
    const y = model.predict(t) as tf.Tensor;
    assertClose(y.dataSync(), expected, { rtol: 1e-4, atol: 1e-6, msg: JSON.stringify(tail) });
    tf.dispose([t, y]);
    model.dispose();
  }
});

function interpret(src: string): ReturnType<typeof interpretLasagneScript> {
  return interpretLasagneScript(src, "net.py");
}

Deno.test("lasagne interpreter: constructs outside the subset fail with file, line and construct", async () => {
  const head = "import lasagne.layers as L\nl = L.InputLayer((None, 3))\n";
  await assertRejects(
    () => interpret(`${head}while True:\n    pass\n`),
    ModelFormatError,
    /net\.py:3: while loops/,
  );
  await assertRejects(
    () => interpret(`${head}class A:\n    pass\n`),
    ModelFormatError,
    /net\.py:3: class definitions/,
  );
  await assertRejects(
    () => interpret(`${head}x = [i for i in range(3)]\n`),
    ModelFormatError,
    /net\.py:3: list comprehensions/,
  );
  await assertRejects(
    () => interpret(`${head}if l == 2:\n    pass\n`),
    ModelFormatError,
    /net\.py:3: if statements/,
  );
  await assertRejects(
    () => interpret(`${head}x = foo\n`),
    ModelFormatError,
    /net\.py:3: name 'foo' is not defined/,
  );
  await assertRejects(
    () => interpret(`${head}import os\nos.system('x')\n`),
    ModelFormatError,
    /net\.py:4: calling os\.system\(\)/,
  );
  await assertRejects(
    () => interpret(`${head}l = L.LSTMLayer(l, 3)\n`),
    UnsupportedLayerError,
    /net\.py:3: lasagne\.layers\.LSTMLayer is not supported/,
  );
  await assertRejects(
    () => interpret(`${head}l = L.DenseLayer(l, 3, nonlinearty=None)\n`),
    ModelFormatError,
    /net\.py:3: DenseLayer got an unsupported keyword argument 'nonlinearty'/,
  );
  await assertRejects(() => interpret("x = 1\n"), ModelFormatError, /builds no Lasagne layer/);
});

Deno.test("lasagne build: Conv2DDNNLayer does not flip, unsupported nonlinearity and open input shape are clear errors", async () => {
  await initBackend();
  const dnn = interpret(`from lasagne.layers import InputLayer
from lasagne.layers.dnn import Conv2DDNNLayer
l = InputLayer((None, 1, 5, 5))
l = Conv2DDNNLayer(l, 2, 3, name='dnn')
l = Conv2DDNNLayer(l, 2, 3, flip_filters=True, name='flipped')
`);
  const built = buildLasagneModel(dnn.output, undefined, { file: "dnn.py" });
  assertEquals(built.flipped, ["flipped"]);
  assertEquals(built.model.outputs[0].shape, [null, 2, 1, 1]);
  built.model.dispose();
  const leaky = interpret(`import lasagne
l = lasagne.layers.InputLayer((None, 4))
l = lasagne.layers.DenseLayer(l, 2, nonlinearity=lasagne.nonlinearities.leaky_rectify)
`);
  await assertRejects(
    () => buildLasagneModel(leaky.output, undefined, { file: "leaky.py" }),
    UnsupportedLayerError,
    /leaky\.py: DenseLayer \(line 3\): nonlinearity lasagne\.nonlinearities\.leaky_rectify is not supported/,
  );
  const open = interpret(`import lasagne
l = lasagne.layers.InputLayer((None, 1, None, None))
l = lasagne.layers.DenseLayer(l, 2)
`);
  await assertRejects(
    () => buildLasagneModel(open.output, undefined, { file: "open.py" }),
    ConfigError,
    /--input-shape/,
  );
  const ok = buildLasagneModel(open.output, undefined, { file: "open.py", inputShape: [1, 4, 4] });
  assertEquals(ok.model.outputs[0].shape, [null, 2]);
  ok.model.dispose();
  const params = await readLasagneParameters(`${dir}small_net.npz`);
  const small = interpretLasagneScript(await Deno.readTextFile(`${dir}small_net.py`), "small_net.py");
  await assertRejects(
    () => buildLasagneModel(small.output, params.slice(1), { file: "small_net.py" }),
    ModelFormatError,
    /small_net\.py: the network has 14 parameter arrays .* holds 13/,
  );
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${dir}small_net.py`, `${tmp}/alone.py`);
    await assertRejects(
      () => loadLasagneModel(`${tmp}/alone.py`),
      ConfigError,
      /no parameters for .*alone\.py/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("lasagne script: a hostile count (N_BRANCH = 2^31) is refused at once, naming the line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn_lasagne_count_" });
  try {
    const src = await Deno.readTextFile(new URL("../testdata/lasagne/small_net.py", import.meta.url));
    await Deno.writeTextFile(`${dir}/m.py`, src.replace(/^N_BRANCH = 2$/m, "N_BRANCH = 2147483647"));
    await Deno.copyFile(new URL("../testdata/lasagne/small_net.pkl", import.meta.url), `${dir}/m.pkl`);
    const started = performance.now();
    const run = await runCli(["parse", `${dir}/m.py`, "--out", dir]);
    assertEquals(run.code, 1);
    assertMatch(run.err.join("\n"), /m\.py:\d+: list \* 2147483647 would have 2147483647 items/);
    assertEquals(performance.now() - started < 5000, true, "refused before building");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
