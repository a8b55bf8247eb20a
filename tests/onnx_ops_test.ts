/**
 * The PyTorch idioms of the torchvision zoo as small ONNX models
 * (testdata/onnx/gen_ops.py) at opsets 11/13/17, against PyTorch's outputs,
 * input model (NCHW) and parsed model (NHWC): ceil-mode and 1-D pooling,
 * ReduceMean/ReduceMax as global pooling, grouped/dilated/strided
 * convolutions, channel shuffle and split, constant Mul/Div/Add/Sub,
 * BatchNormalization of rank-2 tensors and between Transposes (keras2onnx
 * style), LogSoftmax; multiplicative gating refused with one error.
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { ONNX_TESTDATA, parseToModel, readRef, run, toChannelsLast } from "./_onnx.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { loadOnnxModel } from "../lib/importers/onnx/load.ts";

const TOL = { rtol: 1e-4, atol: 1e-5 };

/** Index of the largest value of each row. */
function argmax(y: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < y.length / classes; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (y[i * classes + c] > y[i * classes + best]) best = c;
    out.push(best);
  }
  return out;
}

for (const name of ["ceilpool", "pool1d", "reduce", "grouped", "shuffle"]) {
  Deno.test(`onnx ops ${name}: input and parsed model match PyTorch at opsets 11/13/17`, async () => {
    await initBackend();
    const x = await readRef(`ops_${name}.in.npy`);
    const y = await readRef(`ops_${name}.out.npy`);
    for (const opset of [11, 13, 17]) {
      const input = await loadOnnxModel(`${ONNX_TESTDATA}ops_${name}_op${opset}.onnx`);
      assertClose(await run(input.model, x), y.data, { ...TOL, msg: `${name} opset ${opset} input model` });
      const parsed = parseToModel(input);
      assertClose(await run(parsed, toChannelsLast(x)), y.data, {
        ...TOL,
        msg: `${name} opset ${opset} parsed`,
      });
    }
  });
}

Deno.test("onnx ops grouped: block-diagonal Conv2D and DepthwiseConv2D, no refusal", async () => {
  await initBackend();
  const input = await loadOnnxModel(`${ONNX_TESTDATA}ops_grouped_op13.onnx`);
  const types = input.model.layers.map((l) => l.getClassName());
  assertEquals(types.filter((t) => t === "DepthwiseConv2D").length, 1);
  assertEquals(types.filter((t) => t === "Conv2D").length, 3);
});

Deno.test("onnx ops shuffle: channel shuffle and split become 1x1 convolutions or fold, no Permute/Reshape", async () => {
  await initBackend();
  const input = await loadOnnxModel(`${ONNX_TESTDATA}ops_shuffle_op13.onnx`);
  const types = new Set(input.model.layers.map((l) => l.getClassName()));
  assertTrue(!types.has("Permute") && !types.has("Reshape"), `layer types: ${[...types]}`);
});

Deno.test("onnx ops affine: constants fold or become affine layers; LogSoftmax output predicts like PyTorch", async () => {
  await initBackend();
  const x = await readRef("ops_affine.in.npy");
  const y = await readRef("ops_affine.out.npy");
  const softmax = y.data.map(Math.exp); // PyTorch's log_softmax → softmax
  for (const opset of [11, 13, 17]) {
    const input = await loadOnnxModel(`${ONNX_TESTDATA}ops_affine_op${opset}.onnx`);
    assertMatch(input.metadata.notes ?? "", /LogSoftmax .* converted as Softmax/);
    const out = await run(input.model, x);
    assertClose(out, softmax, { ...TOL, msg: `affine opset ${opset} input model` });
    assertEquals(argmax(out, 5), argmax(y.data, 5));
    const parsed = await run(parseToModel(input), toChannelsLast(x));
    assertClose(parsed, softmax, { ...TOL, msg: `affine opset ${opset} parsed` });
  }
});

Deno.test("onnx ops keras2onnx style: Transpose pairs around BatchNormalization cancel, rank-2 BN", async () => {
  await initBackend();
  const x = await readRef("ops_nhwc.in.npy");
  const y = await readRef("ops_nhwc.out.npy");
  const input = await loadOnnxModel(`${ONNX_TESTDATA}ops_nhwc_op11.onnx`);
  assertEquals(input.dataFormat, "channels_last");
  assertClose(await run(input.model, x), y.data, { ...TOL, msg: "input model" });
  assertClose(await run(parseToModel(input), x), y.data, { ...TOL, msg: "parsed model" });
  const permutes = input.model.layers.filter((l) => l.getClassName() === "Permute").length;
  assertTrue(permutes <= 2, `${permutes} Permute layers: only the input and the flatten need one`);
});

Deno.test("onnx ops gating: SiLU, squeeze-and-excitation and HardSwish refused in one error saying why", async () => {
  await initBackend();
  for (const opset of [13, 17]) {
    const err = await assertRejects(
      () => loadOnnxModel(`${ONNX_TESTDATA}ops_gating_op${opset}.onnx`),
      UnsupportedLayerError,
    );
    assertMatch(err.message, /3 ONNX nodes cannot be converted/);
    assertMatch(err.message, /3 gate one signal by another — multiplicative gating/);
    assertMatch(err.message, /rate-coded spiking neuron/);
    assertMatch(err.message, /op_type Mul, opset \d+\): multiplies .* by the Sigmoid output of node/);
    const hardswish = opset >= 14 ? /op_type HardSwish/ : /by the HardSigmoid output of node/;
    assertMatch(err.message, hardswish);
    assertTrue(!/unsupported operator/.test(err.message), err.message);
  }
});
