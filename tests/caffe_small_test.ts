/**
 * The Caffe library on a small net written for these tests
 * (testdata/caffe/gen_small.py): text format against google.protobuf's
 * parse, weights in all three file forms, outputs against a numpy
 * implementation of Caffe's forward pass.
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigError, ModelFormatError, UnsupportedLayerError } from "../lib/errors.ts";
import { readNpy } from "../lib/io/npy.ts";
import { parseTextFormat } from "../lib/importers/caffe/text_format.ts";
import { isMessage, type PbMessage, type PbValue } from "../lib/importers/caffe/message.ts";
import { buildCaffeModel, findCaffeWeights, loadCaffeModel } from "../lib/importers/caffe/load.ts";
import { normalizeNet, readCaffemodel } from "../lib/importers/caffe/net.ts";
import { applyCaffePreprocessing, caffePreprocessing } from "../lib/importers/caffe/inputs.ts";

const dir = new URL("../testdata/caffe/", import.meta.url).pathname;

/** Compare our schema-less tree with google.protobuf's MessageToDict output. */
function matchesProtobufJson(ours: PbMessage, json: Record<string, unknown>, path: string): void {
  for (const [key, expected] of Object.entries(json)) {
    const got: PbValue[] = ours[key] ?? [];
    const list = Array.isArray(expected) ? expected : [expected];
    assertEquals(got.length, list.length, `${path}.${key}: count`);
    list.forEach((e, i) => {
      const g = got[i];
      if (typeof e === "object" && e !== null) {
        assertTrue(isMessage(g), `${path}.${key}[${i}] is a message`);
        matchesProtobufJson(g, e as Record<string, unknown>, `${path}.${key}[${i}]`);
      } else if (typeof e === "string" && typeof g === "number") assertEquals(g, Number(e), `${path}.${key}`);
      else assertEquals(g, e, `${path}.${key}[${i}]`);
    });
  }
}

Deno.test("caffe text format: small.prototxt parses as google.protobuf parses it", async () => {
  const text = await Deno.readTextFile(`${dir}small.prototxt`);
  const json = JSON.parse(await Deno.readTextFile(`${dir}small_prototxt.json`));
  const ours = parseTextFormat(text, "small.prototxt");
  matchesProtobufJson(ours, json, "net");
  assertEquals(ours.name, ["small!"]);
});

Deno.test("caffe text format: strings, escapes, numbers, lists and errors with file:line:col", async () => {
  const msg = parseTextFormat(
    `s: "a\\n\\"b\\"" 'c' "\\303\\251" t: 1e-3 u: -2 v: .5f w: 0x10 x: [1, 2.5] y < z: TEST > ok: true # tail`,
    "t.prototxt",
  );
  assertEquals(msg.s, ['a\n"b"cé']);
  assertEquals(msg.t, [0.001]);
  assertEquals(msg.u, [-2]);
  assertEquals(msg.v, [0.5]);
  assertEquals(msg.w, [16]);
  assertEquals(msg.x, [1, 2.5]);
  assertEquals(msg.y, [{ z: ["TEST"] }]);
  assertEquals(msg.ok, [true]);
  await assertRejects(
    () => parseTextFormat('a: "x\nb: 1', "bad.prototxt"),
    ModelFormatError,
    /bad\.prototxt:1:4: unterminated string/,
  );
  await assertRejects(
    () => parseTextFormat("layer {\n  name: 1\n", "open.prototxt"),
    ModelFormatError,
    /open\.prototxt:3:1: expected '}'/,
  );
  await assertRejects(
    () => parseTextFormat("a 1", "c.prototxt"),
    ModelFormatError,
    /c\.prototxt:1:3: expected ':' or '\{' after field 'a'/,
  );
});

async function predictSmall(model: tf.LayersModel): Promise<Float32Array> {
  const x = await readNpy(`${dir}small_x.npy`);
  const t = tf.tensor(x.data as Float32Array, x.shape);
  const y = model.predict(t) as tf.Tensor;
  const out = y.dataSync() as Float32Array;
  tf.dispose([t, y]);
  return out;
}

Deno.test("caffe small net: outputs equal numpy's Caffe forward with .caffemodel and .caffemodel.h5 weights", async () => {
  await initBackend();
  const expected = (await readNpy(`${dir}small_y.npy`)).data as Float32Array;
  assertEquals(await findCaffeWeights(`${dir}small.prototxt`), `${dir}small.caffemodel`);
  for (const weights of [undefined, `${dir}small.caffemodel.h5`]) {
    const m = await loadCaffeModel(`${dir}small.prototxt`, { weights });
    assertEquals(m.dataFormat, "channels_first");
    assertClose(await predictSmall(m.model), expected, { rtol: 1e-4, atol: 1e-6, msg: String(weights) });
    // BatchNorm + Scale became one BatchNormalization layer; pooling needed explicit padding for pool1.
    const names = m.model.layers.map((l) => l.name);
    assertTrue(names.includes("bn1") && !names.includes("scale1"), names.join(","));
    assertTrue(names.includes("pool1_pad"), names.join(","));
    assertEquals(m.model.layers.find((l) => l.name === "bn1")?.getClassName(), "BatchNormalization");
    assertEquals(m.model.layers.find((l) => l.name === "sum")?.getClassName(), "Add");
    m.model.dispose();
  }
});

Deno.test("caffe V1 binary: enum layer types and legacy 4-D blob dims decode to the same blobs", async () => {
  const v1 = await readCaffemodel(`${dir}small_v1.caffemodel`);
  const v2 = await readCaffemodel(`${dir}small.caffemodel`);
  assertEquals(v1.format, "v1");
  assertEquals(v1.layers.map((l) => `${l.name}:${l.type}`), [
    "conv1:Convolution",
    "conv2a:Convolution",
    "conv2b:Convolution",
    "ip1:InnerProduct",
  ]);
  assertEquals(v1.layers[0].blobs[0].shape, [4, 2, 3, 3]);
  assertEquals(v1.layers[3].blobs[0].shape, [1, 1, 5, 8]);
  assertEquals(v1.layers[3].blobs[1].shape, [1, 1, 1, 5]);
  const byName = new Map(v2.layers.map((l) => [l.name, l]));
  for (const l of v1.layers) {
    const other = byName.get(l.name)!;
    assertEquals(l.blobs.map((b) => Array.from(b.data)), other.blobs.map((b) => Array.from(b.data)), l.name);
  }
  assertEquals(byName.get("bn1")!.blobs.map((b) => b.shape), [[4], [4], [1]]);
});

Deno.test("caffe small net: Caffe's ceil-mode shapes for every layer", async () => {
  const net = normalizeNet(
    parseTextFormat(await Deno.readTextFile(`${dir}small.prototxt`)),
    "small.prototxt",
  );
  const { caffeShapes, model } = buildCaffeModel(net, { allowMissingWeights: true });
  // Derived by hand: conv1 floor((5+2-3)/2)+1=3, floor((7+2-3)/2)+1=4; pool1 k3 s2 p1: ceil((3+2-3)/2)+1=2,
  // ceil((4+2-3)/2)+1=3; pool2 k2 s2: ceil((2-2)/2)+1=1, ceil((3-2)/2)+1=2.
  const want: Record<string, number[]> = {
    conv1: [4, 3, 4],
    pool1: [4, 2, 3],
    sum: [4, 2, 3],
    cat: [8, 2, 3],
    pool2: [8, 1, 2],
    pool3: [8, 1, 1],
    ip1: [5],
    prob: [5],
  };
  for (const [name, shape] of Object.entries(want)) {
    assertEquals(caffeShapes.get(name)?.[0], shape, name);
    const l = model.layers.find((x) => x.name === name);
    if (l) assertEquals((l.outputShape as number[]).slice(1), shape, `tfjs ${name}`);
  }
  model.dispose();
});

Deno.test("caffe errors: missing weights, unstated input shape, unsupported layers", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${dir}small.prototxt`, `${tmp}/alone.prototxt`);
    await assertRejects(
      () => loadCaffeModel(`${tmp}/alone.prototxt`),
      ConfigError,
      /no weights for .*alone\.prototxt/,
    );
    const dataNet = normalizeNet(
      parseTextFormat(`layer { name: "d" type: "Data" top: "data" top: "label" }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }`),
      "data.prototxt",
    );
    await assertRejects(
      () => buildCaffeModel(dataNet, { allowMissingWeights: true }),
      ConfigError,
      /data\.prototxt: the shape of input 'data' \(layer 'd'\) is not stated.*--input-shape/,
    );
    const built = buildCaffeModel(dataNet, { allowMissingWeights: true, inputShape: [3, 4, 4] });
    assertEquals(built.model.outputs[0].shape, [null, 2]);
    const lrn = normalizeNet(
      parseTextFormat(`input: "x" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
        layer { name: "norm1" type: "LRN" bottom: "x" top: "n" }`),
      "lrn.prototxt",
    );
    await assertRejects(
      () => buildCaffeModel(lrn),
      UnsupportedLayerError,
      /lrn\.prototxt: Caffe layer 'norm1' \(LRN\)/,
    );
    const leaky = normalizeNet(
      parseTextFormat(`input: "x" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
        layer { name: "r" type: "ReLU" bottom: "x" top: "x" relu_param { negative_slope: 0.1 } }`),
      "leaky.prototxt",
    );
    await assertRejects(
      () => buildCaffeModel(leaky),
      UnsupportedLayerError,
      /'r' \(ReLU\): negative_slope 0.1/,
    );
    const noBlobs = normalizeNet(
      parseTextFormat(await Deno.readTextFile(`${dir}small.prototxt`)),
      "small.prototxt",
    );
    await assertRejects(
      () => buildCaffeModel(noBlobs),
      ModelFormatError,
      /Caffe layer '\w+' \((BatchNorm|Scale|Convolution)\): missing blob 0/,
    );
    await Deno.writeFile(`${tmp}/alone.caffemodel`, new Uint8Array([0x0a, 0x50, 0x41]));
    await assertRejects(
      () => loadCaffeModel(`${tmp}/alone.prototxt`),
      ModelFormatError,
      /alone\.caffemodel: corrupt protobuf/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("caffe preprocessing: transform_param scale and mean_value reported and applied (mean first, then scale)", () => {
  const net = normalizeNet(
    parseTextFormat(`layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TRAIN }
        transform_param { scale: 2 } }
      layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TEST }
        transform_param { scale: 0.5 mean_value: 10 mean_value: 20 } }`),
    "pre.prototxt",
  );
  assertEquals(net.layers.length, 1);
  const pre = caffePreprocessing(net);
  assertEquals(pre, { layer: "d", scale: 0.5, meanValues: [10, 20], meanFile: undefined });
  const data = Float32Array.from([10, 12, 20, 30]);
  applyCaffePreprocessing(data, [1, 2, 2], pre!);
  assertEquals(Array.from(data), [0, 1, 0, 5]);
  const msg = parseTextFormat("a: 1");
  assertMatch(JSON.stringify(msg), /"a":\[1\]/);
});

Deno.test("caffe small2: Data layer + input shape, depthwise dilated conv, Scale, BatchNorm, Split, padded AVE pooling, Reshape", async () => {
  await initBackend();
  await assertRejects(() => loadCaffeModel(`${dir}small2.prototxt`), ConfigError, /--input-shape/);
  const m = await loadCaffeModel(`${dir}small2.prototxt`, { inputShape: [2, 5, 5] });
  assertEquals(m.metadata.weights, `${dir}small2.caffemodel.h5`);
  assertEquals(m.metadata.preprocessing_scale, "0.5");
  assertEquals(m.metadata.preprocessing_mean_file, "no_such_mean.binaryproto");
  assertEquals(m.metadata.preprocessing_mean_file_missing, "true");
  assertEquals(m.metadata.notes, "loss: SoftmaxWithLoss layer ignored for inference");
  assertEquals(m.model.getLayer("dw").getClassName(), "DepthwiseConv2D");
  const x = await readNpy(`${dir}small2_x.npy`);
  const t = tf.tensor(x.data as Float32Array, x.shape);
  const y = m.model.predict(t) as tf.Tensor;
  const expected = (await readNpy(`${dir}small2_y.npy`)).data as Float32Array;
  assertClose(y.dataSync(), expected, { rtol: 1e-4, atol: 1e-5 });
  tf.dispose([t, y]);
  m.model.dispose();
});

Deno.test("caffe small3: grouped convolution (group 2) and InnerProduct transpose: true", async () => {
  await initBackend();
  const m = await loadCaffeModel(`${dir}small3.prototxt`);
  const x = await readNpy(`${dir}small3_x.npy`);
  const t = tf.tensor(x.data as Float32Array, x.shape);
  const y = m.model.predict(t) as tf.Tensor;
  assertClose(y.dataSync(), (await readNpy(`${dir}small3_y.npy`)).data as Float32Array, {
    rtol: 1e-4,
    atol: 1e-5,
  });
  tf.dispose([t, y]);
  m.model.dispose();
});
