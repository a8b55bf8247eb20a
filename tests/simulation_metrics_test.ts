/**
 * Classification and correlation measures against numpy
 * (testdata/simulation/gen_metrics.py): top-k by argsort with ties,
 * argmax guesses with -1 for undecided samples, Pearson coefficients with
 * the toolbox's filtering of hidden layers.
 */
import { decide, inTopK, sampleCorrelations } from "../lib/simulation/metrics.ts";
import { assertClose, assertEquals } from "./_assert.ts";

const ref = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/simulation/metrics_ref.json", import.meta.url)),
);
const rows = (ref.counts as number[]).length / 10;
const row = (i: number) => (ref.counts as number[]).slice(i * 10, (i + 1) * 10);

Deno.test("top-k membership equals numpy argsort[-k:] (ties, all-zero rows)", () => {
  for (const k of [1, 2, 5]) {
    const got = Array.from({ length: rows }, (_, i) => inTopK(row(i), ref.targets[i], k));
    assertEquals(got, ref.topk[String(k)], `k=${k}`);
  }
});

Deno.test("guesses equal numpy argmax, -1 without output spikes", () => {
  assertEquals(Array.from({ length: rows }, (_, i) => decide(row(i))), ref.guesses);
});

Deno.test("Pearson coefficients equal np.corrcoef (hidden layers filtered, output not)", () => {
  const rates = Float32Array.from(ref.rates);
  const acts = Float32Array.from(ref.activations);
  assertClose(sampleCorrelations(rates, acts, 3, true, ref.max_rate), ref.pearson_hidden, { rtol: 1e-5 });
  assertClose(sampleCorrelations(rates, acts, 3, false, ref.max_rate), ref.pearson_output, { rtol: 1e-5 });
});
