/**
 * Child process of tests/parsing_roundtrip_test.ts: a fresh process that has
 * registered nothing loads each saved model file given on the command line
 * through the Keras library, and prints, as one JSON line, each model's
 * activation strings and its outputs on the input in `<dir>/x.json`.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { describeError } from "../lib/errors.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend();

const [dir, ...names] = Deno.args;
const x = JSON.parse(await Deno.readTextFile(`${dir}/x.json`)) as number[];
const out: Record<string, { activations: string[]; y: number[] } | { error: string }> = {};
for (const name of names) {
  try {
    const input = await getModelLibrary("keras").load(`${dir}/${name}`);
    const activations = input.model.layers
      .map((l) => (l.getConfig() as { activation?: unknown }).activation)
      .filter((a): a is string => typeof a === "string");
    const t = tf.tensor2d(x, [1, x.length]);
    const y = input.model.predict(t) as tf.Tensor;
    out[name] = { activations, y: Array.from(await y.data()) };
    tf.dispose([t, y]);
  } catch (err) {
    out[name] = { error: describeError(err, true) };
  }
}
console.log(JSON.stringify(out));
