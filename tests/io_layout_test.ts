/**
 * The one implementation of array layouts (lib/io/layout.ts, used by the
 * ONNX, Caffe and Lasagne libraries) against numpy
 * (testdata/layout/layout.json, written by gen_layout.py): axis permutations
 * of rank 1 to 6, convolution kernels `[out, in, ...k]` → `[...k, in, out]`
 * with and without spatial flipping (1-D and 2-D), depthwise kernels and
 * dense matrices. Permutations move values without arithmetic: results are
 * compared exactly.
 */
import { assertEquals } from "./_assert.ts";
import { convKernelToTf, denseKernelToTf, depthwiseKernelToTf, transposeArray } from "../lib/io/layout.ts";

interface Cases {
  transpose: { shape: number[]; perm: number[]; x: number[]; y: number[] }[];
  conv: { shape: number[]; flip: boolean; x: number[]; y: number[]; yshape: number[] }[];
  depthwise: {
    shape: number[];
    channels: number;
    flip: boolean;
    x: number[];
    y: number[];
    yshape: number[];
  }[];
  dense: { outputs: number; inputs: number; x: number[]; y: number[] }[];
}

const cases = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/layout/layout.json", import.meta.url)),
) as Cases;

const f32 = (v: number[]): number[] => Array.from(Float32Array.from(v));

Deno.test("transposeArray: numpy transpose of ranks 1-6, float32 and float64", () => {
  for (const c of cases.transpose) {
    const what = `[${c.shape}] perm (${c.perm})`;
    assertEquals(Array.from(transposeArray(Float32Array.from(c.x), c.shape, c.perm)), f32(c.y), what);
    const y64 = transposeArray(Float64Array.from(c.x), c.shape, c.perm);
    assertEquals(y64 instanceof Float64Array, true, `${what}: keeps the array type`);
    assertEquals(Array.from(y64), c.y, `${what} (float64)`);
  }
});

Deno.test("convKernelToTf: [out, in, ...k] -> [...k, in, out], spatially flipped when asked (1-D and 2-D)", () => {
  for (const c of cases.conv) {
    const got = convKernelToTf(Float32Array.from(c.x), c.shape, c.flip);
    const what = `[${c.shape}] flip=${c.flip}`;
    assertEquals(got.shape, c.yshape, what);
    assertEquals(Array.from(got.data), f32(c.y), what);
  }
});

Deno.test("depthwiseKernelToTf: [channels*mult, 1, kh, kw] -> [kh, kw, channels, mult]", () => {
  for (const c of cases.depthwise) {
    const got = depthwiseKernelToTf(Float32Array.from(c.x), c.shape, c.channels, c.flip);
    const what = `[${c.shape}] channels=${c.channels} flip=${c.flip}`;
    assertEquals(got.shape, c.yshape, what);
    assertEquals(Array.from(got.data), f32(c.y), what);
  }
});

Deno.test("denseKernelToTf: [out, in] -> [in, out]", () => {
  for (const c of cases.dense) {
    const got = denseKernelToTf(Float32Array.from(c.x), c.outputs, c.inputs);
    assertEquals(got.shape, [c.inputs, c.outputs]);
    assertEquals(Array.from(got.data), f32(c.y));
  }
});
