/**
 * ONNX input library on small PyTorch models (testdata/onnx/gen_models.py):
 * every pattern at opsets 9/11/13/17 against PyTorch's outputs, both the
 * input model (NCHW) and the parsed model (NHWC); hand-built graphs (opset 7
 * attribute forms, typed initializer fields, external data); clear errors.
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { ONNX_TESTDATA, parseToModel, readRef, run, toChannelsLast } from "./_onnx.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ModelFormatError, UnsupportedLayerError } from "../lib/errors.ts";
import { buildOnnxInputModel, loadOnnxModel } from "../lib/importers/onnx/load.ts";
import { loadPytorchModel, resolvePytorchModelPath } from "../lib/importers/pytorch/load.ts";
import { decodeOnnxModel, readOnnxModel } from "../lib/importers/onnx/proto.ts";

const MODELS = ["basic", "groups", "pools", "residual", "conv1d", "mlp"];
const OPSETS = [9, 11, 13, 17];
const TOL = { rtol: 1e-4, atol: 1e-5 };

for (const name of MODELS) {
  Deno.test(`onnx ${name}: input and parsed model match PyTorch at opsets ${OPSETS.join("/")}`, async () => {
    await initBackend();
    const x = await readRef(`${name}.in.npy`);
    const y = await readRef(`${name}.out.npy`);
    for (const opset of OPSETS) {
      const input = await loadOnnxModel(`${ONNX_TESTDATA}${name}_op${opset}.onnx`);
      assertEquals(input.library, "onnx");
      assertEquals(input.dataFormat, "channels_first");
      assertEquals(input.metadata.opset, String(opset));
      assertClose(await run(input.model, x), y.data, { ...TOL, msg: `${name} opset ${opset} input model` });
      const parsed = parseToModel(input);
      assertClose(await run(parsed, toChannelsLast(x)), y.data, {
        ...TOL,
        msg: `${name} opset ${opset} parsed`,
      });
    }
  });
}

Deno.test("onnx hand-built opset-7 graph: auto_pad, Clip/Pad/Upsample attributes, Gemm alpha/beta, typed fields", async () => {
  const x = await readRef("handmade.in.npy");
  const y = await readRef("handmade.out.npy");
  const input = await loadOnnxModel(`${ONNX_TESTDATA}handmade_op7.onnx`);
  assertEquals(input.metadata.ir_version, "3");
  assertClose(await run(input.model, x), y.data, { ...TOL, msg: "input model" });
  assertClose(await run(parseToModel(input), toChannelsLast(x)), y.data, { ...TOL, msg: "parsed model" });
  const types = input.model.layers.map((l) => l.getClassName());
  assertTrue(!types.includes("Dropout"), "Dropout and Identity are removed");
  assertTrue(types.includes("ReLU"), "Clip(0, 2) becomes a clamped ReLU layer");
  const relu = input.model.layers.find((l) => l.getClassName() === "ReLU")!;
  assertEquals((relu.getConfig() as { maxValue?: number }).maxValue, 2);
});

Deno.test("onnx external data: read from the file beside the model; a path outside the folder is refused", async () => {
  const x = await readRef("handmade.in.npy");
  const y = await readRef("handmade.out.npy");
  const input = await loadOnnxModel(`${ONNX_TESTDATA}external/handmade_ext.onnx`);
  assertClose(await run(input.model, x), y.data, TOL);
  await assertRejects(
    () => loadOnnxModel(`${ONNX_TESTDATA}external/escape.onnx`),
    ModelFormatError,
    /escape\.onnx.*'w1'.*outside the model's folder/,
  );
});

Deno.test("onnx external data: a data file shorter than the tensor needs is refused before allocation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${ONNX_TESTDATA}external/handmade_ext.onnx`, `${dir}/m.onnx`);
    const w = await Deno.readFile(`${ONNX_TESTDATA}external/handmade_ext.weights`);
    await Deno.writeFile(`${dir}/handmade_ext.weights`, w.subarray(0, 100));
    await assertRejects(
      () => loadOnnxModel(`${dir}/m.onnx`),
      ModelFormatError,
      /m\.onnx: initializer .* which has 100/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onnx unsupported operators: one error naming every node, op_type and opset", async () => {
  const err = await assertRejects(
    () => loadOnnxModel(`${ONNX_TESTDATA}unsupported_op13.onnx`),
    UnsupportedLayerError,
    /unsupported_op13\.onnx: 4 ONNX nodes/,
  );
  for (const [node, op] of [["leaky", "LeakyRelu"], ["sig", "Sigmoid"], ["tanh", "Tanh"], ["erf", "Erf"]]) {
    assertMatch(err.message, new RegExp(`node '${node}' \\(op_type ${op}, opset 13\\)`));
  }
});

Deno.test("onnx grouped convolution: one block-diagonal Conv2D; a group count that does not divide the channels is refused", async () => {
  await initBackend();
  const input = await loadOnnxModel(`${ONNX_TESTDATA}grouped_op13.onnx`);
  const conv = input.model.layers.find((l) => l.name === "grouped_conv")!;
  assertEquals(conv.getClassName(), "Conv2D");
  const kernel = conv.getWeights()[0];
  assertEquals(kernel.shape, [3, 3, 4, 4]);
  const w = kernel.arraySync() as number[][][][];
  // output channels 0-1 read input channels 0-1 only, 2-3 read 2-3 only
  for (const ky of w) {
    for (const kx of ky) {
      assertEquals([kx[2][0], kx[3][0], kx[2][1], kx[3][1], kx[0][2], kx[1][2], kx[0][3], kx[1][3]], [
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
      ]);
    }
  }
  const m = await readOnnxModel(`${ONNX_TESTDATA}grouped_op13.onnx`);
  m.inputs[0].shape = [null, 6, 5, 5];
  m.nodes[0].attributes.set("group", 3);
  await assertRejects(
    () => buildOnnxInputModel(m),
    UnsupportedLayerError,
    /node 'grouped_conv' \(op_type Conv, opset 13\): group 3 with 6 input and 4 output channels; the group count must divide both/,
  );
});

Deno.test("onnx bad files: ModelFormatError naming the file", async () => {
  await assertRejects(
    () => loadOnnxModel(`${ONNX_TESTDATA}basic.in.npy`),
    ModelFormatError,
    /basic\.in\.npy: not/,
  );
  await assertRejects(
    () => loadOnnxModel(`${ONNX_TESTDATA}missing.onnx`),
    ModelFormatError,
    /missing\.onnx: cannot read/,
  );
  const bytes = await Deno.readFile(`${ONNX_TESTDATA}basic_op13.onnx`);
  let threw: unknown;
  try {
    decodeOnnxModel(bytes.subarray(0, bytes.length - 700), "cut.onnx");
  } catch (err) {
    threw = err;
  }
  assertTrue(threw instanceof ModelFormatError, `truncated file: ${threw}`);
  assertMatch((threw as Error).message, /^cut\.onnx: /);
});

Deno.test("pytorch library: NAME resolves to NAME.onnx; a lone .pth shows the torch.onnx.export call", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${ONNX_TESTDATA}mlp_op13.onnx`, `${dir}/net.onnx`);
    assertEquals(resolvePytorchModelPath(`${dir}/net`), `${dir}/net.onnx`);
    assertEquals(resolvePytorchModelPath(`${dir}/net.pth`), `${dir}/net.onnx`);
    const m = await loadPytorchModel(`${dir}/net`);
    assertEquals(m.library, "pytorch");
    await Deno.writeFile(`${dir}/cnn.pth`, new Uint8Array([0x80, 2]));
    const err = await assertRejects(
      () => loadPytorchModel(`${dir}/cnn`, { inputShape: [1, 28, 28] }),
      ModelFormatError,
    );
    assertMatch(err.message, /cnn\.pth: a PyTorch checkpoint/);
    assertMatch(
      err.message,
      /torch\.onnx\.export\(model, torch\.randn\(1, 1, 28, 28\), "cnn\.onnx", input_names=\["input"\], output_names=\["output"\], dynamic_axes=\{"input": \{0: "batch"\}, "output": \{0: "batch"\}\}\)/,
    );
    await assertRejects(
      () => loadPytorchModel(`${dir}/none`),
      ModelFormatError,
      /none\.onnx: no such PyTorch model/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onnx opset newer than 21: ModelFormatError naming the opset", async () => {
  const m = await readOnnxModel(`${ONNX_TESTDATA}mlp_op13.onnx`);
  m.opset = 22;
  await assertRejects(
    () => buildOnnxInputModel(m),
    ModelFormatError,
    /mlp_op13\.onnx: default-domain opset 22 is newer/,
  );
});

Deno.test("onnx symbolic input dims: need LoadOptions.inputShape, then run", async () => {
  const m = await readOnnxModel(`${ONNX_TESTDATA}mlp_op13.onnx`);
  m.inputs[0].shape = [null, null];
  await assertRejects(
    () => buildOnnxInputModel(m),
    ModelFormatError,
    /graph input 'input' has shape \[\?, \?\]/,
  );
  const x = await readRef("mlp.in.npy");
  const y = await readRef("mlp.out.npy");
  const input = await buildOnnxInputModel(m, { inputShape: [12] });
  assertClose(await run(input.model, x), y.data, TOL);
});

Deno.test("onnx graph reading an undefined value: ModelFormatError naming node and value", async () => {
  const m = await readOnnxModel(`${ONNX_TESTDATA}mlp_op13.onnx`);
  m.nodes[1].inputs[0] = "nowhere";
  await assertRejects(
    () => buildOnnxInputModel(m),
    ModelFormatError,
    /mlp_op13\.onnx: node '.*' reads 'nowhere'/,
  );
});
