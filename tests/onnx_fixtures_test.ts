/**
 * The real-world ONNX files of ../shared/fixtures/onnx (old converters,
 * opsets 6–7 and IR version 1): each one either loads and matches
 * onnxruntime-node on random inputs, or fails with a clear error naming
 * the file and the node.
 */
import { assertClose, assertEquals, assertMatch } from "./_assert.ts";
import { fixturesDir } from "./_assert.ts";
import { loadOrt, parseToModel, randomInput, readRef, run, toChannelsLast } from "./_onnx.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { loadOnnxModel } from "../lib/importers/onnx/load.ts";

const dir = fixturesDir();
if (!dir) console.log("onnx fixtures tests skipped: ../shared/fixtures is absent");

/**
 * Expected outcome of each fixture: outputs matched against onnxruntime-node,
 * or against a committed numpy/torch reference (`ref`, from
 * testdata/onnx/gen_fixture_refs.py, for files onnxruntime refuses; `stride`:
 * the reference keeps every stride-th row and column), or the error's message.
 */
const EXPECTED: Record<string, { batch: number; ref?: string; stride?: number } | RegExp> = {
  // Keras Conv2D via onnxmltools, NHWC input transposed inside the graph, Flatten(axis=0) at batch 1
  "hls4ml_conv2d_small_keras.onnx": { batch: 1 },
  // PyTorch 0.3 MLP with BatchNorm1d as Unsqueeze → BatchNormalization → Squeeze, opset 6
  "hls4ml_three_layer_bn_pytorch.onnx": { batch: 4, ref: "fixtures/hls4ml_three_layer_bn_pytorch.out.npy" },
  // Keras Dense model ending in a sigmoid: an SNN has no sigmoid neuron
  "hls4ml_two_layer_keras.onnx": /node 'Sigmoid' \(op_type Sigmoid, opset 7\): unsupported operator/,
  // PyTorch 0.2 super-resolution net, IR version 1 without opset_import, bias as broadcast Add, pixel shuffle
  "onnx-tutorials_super_resolution_pytorch0.2.onnx": {
    batch: 1,
    ref: "fixtures/onnx-tutorials_super_resolution_pytorch0.2.out8.npy",
    stride: 8,
  },
};

for (const [file, expected] of Object.entries(EXPECTED)) {
  Deno.test({
    name: `onnx fixture ${file}: ${
      expected instanceof RegExp ? "clear error" : "outputs match the reference"
    }`,
    ignore: !dir,
    fn: async () => {
      await initBackend();
      const path = `${dir}onnx/${file}`;
      if (expected instanceof RegExp) {
        let caught: unknown;
        try {
          await loadOnnxModel(path);
        } catch (err) {
          caught = err;
        }
        assertEquals(
          caught instanceof UnsupportedLayerError,
          true,
          `expected UnsupportedLayerError, got ${caught}`,
        );
        assertMatch((caught as Error).message, new RegExp(file.replace(/[.]/g, "\\.")));
        assertMatch((caught as Error).message, expected);
        return;
      }
      const input = await loadOnnxModel(path);
      const shape = [expected.batch, ...(input.model.inputs[0].shape.slice(1) as number[])];
      const x = randomInput(shape, 7);
      let ref: Float32Array;
      if (expected.ref) {
        ref = (await readRef(expected.ref)).data;
      } else {
        const ort = await loadOrt();
        if (typeof ort === "string") {
          console.log(`  ${file}: loaded; onnxruntime comparison skipped (${ort})`);
          return;
        }
        const session = await ort.InferenceSession.create(path);
        const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x.data, shape) };
        ref = Float32Array.from((await session.run(feeds))[session.outputNames[0]].data);
      }
      const outShape = input.model.outputs[0].shape as number[];
      const pick = (y: Float32Array) => (expected.stride ? everyNth(y, outShape, expected.stride) : y);
      assertClose(pick(await run(input.model, x)), ref, {
        rtol: 1e-4,
        atol: 1e-5,
        msg: `${file} input model`,
      });
      // The parsed model computes channels-last: NHWC in, NHWC out (NCHW order restored for the comparison).
      const channelsFirst = input.dataFormat === "channels_first";
      const parsedOut = await run(parseToModel(input), channelsFirst ? toChannelsLast(x) : x);
      const back = channelsFirst && outShape.length === 4 ? toChannelsFirst(parsedOut, outShape) : parsedOut;
      assertClose(pick(back), ref, { rtol: 1e-4, atol: 1e-5, msg: `${file} parsed model` });
    },
  });
}

/** An NHWC output of batch 1 back in NCHW order (`shape` is the NCHW shape). */
function toChannelsFirst(y: Float32Array, shape: number[]): Float32Array {
  const [c, h, w] = shape.slice(1);
  const out = new Float32Array(y.length);
  for (let i = 0; i < h * w; i++) for (let ch = 0; ch < c; ch++) out[ch * h * w + i] = y[i * c + ch];
  return out;
}

/** `y[:, :, ::n, ::n]` of an NCHW output (batch 1 in the file's shape). */
function everyNth(y: Float32Array, shape: number[], n: number): Float32Array {
  const [c, h, w] = shape.slice(1);
  const out: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h; i += n) for (let j = 0; j < w; j += n) out.push(y[(ch * h + i) * w + j]);
  }
  return Float32Array.from(out);
}
