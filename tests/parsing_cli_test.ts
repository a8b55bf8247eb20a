import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue, fixturesDir } from "./_assert.ts";
import { randomInput } from "./_parsing_helpers.ts";
import type { CommandContext } from "../lib/cli/command.ts";
import { parseCommand } from "../lib/cli/parse.ts";
import { predictCommand } from "../lib/cli/predict.ts";
import { inspectCommand } from "../lib/cli/inspect.ts";
import { readNpy, writeNpy } from "../lib/io/npy.ts";
import { UsageError } from "../lib/errors.ts";
import { loadKerasModel } from "../lib/importers/keras/load.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend();

const dir = fixturesDir();
if (!dir) console.log("parsing_cli_test: ../shared/fixtures is absent; skipping the CLI tests on fixtures");
const LENET = `${dir}keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5`;

function capture(): { ctx: CommandContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    ctx: { quiet: false, verbose: false, color: false, out: (l) => out.push(l), err: (l) => err.push(l) },
    out,
    err,
  };
}

Deno.test({
  name: "parse --json --no-save: the parsed layer table of the channels_first LeNet",
  ignore: !dir,
  async fn() {
    const { ctx, out } = capture();
    assertEquals(await parseCommand.run([LENET, "--json", "--no-save"], ctx), 0);
    const report = JSON.parse(out[out.length - 1]);
    assertEquals(report.input_shape, [28, 28, 1]);
    assertEquals(report.source_data_format, "channels_first");
    // Named as the Python toolbox names them: the index padded to the digits of the input model's layer
    // count (fewer than 10 layers: one digit), the shape as the channels_first model computes it.
    assertEquals(report.layers.map((l: { name: string }) => l.name), [
      "0Conv2D_6x24x24",
      "1MaxPooling2D_6x12x12",
      "2Conv2D_16x8x8",
      "3MaxPooling2D_16x4x4",
      "4Conv2D_120x4x4",
      "5Flatten_1920",
      "6Dense_84",
      "7Dense_10",
    ]);
    assertEquals(report.layers[7].activation, "softmax");
    assertEquals(report.layers[6].params, 1920 * 84 + 84);
  },
});

Deno.test({
  name: "parse writes <name>_parsed.h5 into --out and prints the table",
  ignore: !dir,
  async fn() {
    const tmp = await Deno.makeTempDir();
    try {
      const { ctx, out } = capture();
      assertEquals(
        await parseCommand.run([`${dir}keras-h5/snn_mnist_tiny_keras2.2.4.h5`, "--out", tmp], ctx),
        0,
      );
      assertMatch(out.join("\n"), /\b0Conv2D_\S+\s+Conv2D/);
      // The saved file loads back through our Keras library and computes what the parsed model computes.
      const back = await loadKerasModel(`${tmp}/snn_mnist_tiny_keras2.2.4_parsed.h5`);
      const lib = getModelLibrary("keras");
      const parser = createParser(await lib.load(`${dir}keras-h5/snn_mnist_tiny_keras2.2.4.h5`), {});
      parser.parse();
      const x = randomInput([2, 28, 28, 1], 3);
      const a = await predictModel(parser.buildParsedModel(), x);
      const b = await predictModel(back.model, x);
      assertEquals(Array.from(b.data), Array.from(a.data));
      assertEquals(back.model.layers.slice(1).map((l) => l.name), parser.layerList.map((l) => l.name));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "predict: parsed and --original outputs agree on NCHW input of a channels_first model",
  ignore: !dir,
  async fn() {
    const tmp = await Deno.makeTempDir();
    try {
      const x = randomInput([3, 1, 28, 28], 5);
      for (let i = 0; i < x.data.length; i++) (x.data as Float32Array)[i] = Math.abs(x.data[i] as number);
      await writeNpy(`${tmp}/x.npy`, x);
      const { ctx } = capture();
      assertEquals(
        await predictCommand.run([LENET, "--input", `${tmp}/x.npy`, "--output", `${tmp}/p.npy`], ctx),
        0,
      );
      assertEquals(
        await predictCommand.run(
          [LENET, "--input", `${tmp}/x.npy`, "--output", `${tmp}/o.npy`, "--original"],
          ctx,
        ),
        0,
      );
      const p = await readNpy(`${tmp}/p.npy`);
      const o = await readNpy(`${tmp}/o.npy`);
      assertEquals(p.shape, [3, 10]);
      assertEquals(p.dtype, "float32");
      assertClose(p.data as Float32Array, o.data as Float32Array, { rtol: 1e-4, atol: 1e-6 });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "inspect --json lists the input model's layers as loaded",
  ignore: !dir,
  async fn() {
    const { ctx, out } = capture();
    assertEquals(await inspectCommand.run([LENET, "--json"], ctx), 0);
    const report = JSON.parse(out[out.length - 1]);
    assertEquals(report.data_format, "channels_first");
    const types = report.layers.map((l: { type: string }) => l.type);
    assertTrue(types.includes("Dropout"), "the unparsed model still has its Dropout");
    const conv = report.layers.find((l: { type: string }) => l.type === "Conv2D");
    assertEquals(conv.data_format, "channels_first");
    assertEquals(conv.output_shape, [6, 24, 24]);
  },
});

Deno.test("parse/predict reject bad command lines with a usage error", async () => {
  const { ctx } = capture();
  await assertRejects(() => parseCommand.run([], ctx), UsageError, /expected one MODEL/);
  await assertRejects(
    () => predictCommand.run(["m.h5"], ctx),
    UsageError,
    /--input and --output are required/,
  );
  await assertRejects(() => parseCommand.run(["model.xyz"], ctx), UsageError, /--lib/);
});
