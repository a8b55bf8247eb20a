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
import { loadInputModelForData } from "../parsing/files.ts";
import { createParser } from "../parsing/model_parser.ts";
import { predictModel } from "../parsing/evaluate.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { type LayersModel, tf } from "../../deps.ts";
import { type NDArray, toFloat32 } from "../io/ndarray.ts";
import { readNir } from "../io/nir_read.ts";
import { isNirFile } from "../pipeline/run.ts";
import { simulateOutputCounts, spikingModelFromNir } from "../simulation/nir.ts";

const USAGE =
  `Usage: snntoolbox predict MODEL --input X.npy --output Y.npy [--original] [--lib NAME] [--batch-size N]
       snntoolbox predict GRAPH.nir --input X.npy --output Y.npy [--duration T] [--dt DT] [--batch-size N]

Run the parsed model on X (samples in MODEL's own layout, e.g. NCHW for
channels_first models; batch first) and write its outputs to Y as float32.
A model that does not state its input shape (a Caffe net fed by a Data
layer) takes the shape of the samples.
A NIR graph is simulated as a spiking network (X channels-first, as NIR
lays tensors out; each sample the analog input current for the whole
simulation): Y holds the output neurons' spike counts.

Options:
  --input X.npy    input samples
  --output Y.npy   where to write the outputs (atomically)
  --original       run the unparsed input model instead of the parsed one
  --lib NAME       model library; default from the extension
  --batch-size N   samples per forward pass (default 32)
  --duration T     NIR graph: simulated ms per sample (default: the graph's metadata, else 200)
  --dt DT          NIR graph: time step in ms (default: the graph's metadata, else 1)`;

function parseCliArgs(args: string[]) {
  return parseCommandArgs("predict", args, {
    input: { type: "string" },
    output: { type: "string" },
    original: { type: "boolean", default: false },
    lib: { type: "string" },
    "batch-size": { type: "string" },
    duration: { type: "string" },
    dt: { type: "string" },
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
  if (isNirFile(positionals[0])) {
    const y = await predictNir(positionals[0], values.input, x, {
      batchSize,
      duration: values.duration,
      dt: values.dt,
    });
    await writeNpy(values.output, y);
    if (!ctx.quiet) ctx.out(`wrote ${values.output} [${y.shape.join(", ")}] float32 (output spike counts)`);
    return 0;
  }
  if (values.duration !== undefined || values.dt !== undefined) {
    throw new UsageError(
      `predict: --duration and --dt apply to a NIR graph (.nir); ${positionals[0]} is not one`,
    );
  }
  // A model that does not state its input shape (Caffe Data layers) takes that of the samples.
  const { inputModel } = await loadInputModelForData(positionals[0], values.lib, x.shape.slice(1));
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

function timeOption(name: string, text: string | undefined, metadata: unknown, fallback: number): number {
  const v = text === undefined ? (typeof metadata === "number" ? metadata : fallback) : Number(text);
  if (!(Number.isFinite(v) && v > 0)) {
    throw new UsageError(`predict: --${name} must be a positive number, found '${text}'`);
  }
  return v;
}

/** Simulate a NIR graph on `x` (NIR layout) and return the output spike counts. */
async function predictNir(
  path: string,
  file: string,
  x: NDArray,
  options: { batchSize: number; duration?: string; dt?: string },
): Promise<NDArray> {
  const { graph } = await readNir(path);
  const nir = spikingModelFromNir(graph, path);
  try {
    const expected = nir.inputShape;
    const found = x.shape.slice(1);
    if (x.shape.length === 0 || found.join() !== expected.join()) {
      throw new DatasetError(
        `${file}: the samples have shape [${x.shape.join(", ")}] but the NIR graph expects [N, ${
          expected.join(", ")
        }] ` +
          "(batch first, channels first as NIR lays tensors out)",
        { file },
      );
    }
    const rank = found.length;
    const perm = rank >= 2 ? [0, ...Array.from({ length: rank - 1 }, (_, i) => i + 2), 1] : undefined;
    const data = toFloat32(x);
    let xs: NDArray = { data, shape: x.shape, dtype: "float32" };
    if (perm) {
      const t = tf.tidy(() => tf.transpose(tf.tensor(data, x.shape), perm));
      xs = { data: (await t.data()) as Float32Array, shape: t.shape, dtype: "float32" };
      t.dispose();
    }
    const meta = graph.metadata ?? {};
    return await simulateOutputCounts(nir, xs, {
      batchSize: options.batchSize,
      duration: timeOption("duration", options.duration, meta.duration, 200),
      dt: timeOption("dt", options.dt, meta.dt, 1),
    });
  } finally {
    nir.model.dispose();
  }
}

/** The `predict` command. */
export const predictCommand: Command = {
  name: "predict",
  summary: "run the parsed (or --original) model on X.npy and write Y.npy",
  usage: USAGE,
  run,
};
