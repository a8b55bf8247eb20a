import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { absorbBnParameters, type KernelKind, paddingString } from "../lib/parsing/utils.ts";
import { binarize, parseCustomActivation, reducePrecision } from "../lib/layers/activations.ts";
import { flatIndexMap } from "../lib/parsing/layout.ts";
import { ModelFormatError } from "../lib/errors.ts";
import type { DataFormat } from "../lib/importers/input_model.ts";

interface BnCase {
  name: string;
  axis: number;
  data_format: DataFormat;
  kind: KernelKind;
  w: number[];
  w_shape: number[];
  b: number[];
  mean: number[];
  var_eps_sqrt_inv: number[];
  gamma: number[];
  beta: number[];
  w_bn: number[];
  b_bn: number[];
}

const data = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/parsing/bn_cases.json", import.meta.url)),
);
const cases: BnCase[] = data.cases;

for (const c of cases) {
  Deno.test(`absorbBnParameters matches numpy: ${c.name}`, () => {
    const f = (a: number[]) => Float32Array.from(a);
    const [w, b] = absorbBnParameters(
      { data: f(c.w), shape: c.w_shape, dtype: "float32" },
      { data: f(c.b), shape: [c.b.length], dtype: "float32" },
      f(c.mean),
      f(c.var_eps_sqrt_inv),
      f(c.gamma),
      f(c.beta),
      { axis: c.axis, imageDataFormat: c.data_format, kind: c.kind },
    );
    assertEquals(w.shape, c.w_shape);
    assertClose(w.data, c.w_bn, { rtol: 1e-6, atol: 1e-6, msg: "weights" });
    assertClose(b.data, c.b_bn, { rtol: 1e-6, atol: 1e-6, msg: "bias" });
  });
}

Deno.test("absorbBnParameters refuses a non-channel axis with a clear error", async () => {
  const w = { data: new Float32Array(3 * 3 * 2 * 4), shape: [3, 3, 2, 4], dtype: "float32" as const };
  const b = { data: new Float32Array(4), shape: [4], dtype: "float32" as const };
  const v = new Float32Array(4);
  await assertRejects(
    () => absorbBnParameters(w, b, v, v, v, v, { axis: 1, imageDataFormat: "channels_last" }),
    ModelFormatError,
    /axis 1 is not the channel axis \(3\)/,
  );
});

Deno.test("paddingString: valid, same, full, strings pass through, others rejected", async () => {
  assertEquals(paddingString([0, 0], [3, 3]), "valid");
  assertEquals(paddingString([1, 1], [3, 3]), "same");
  assertEquals(paddingString([2, 2], [3, 3]), "full");
  assertEquals(paddingString("causal", [3]), "causal");
  await assertRejects(
    () => paddingString([1, 0], [3, 3]),
    ModelFormatError,
    /none of 'valid', 'same', 'full'/,
  );
});

Deno.test("reducePrecision (Q1.2, Q2.5) and binarize match the toolbox's numpy functions", () => {
  const p = data.precision as Record<string, number[]>;
  const x = Float32Array.from(p.x);
  assertEquals(Array.from(reducePrecision(x, 1, 2)), p.q1_2);
  assertEquals(Array.from(reducePrecision(x, 2, 5)), p.q2_5);
  assertEquals(Array.from(binarize(x)), p.binarized);
});

Deno.test("custom activation strings", () => {
  assertEquals(parseCustomActivation("relu_Q1.15"), { kind: "quantized_relu", m: 1, f: 15 });
  assertEquals(parseCustomActivation("clamped_relu_0.1_6.0"), {
    kind: "clamped_relu",
    threshold: 0.1,
    maxValue: 6,
  });
  assertEquals(parseCustomActivation("clamped_relu_0.1_None"), {
    kind: "clamped_relu",
    threshold: 0.1,
    maxValue: null,
  });
  assertEquals(parseCustomActivation("noisy_softplus_0.17_1"), { kind: "noisy_softplus", k: 0.17, sigma: 1 });
  assertEquals(
    parseCustomActivation("relu__q1.4"),
    { kind: "quantized_relu", m: 1, f: 4 },
    "TF.js snake_case form",
  );
  assertEquals(parseCustomActivation("relu"), undefined);
});

Deno.test("flatIndexMap: HWC position → CHW flat index", () => {
  // S = [C=2, H=1, W=3] (source CHW); parsed = transpose(S, [1, 2, 0]) = HWC.
  const m = flatIndexMap([2, 1, 3], [1, 2, 0], [0, 1, 2]);
  // parsed order (h, w, c): (0,0,0)=0 (0,0,1)=3 (0,1,0)=1 (0,1,1)=4 (0,2,0)=2 (0,2,1)=5
  assertEquals(Array.from(m), [0, 3, 1, 4, 2, 5]);
  assertTrue(flatIndexMap([2, 3], [0, 1], [0, 1]).every((v, i) => v === i));
});
