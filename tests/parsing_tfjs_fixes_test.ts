import { assertClose, assertEquals } from "./_assert.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { applyTfjsFixes } from "../lib/layers/tfjs_fixes.ts";

// TF.js 4.22 computes BatchNormalization on a non-last axis wrongly; the fix
// must give the textbook inference formula, computed here by a plain loop.
Deno.test("channels_first BatchNormalization computes gamma*(x-mean)/sqrt(var+eps)+beta on axis 1", async () => {
  await initBackend();
  const [c, h, w] = [3, 4, 5];
  const input = tf.input({ shape: [c, h, w] });
  const bn = tf.layers.batchNormalization({ axis: 1, epsilon: 0.001 });
  const model = tf.model({ inputs: input, outputs: bn.apply(input) as tf.SymbolicTensor });
  const gamma = [0.5, 2, -1], beta = [0.1, -0.2, 0.3], mean = [0.4, -1, 2], variance = [0.25, 4, 1.5];
  bn.setWeights([gamma, beta, mean, variance].map((v) => tf.tensor1d(v)));
  assertEquals(applyTfjsFixes(model), 1);
  assertEquals(applyTfjsFixes(model), 0, "idempotent");
  const n = 2;
  const xs = Float32Array.from({ length: n * c * h * w }, (_, i) => Math.sin(i * 0.37) * 3);
  const got = (model.predict(tf.tensor4d(xs, [n, c, h, w])) as tf.Tensor).dataSync();
  const expected = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const ch = Math.floor(i / (h * w)) % c;
    expected[i] = gamma[ch] * (xs[i] - mean[ch]) / Math.sqrt(variance[ch] + 0.001) + beta[ch];
  }
  assertClose(got, expected, { rtol: 1e-5, atol: 1e-5 });
});
