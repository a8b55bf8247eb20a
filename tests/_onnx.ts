/**
 * Helpers of the ONNX/PyTorch tests: reference data under testdata/onnx,
 * running an input model and its parsed (channels-last) model, and the
 * optional onnxruntime-node reference (tests/_ort.ts).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { NDArray } from "../lib/io/ndarray.ts";
import { readNpy } from "../lib/io/npy.ts";
import type { InputModel } from "../lib/importers/input_model.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";

/** Folder of the committed ONNX test data. */
export const ONNX_TESTDATA = new URL("../testdata/onnx/", import.meta.url).pathname;

/** Read `testdata/onnx/<name>` as a float32 array (data + shape). */
export async function readRef(name: string): Promise<{ data: Float32Array; shape: number[] }> {
  const a: NDArray = await readNpy(ONNX_TESTDATA + name);
  return { data: Float32Array.from(a.data as ArrayLike<number>), shape: a.shape };
}

/** Run a TF.js model on one float32 batch and return its (first) output. */
export async function run(
  model: tf.LayersModel,
  x: { data: Float32Array; shape: number[] },
): Promise<Float32Array> {
  await initBackend();
  const t = tf.tensor(x.data, x.shape, "float32");
  const y = model.predict(t) as tf.Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose([t, y]);
  return out;
}

/** NCHW/NCW batch → NHWC/NWC (the parsed model's layout); rank ≤ 2 unchanged. */
export function toChannelsLast(
  x: { data: Float32Array; shape: number[] },
): { data: Float32Array; shape: number[] } {
  if (x.shape.length <= 2) return x;
  const perm = [0, ...x.shape.slice(2).map((_, i) => i + 2), 1];
  const t = tf.tensor(x.data, x.shape, "float32");
  const p = tf.transpose(t, perm);
  const data = p.dataSync() as Float32Array;
  tf.dispose([t, p]);
  return { data: Float32Array.from(data), shape: perm.map((i) => x.shape[i]) };
}

/** Parse an input model with the ONNX parser and build the channels-last parsed model. */
export function parseToModel(input: InputModel): tf.LayersModel {
  const parser = new ModelParser(input, {});
  parser.parse();
  return parser.buildParsedModel();
}

export { loadOrt, type Ort } from "./_ort.ts";

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomInput(shape: number[], seed = 1): { data: Float32Array; shape: number[] } {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, shape };
}
