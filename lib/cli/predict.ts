/**
 * `snntoolbox predict MODEL --input X.npy --output Y.npy [--original]`: run
 * the parsed model (or the unparsed input model) on samples given in the
 * source model's own layout and write float32 outputs in that layout.
 *
 * @module
 */
import { parseCommandArgs } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import { DatasetError, UsageError } from "../errors.ts";
import { initBackend } from "../backend/mod.ts";
import { loadInputModel } from "../parsing/files.ts";
import { createParser } from "../parsing/model_parser.ts";
import { predictModel } from "../parsing/evaluate.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import type { LayersModel } from "../../deps.ts";

const USAGE =
  `Usage: snntoolbox predict MODEL --input X.npy --output Y.npy [--original] [--lib NAME] [--batch-size N]

Run the parsed model on X (samples in MODEL's own layout, e.g. NCHW for
channels_first models; batch first) and write its outputs to Y as float32.

Options:
  --input X.npy    input samples
  --output Y.npy   where to write the outputs (atomically)
  --original       run the unparsed input model instead of the parsed one
  --lib NAME       model library; default from the extension
  --batch-size N   samples per forward pass (default 32)`;

function parseCliArgs(args: string[]) {
  return parseCommandArgs("predict", args, {
    input: { type: "string" },
    output: { type: "string" },
    original: { type: "boolean", default: false },
    lib: { type: "string" },
    "batch-size": { type: "string" },
  }, USAGE);
}

/**
 * The samples in `file` must fit the input model's first input (in the
 * model's own layout, batch first; unknown model dimensions match anything).
 */
function checkInputShape(file: string, shape: readonly number[], model: LayersModel): void {
  const expected = model.inputs[0]?.shape.slice(1) ?? [];
  const found = shape.slice(1);
  const fits = found.length === expected.length && expected.every((d, i) => d === null || d === found[i]);
  if (fits && shape.length > 0) return;
  const show = (dims: readonly (number | null)[]) => `[${dims.map((d) => d ?? "N").join(", ")}]`;
  throw new DatasetError(
    `${file}: the samples have shape ${show(shape)} but the model expects ${show([null, ...expected])} ` +
      `(batch first, in the model's own layout)`,
    { file },
  );
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCliArgs(args);
  if (positionals.length !== 1) throw new UsageError(`predict: expected one MODEL file\n${USAGE}`);
  if (!values.input || !values.output) {
    throw new UsageError(`predict: --input and --output are required\n${USAGE}`);
  }
  const batchSize = values["batch-size"] === undefined ? 32 : Number(values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`predict: --batch-size must be a positive integer, found '${values["batch-size"]}'`);
  }
  await initBackend();
  const x = await readNpy(values.input);
  const { inputModel } = await loadInputModel(positionals[0], values.lib);
  checkInputShape(values.input, x.shape, inputModel.model);
  let y;
  if (values.original) {
    y = await predictModel(inputModel.model, x, { batchSize });
  } else {
    const parser = createParser(inputModel, {});
    parser.parse();
    const model = parser.buildParsedModel();
    y = await predictModel(model, x, {
      batchSize,
      inputPerm: parser.inputPerm,
      outputPerm: parser.outputPerms[0],
    });
  }
  await writeNpy(values.output, y);
  if (!ctx.quiet) ctx.out(`wrote ${values.output} [${y.shape.join(", ")}] float32`);
  return 0;
}

/** The `predict` command. */
export const predictCommand: Command = {
  name: "predict",
  summary: "run the parsed (or --original) model on X.npy and write Y.npy",
  usage: USAGE,
  run,
};
