/**
 * The parser's settings in an experiment file: keys the toolbox reads without
 * listing them in its defaults (`[conversion] append_softmax`) and the port's
 * additions are accepted by updateSetup without an "is not a toolbox setting"
 * warning, and reach the parser; misspelled keys are still reported.
 */
import { assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { updateSetup } from "../lib/pipeline/setup.ts";
import { parserOptionsFromConfig } from "../lib/parsing/options.ts";
import { EXTRA_SETTINGS } from "../lib/config/defaults.ts";
import { ConfigError } from "../lib/errors.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { tf } from "../deps.ts";
import { asInputModel } from "./_parsing_helpers.ts";

async function experiment(ini: string): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "snntb_parser_options_" });
  for (const f of ["model.h5", "x_test.npz", "y_test.npz", "x_norm.npz"]) {
    await Deno.writeFile(`${dir}/${f}`, new Uint8Array([1]));
  }
  await Deno.writeTextFile(`${dir}/experiment.ini`, "[paths]\nfilename_ann = model\n" + ini);
  return { path: `${dir}/experiment.ini`, dir };
}

Deno.test("parser settings outside the toolbox's config_defaults: no warning, read by the parser", async () => {
  const { path, dir } = await experiment(
    "[conversion]\nappend_softmax = True\n[cell]\nquantize_bias = True\nweight_precision = Q2.3\n" +
      "[restrictions]\nskip_unsupported_layers = True\nskip_unsuported_layers = True\n",
  );
  try {
    const config = await updateSetup(path, { createLogDir: false });
    assertEquals(config.warnings.length, 1, config.warnings.join("\n"));
    assertMatch(config.warnings[0], /\[restrictions\] skip_unsuported_layers is not a toolbox setting/);
    const opts = parserOptionsFromConfig(config);
    assertEquals(
      [opts.appendSoftmax, opts.quantizeBias, opts.weightPrecision, opts.skipUnsupported],
      [true, true, "Q2.3", true],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("absent parser settings take the EXTRA_SETTINGS defaults (all off, no weight precision)", async () => {
  const { path, dir } = await experiment("[cell]\nweight_precision =\nquantize_weights = True\n");
  try {
    await initBackend();
    const config = await updateSetup(path, { createLogDir: false });
    assertEquals(config.warnings, []);
    const opts = parserOptionsFromConfig(config);
    assertEquals(opts.weightPrecision, undefined, "an empty weight_precision is unset");
    assertTrue(!opts.skipUnsupported && !opts.appendSoftmax && !opts.quantizeBias);
    assertEquals(EXTRA_SETTINGS.restrictions.skip_unsupported_layers, "False");
    // quantize_weights without any Qm.f: the parser names both settings.
    const input = tf.input({ shape: [3] });
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor,
    });
    const parser = new ModelParser(asInputModel(model), config);
    await assertRejects(
      () => Promise.resolve().then(() => parser.parse()),
      ConfigError,
      /weight_precision is not set/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
