/**
 * Hand-made hostile inputs (tests/fuzz/hostile/, written by gen_hostile.py
 * with numpy, h5py and onnx): files that declare 10^12 elements, nest
 * thousands of levels deep or expand to 10^10 characters must be refused at
 * once with a toolbox error naming the file; the memory ceiling is
 * configurable; an atomic write interrupted by Ctrl-C leaves nothing behind.
 */
import { assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import {
  ConfigError,
  DatasetError,
  ModelFormatError,
  type SnnToolboxError,
  UnsupportedLayerError,
} from "../lib/errors.ts";
import { checkAllocation, maxArrayBytes, parseByteSize, setMaxArrayBytes } from "../lib/io/limits.ts";
import { readNpy, writeNpy } from "../lib/io/npy.ts";
import { predictCommand } from "../lib/cli/predict.ts";
import { decodeOnnxModel, readOnnxModel } from "../lib/importers/onnx/proto.ts";
import { onnxNestingDepth } from "../lib/importers/onnx/nesting.ts";
import { readPickle } from "../lib/io/pickle/numpy.ts";
import { openHdf5, readDataset } from "../lib/io/hdf5.ts";
import { loadInputModel } from "../lib/parsing/files.ts";
import { checkConfigNesting, normalizeModelConfig } from "../lib/importers/keras/config.ts";
import { buildCaffeModel } from "../lib/importers/caffe/load.ts";
import { normalizeNet } from "../lib/importers/caffe/net.ts";
import { parseTextFormat } from "../lib/importers/caffe/text_format.ts";
import { updateSetup } from "../lib/pipeline/setup.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { runCase } from "./fuzz/contract.ts";
import type { Kind, Seed } from "./fuzz/seeds.ts";

const HOSTILE = new URL("./fuzz/hostile/", import.meta.url).pathname;

/** Run `fn`, expecting a rejection of `type` within `ms` milliseconds; returns the error. */
async function refusedWithin(ms: number, type: typeof SnnToolboxError, fn: () => unknown, re?: RegExp) {
  const t0 = performance.now();
  const err = await assertRejects(fn, type, re);
  const took = performance.now() - t0;
  assertTrue(took < ms, `refused after ${took.toFixed(0)} ms, expected < ${ms} ms`);
  return err;
}

Deno.test("limits: byte sizes with K/M/G suffixes", () => {
  assertEquals(parseByteSize("1024"), 1024);
  assertEquals(parseByteSize("512M"), 512 * 1024 ** 2);
  assertEquals(parseByteSize("2g"), 2 * 1024 ** 3);
  assertEquals(parseByteSize("1.5k"), 1536);
  assertEquals(parseByteSize("lots"), undefined);
  assertEquals(parseByteSize("-5"), undefined);
  assertEquals(parseByteSize("0"), undefined);
});

Deno.test("limits: SNNTOOLBOX_MAX_ALLOC sets the ceiling (SNNTOOLBOX_MAX_ARRAY_BYTES wins)", () => {
  const saved = [Deno.env.get("SNNTOOLBOX_MAX_ARRAY_BYTES"), Deno.env.get("SNNTOOLBOX_MAX_ALLOC")];
  try {
    Deno.env.delete("SNNTOOLBOX_MAX_ARRAY_BYTES");
    Deno.env.set("SNNTOOLBOX_MAX_ALLOC", "64M");
    assertEquals(maxArrayBytes(), 64 * 1024 ** 2);
    Deno.env.set("SNNTOOLBOX_MAX_ARRAY_BYTES", "1000");
    assertEquals(maxArrayBytes(), 1000);
    Deno.env.delete("SNNTOOLBOX_MAX_ARRAY_BYTES");
    Deno.env.delete("SNNTOOLBOX_MAX_ALLOC");
    assertEquals(maxArrayBytes(), 2 * 1024 ** 3);
  } finally {
    const names = ["SNNTOOLBOX_MAX_ARRAY_BYTES", "SNNTOOLBOX_MAX_ALLOC"];
    names.forEach((n, i) => saved[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, saved[i]!));
  }
});

Deno.test("limits: checkAllocation refuses bad dims, sizes over the ceiling and sizes the file cannot hold", () => {
  const req = { file: "m.onnx", what: "tensor 'W'", itemBytes: 4 };
  assertEquals(checkAllocation({ ...req, shape: [3, 4], availableBytes: 48 }), 48);
  assertMatch(
    (() => {
      try {
        checkAllocation({ ...req, shape: [1e6, 1e6] });
      } catch (e) {
        assertTrue(e instanceof ModelFormatError);
        return e.message;
      }
      return "";
    })(),
    /^m\.onnx: tensor 'W' of shape \[1000000, 1000000\] is too large: 4000000000000 bytes exceed the limit/,
  );
  let msg = "";
  try {
    checkAllocation({ ...req, shape: [3, 4], availableBytes: 47 });
  } catch (e) {
    msg = (e as Error).message;
  }
  assertMatch(msg, /needs 48 bytes but the file holds only 47/);
  try {
    checkAllocation({ ...req, shape: [2, -1], errorClass: DatasetError });
    msg = "";
  } catch (e) {
    assertTrue(e instanceof DatasetError);
    msg = (e as Error).message;
  }
  assertMatch(msg, /declares invalid dimensions \[2, -1\]/);
  setMaxArrayBytes(100);
  try {
    assertMatch(
      (() => {
        try {
          checkAllocation({ ...req, shape: [5, 6] });
        } catch (e) {
          return (e as Error).message;
        }
        return "";
      })(),
      /120 bytes exceed the limit of 100 bytes/,
    );
  } finally {
    setMaxArrayBytes(undefined);
  }
});

Deno.test("hostile: .npy header claiming 10^12 float32 elements is refused in milliseconds", async () => {
  const file = `${HOSTILE}huge_header.npy`;
  const err = await refusedWithin(200, DatasetError, () => readNpy(file));
  assertMatch(err.message, /huge_header\.npy/);
  assertMatch(err.message, /1000000, 1000000/);
});

Deno.test("hostile: ONNX initializer claiming 10^12 elements (16 bytes of data) is refused in milliseconds", async () => {
  const err = await refusedWithin(
    500,
    ModelFormatError,
    () => readOnnxModel(`${HOSTILE}huge_initializer.onnx`),
  );
  assertMatch(err.message, /huge_initializer\.onnx: tensor 'W'/);
});

Deno.test("hostile: ONNX subgraphs nested 3,000 deep are refused, not a stack overflow", async () => {
  await refusedWithin(
    2000,
    ModelFormatError,
    () => readOnnxModel(`${HOSTILE}deep_nesting.onnx`),
    /nested too deeply/,
  );
});

/** Protobuf bytes of field `num` (length-delimited) holding `payload`. */
function pbField(num: number, payload: Uint8Array): Uint8Array {
  const varint = (v: number) => {
    const out: number[] = [];
    do {
      out.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
      v >>>= 7;
    } while (v);
    return out;
  };
  return Uint8Array.from([...varint((num << 3) | 2), ...varint(payload.length), ...payload]);
}

/** An ONNX model whose graph holds an If whose branch holds an If ... `levels` deep (as gen_hostile.py builds it). */
function nestedIfModel(levels: number): Uint8Array {
  const text = (s: string) => new TextEncoder().encode(s);
  const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
  let graph = pbField(1, pbField(4, text("Identity")));
  for (let i = 0; i < levels; i++) {
    const node = cat(
      pbField(4, text("If")),
      pbField(5, cat(pbField(1, text("then_branch")), pbField(6, graph))),
    );
    graph = pbField(1, node);
  }
  return cat(Uint8Array.from([0x08, 0x07]), pbField(7, graph));
}

Deno.test("hostile: ONNX nesting is checked before decoding: 32 subgraph levels (99 messages) decode, 33 are refused", async () => {
  assertEquals(onnxNestingDepth(nestedIfModel(32)), 99);
  assertEquals(decodeOnnxModel(nestedIfModel(32), "nested32.onnx").nodes[0].opType, "If");
  await assertRejects(
    () => decodeOnnxModel(nestedIfModel(33), "nested33.onnx"),
    ModelFormatError,
    /^nested33\.onnx: .*nested too deeply: more than 100 levels/,
  );
});

Deno.test("hostile: HDF5 dataset declaring 10^6 x 10^6 float32 is refused before reading", async () => {
  const file = `${HOSTILE}huge_weight.h5`;
  const h5 = await openHdf5(file);
  try {
    const t0 = performance.now();
    let err: unknown;
    try {
      readDataset(h5, "model_weights/dense_1/dense_1_W", file);
    } catch (e) {
      err = e;
    }
    assertTrue(err instanceof ModelFormatError, `expected ModelFormatError, got ${err}`);
    assertMatch((err as Error).message, /huge_weight\.h5/);
    assertMatch((err as Error).message, /exceed the limit/);
    assertTrue(performance.now() - t0 < 500);
  } finally {
    h5.close();
  }
});

Deno.test("hostile: Keras model with a 10^12-element weight is refused naming the file", async () => {
  await initBackend();
  await refusedWithin(
    5000,
    ModelFormatError,
    () => loadInputModel(`${HOSTILE}huge_weight.h5`),
    /huge_weight\.h5/,
  );
});

Deno.test("hostile: Keras JSON with Sequential models nested 2,000 deep: a toolbox error naming the file", async () => {
  await initBackend();
  await refusedWithin(
    5000,
    ModelFormatError,
    () => loadInputModel(`${HOSTILE}deep_nesting.json`),
    /deep_nesting\.json: more than 100 models are nested in one another \(at layer 's\d+'\); refusing/,
  );
});

Deno.test("keras nesting: 100 nested models pass the check, 101 and 1,001 JSON levels are refused", async () => {
  const nest = (n: number): unknown => {
    let m: unknown = { class_name: "Dense", config: { name: "d", units: 1 } };
    for (let i = n; i > 0; i--) m = { class_name: "Sequential", config: { name: `s${i}`, layers: [m] } };
    return m;
  };
  checkConfigNesting(nest(100), "ok.json");
  const deep = await assertRejects(() => checkConfigNesting(nest(101), "deep.json"), ModelFormatError);
  assertEquals(
    deep.message,
    "deep.json: more than 100 models are nested in one another (at layer 's101'); refusing",
  );
  let arrays: unknown = [];
  for (let i = 0; i < 1001; i++) arrays = [arrays];
  const model = { class_name: "Model", config: { name: "m", layers: arrays } };
  const json = await assertRejects(() => checkConfigNesting(model, "arrays.json"), ModelFormatError);
  assertEquals(
    json.message,
    "arrays.json: the model config is nested more than 1000 levels deep (at layer 'm'); refusing",
  );
});

Deno.test("hostile: INI interpolation bomb (10^10 characters) is a ConfigError in well under a second", async () => {
  const err = await refusedWithin(
    1000,
    ConfigError,
    () => updateSetup(`${HOSTILE}interpolation_bomb.ini`, { createLogDir: false }),
  );
  assertMatch(
    err.message,
    /interpolation_bomb\.ini:\d+: \[paths\] filename_ann: .*expands to more than 1048576/,
  );
});

/** A seed whose first file is a hostile file, loaded unmutated through the CLI. */
function hostileSeed(kind: Kind, files: [string, string][], argv: string[]): Seed {
  return { kind, layout: "binary", files: files.map(([src, name]) => ({ src, name })), argv };
}

Deno.test("hostile: through the CLI every hostile file gives exit 1/2 and one 'error:' line naming it", async () => {
  const parse = ["parse", "{in}", "--out", "{out}"];
  const seeds: Seed[] = [
    hostileSeed("onnx", [["tests/fuzz/hostile/huge_initializer.onnx", "m.onnx"]], parse),
    hostileSeed("onnx", [["tests/fuzz/hostile/deep_nesting.onnx", "m.onnx"]], parse),
    hostileSeed("keras-h5", [["tests/fuzz/hostile/huge_weight.h5", "m.h5"]], parse),
    hostileSeed("keras-json", [
      ["tests/fuzz/hostile/deep_nesting.json", "m.json"],
      ["tests/fuzz/hostile/deep_nesting_weights.h5", "m_weights.h5"],
    ], parse),
    hostileSeed("lasagne-pkl", [
      ["tests/fuzz/hostile/deep_nesting.pkl", "m.pkl"],
      ["testdata/lasagne/small_net.py", "m.py"],
    ], ["parse", "{dir}/m.py", "--out", "{out}"]),
    hostileSeed("npy", [["tests/fuzz/hostile/huge_header.npy", "x.npy"], [
      "testdata/onnx/mlp_op13.onnx",
      "m.onnx",
    ]], [
      "predict",
      "{dir}/m.onnx",
      "--input",
      "{in}",
      "--output",
      "{out}/y.npy",
    ]),
    hostileSeed("ini", [["tests/fuzz/hostile/interpolation_bomb.ini", "m.ini"]], ["config", "{in}"]),
  ];
  const outcomes = await Promise.all(
    [0, 1].map(async (w) => {
      const res = [];
      for (let i = w; i < seeds.length; i += 2) {
        res.push({
          seed: seeds[i],
          o: await runCase({ seed: seeds[i], mutation: { name: "none", detail: "", edits: [] } }),
        });
      }
      return res;
    }),
  );
  for (const { seed, o } of outcomes.flat()) {
    const what = `${seed.files[0].src}: exit ${o.code}, ${o.violations.join(", ")}: ${
      o.stderr.slice(0, 300)
    }`;
    assertTrue(o.code === 1 || o.code === 2, what);
    assertEquals(o.violations.filter((v) => v !== "raw-error"), [], what);
    assertTrue(o.ms < 10_000, what);
  }
});

Deno.test("atomic output: Ctrl-C during a write leaves neither the file nor its temporary", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "snn-sigint-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./fuzz/sigint_child.ts", import.meta.url).pathname, outDir],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assertMatch(text, /^writing .*out\.bin\.[0-9a-f]+\.tmp/);
    const tmp = text.trim().slice("writing ".length);
    assertTrue((await Deno.stat(tmp)).size === 1 << 20, "the temporary file is there mid-write");
    child.kill("SIGINT");
    reader.releaseLock();
    await child.stdout.cancel();
    const status = await child.status;
    await child.stderr.cancel();
    assertEquals(status.code, 130);
    assertEquals([...Deno.readDirSync(outDir)].map((e) => e.name), []);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("keras graph: an empty or malformed inbound node is a problem naming the layer (tfjs would hang)", () => {
  const model = (dense: unknown[]) => ({
    class_name: "Model",
    config: {
      name: "m",
      layers: [
        {
          name: "in",
          class_name: "InputLayer",
          config: { name: "in", batch_input_shape: [null, 4] },
          inbound_nodes: [],
        },
        { name: "d", class_name: "Dense", config: { name: "d", units: 2 }, inbound_nodes: dense },
      ],
      input_layers: [["in", 0, 0]],
      output_layers: [["d", 0, 0]],
    },
  });
  assertEquals(normalizeModelConfig(model([[["in", 0, 0, {}]]]), "2").problems, []);
  assertEquals(normalizeModelConfig(model([[]]), "2").problems, [
    "layer 'd' has an invalid inbound node 0 (expected a list of [layer, node, tensor] references, found an empty list)",
  ]);
  assertMatch(
    normalizeModelConfig(model([[["in", 0, 0, {}]], "x"]), "2").problems.join(),
    /node 1 .*found a string/,
  );
});

/** A Caffe net from prototxt text, as `file`. */
function caffeNet(text: string, file: string): ReturnType<typeof normalizeNet> {
  return normalizeNet(
    parseTextFormat(`input: "x" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n${text}`),
    file,
  );
}

Deno.test("caffe: a huge num_output or a blob that contradicts the params is refused before TF.js allocates", async () => {
  await initBackend();
  const conv = (n: string) =>
    caffeNet(
      `layer { name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: ${n} kernel_size: 3 } }`,
      "conv.prototxt",
    );
  await refusedWithin(
    2000,
    ModelFormatError,
    () => buildCaffeModel(conv("1000000000000"), { allowMissingWeights: true }),
    /conv\.prototxt: the output of Caffe layer 'c' \(Convolution\) for one sample of shape \[1000000000000, 6, 6\] is too large/,
  );
  const ip = caffeNet(
    `layer { name: "f" type: "InnerProduct" bottom: "x" top: "f" inner_product_param { num_output: 2000000000 } }`,
    "ip.prototxt",
  );
  await refusedWithin(
    2000,
    ModelFormatError,
    () => buildCaffeModel(ip, { allowMissingWeights: true }),
    /'f'.*too large/,
  );
  // 3,000,000 filters (324 MB, under the ceiling) with a blob of 4 filters: the blob check comes first.
  const lying = conv("3000000");
  lying.layers.find((l) => l.name === "c")!.blobs = [{ data: new Float32Array(4 * 27), shape: [4, 3, 3, 3] }];
  await refusedWithin(
    2000,
    ModelFormatError,
    () => buildCaffeModel(lying),
    /conv\.prototxt: Caffe layer 'c' \(Convolution\): blob 0 \(weights\) has 108 values \[4,3,3,3\], expected 81000000/,
  );
  await assertRejects(
    () => buildCaffeModel(conv("0"), { allowMissingWeights: true }),
    ModelFormatError,
    /'c' \(Convolution\): num_output must be a positive integer, found 0/,
  );
});

Deno.test("caffe: invalid Pooling, Concat and Eltwise params and huge pads name the file and layer", async () => {
  await initBackend();
  const pool = (p: string) =>
    caffeNet(
      `layer { name: "p" type: "Pooling" bottom: "x" top: "p" pooling_param { ${p} } }`,
      "pool.prototxt",
    );
  const cases: [string, RegExp][] = [
    [
      "kernel_size: 2 stride: 0",
      /pool\.prototxt: Caffe layer 'p' \(Pooling\): stride must be a positive integer, found 0,0/,
    ],
    ["kernel_size: 2 pad: 2", /'p' \(Pooling\): pad 2 must be smaller than kernel_size 2/],
    ["kernel_size: 20", /'p' \(Pooling\): kernel_size 20,20 does not fit the input of spatial size \[8,8\]/],
  ];
  for (const [p, re] of cases) {
    await assertRejects(() => buildCaffeModel(pool(p), { allowMissingWeights: true }), ModelFormatError, re);
  }
  const concat = (extra: string, axis: string) =>
    caffeNet(
      `${extra}\nlayer { name: "k" type: "Concat" bottom: "x" bottom: "y" top: "k" concat_param { axis: ${axis} } }`,
      "cat.prototxt",
    );
  const y = (c: number, h: number) => `input: "y" input_shape { dim: 1 dim: ${c} dim: ${h} dim: 8 }`;
  await assertRejects(
    () => buildCaffeModel(concat(y(2, 8), "7"), { allowMissingWeights: true }),
    ModelFormatError,
    /cat\.prototxt: Caffe layer 'k' \(Concat\): concat axis must be in \[-4, 3\] for bottoms of rank 4, found 7/,
  );
  await assertRejects(
    () => buildCaffeModel(concat(y(2, 5), "1"), { allowMissingWeights: true }),
    ModelFormatError,
    /'k' \(Concat\): bottom 1 has shape \[2,5,8\], expected \[3,8,8\] except along axis 1/,
  );
  await assertRejects(
    () => buildCaffeModel(concat(y(3, 8), "0"), { allowMissingWeights: true }),
    UnsupportedLayerError,
    /'k' \(Concat\): concatenation along the batch axis/,
  );
  const built = buildCaffeModel(concat(y(2, 8), "1"), { allowMissingWeights: true });
  assertEquals(built.model.outputs[0].shape, [null, 5, 8, 8]);
  const sum = caffeNet(
    `${y(3, 5)}\nlayer { name: "s" type: "Eltwise" bottom: "x" bottom: "y" top: "s" }`,
    "sum.prototxt",
  );
  await assertRejects(
    () => buildCaffeModel(sum, { allowMissingWeights: true }),
    ModelFormatError,
    /sum\.prototxt: Caffe layer 's' \(Eltwise\): bottom 1 has shape \[3,5,8\], expected \[3,8,8\] like bottom 0/,
  );
  const padded = caffeNet(
    `layer { name: "c" type: "Convolution" bottom: "x" top: "c"
       convolution_param { num_output: 2 kernel_size: 3 pad_h: 4294967296 pad_w: 0 } }`,
    "pad.prototxt",
  );
  await assertRejects(
    () => buildCaffeModel(padded, { allowMissingWeights: true }),
    ModelFormatError,
    /pad\.prototxt: the output of Caffe layer 'c' \(Convolution\) for one sample of shape \[2, 8589934598, 6\] is too large/,
  );
});

Deno.test("predict: samples that do not fit the model name the .npy file and both shapes", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "snn-predict-shape-" });
  try {
    const model = new URL("../testdata/keras/keras3_sequential.keras", import.meta.url).pathname;
    const ctx = { quiet: true, verbose: false, color: false, out: () => {}, err: () => {} };
    const run = (x: string) => predictCommand.run([model, "--input", x, "--output", `${tmp}/y.npy`], ctx);
    await writeNpy(`${tmp}/wide.npy`, { data: new Float32Array(5 * 17), shape: [5, 17], dtype: "float32" });
    await assertRejects(
      () => run(`${tmp}/wide.npy`),
      DatasetError,
      /wide\.npy: the samples have shape \[5, 17\] but the model expects \[N, 16\]/,
    );
    await writeNpy(`${tmp}/flat.npy`, { data: new Float32Array(16), shape: [16], dtype: "float32" });
    await assertRejects(
      () => run(`${tmp}/flat.npy`),
      DatasetError,
      /flat\.npy: .*shape \[16\] .*expects \[N, 16\]/,
    );
    await writeNpy(`${tmp}/ok.npy`, { data: new Float32Array(2 * 16), shape: [2, 16], dtype: "float32" });
    assertEquals(await run(`${tmp}/ok.npy`), 0);
    assertEquals((await readNpy(`${tmp}/y.npy`)).shape[0], 2);
    assertEquals([...Deno.readDirSync(tmp)].map((e) => e.name).sort(), [
      "flat.npy",
      "ok.npy",
      "wide.npy",
      "y.npy",
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** A protocol 2 pickle of `body` opcodes followed by STOP. */
function pickle(...body: number[][]): Uint8Array {
  return new Uint8Array([0x80, 2, ...body.flat(), 0x2e]);
}

Deno.test("pickle: lists nested 1,000 deep load, 1,001 deep and a list holding itself are refused", () => {
  // MARK × n, EMPTY_LIST, LIST × n: n + 1 lists nested in one another.
  const nested = (n: number) => pickle(new Array(n).fill(0x28), [0x5d], new Array(n).fill(0x6c));
  let v = readPickle(nested(999), "ok.pkl");
  let levels = 0;
  while (Array.isArray(v)) [v, levels] = [v[0], levels + 1];
  assertEquals(levels, 1000);
  const refused = /deep\.pkl: pickle byte \d+: containers nested more than 1000 levels deep/;
  for (const n of [1000, 200_000]) {
    const err = (() => {
      try {
        readPickle(nested(n), "deep.pkl");
      } catch (e) {
        return e;
      }
    })();
    assertTrue(err instanceof ModelFormatError, `n=${n}: ${err}`);
    assertMatch(err.message, refused);
  }
  // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND: a list that contains itself.
  const cyclic = pickle([0x5d, 0x71, 0, 0x68, 0, 0x61]);
  let cycleErr: unknown;
  try {
    readPickle(cyclic, "cycle.pkl");
  } catch (e) {
    cycleErr = e;
  }
  assertTrue(cycleErr instanceof ModelFormatError, String(cycleErr));
  assertMatch(cycleErr.message, /cycle\.pkl: .*or a container holding itself/);
});

Deno.test("pickle: a 300,000-byte Python 2 str (BINSTRING) and APPENDS of 300,000 items do not overflow the stack", () => {
  const n = 300_000;
  const len = [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0];
  const bytes = Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
  const s = readPickle(pickle([0x54, ...len], bytes), "str.pkl") as string;
  assertEquals(s.length, n);
  assertEquals([s.charCodeAt(1), s.charCodeAt(37), s.charCodeAt(n - 1)], [
    7,
    259 & 0xff,
    ((n - 1) * 7) & 0xff,
  ]);
  // EMPTY_LIST, MARK, (NONE × n), APPENDS
  const list = readPickle(pickle([0x5d, 0x28], new Array(n).fill(0x4e), [0x65]), "list.pkl") as unknown[];
  assertEquals(list.length, n);
});
