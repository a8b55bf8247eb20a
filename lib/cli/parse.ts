/**
 * `snntoolbox parse MODEL [--lib NAME] [--out DIR] [--json]`: parse a model
 * into the toolbox's standard (channels-last, simplified) form, save it as
 * `<name>_parsed.h5` and print the parsed layer table.
 *
 * @module
 */
import { parseCommandArgs } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "../errors.ts";
import { initBackend } from "../backend/mod.ts";
import type { LayerAttributes } from "../parsing/attributes.ts";
import { loadInputModel, parsedModelPath, saveParsedModel } from "../parsing/files.ts";
import { createParser } from "../parsing/model_parser.ts";
import { sizeOf } from "../io/ndarray.ts";

const USAGE = `Usage: snntoolbox parse MODEL [--lib NAME] [--out DIR] [--json] [--no-save]

Parse MODEL (Keras .h5/.keras/.json, ONNX, ...) into the toolbox's parsed
model: BatchNorm folded, no-op layers removed, channels-last. Writes
<name>_parsed.h5 (beside MODEL, or in --out DIR) and prints the parsed layers.

Options:
  --lib NAME      model library (keras, onnx, pytorch, caffe, lasagne); default from the extension
  --out DIR       folder for <name>_parsed.h5
  --json          print the layer table as JSON
  --no-save       do not write the parsed model
  --max2avg-pool  replace max pooling by average pooling
  --softmax-to-relu  replace softmax activations by relu`;

/** One row of the parsed layer table. */
export interface ParsedLayerRow {
  /** Parsed layer name. */
  name: string;
  /** Layer type. */
  type: string;
  /** Output shape without batch (channels-last). */
  outputShape: number[];
  /** Number of parameters. */
  params: number;
  /** Activation, when the layer has one. */
  activation: string | null;
  /** What was absorbed or rewritten. */
  absorbed: string[];
  /** Inbound layer names. */
  inbound: string[];
}

/** The table rows of a parsed layer list. */
export function parsedLayerRows(layers: readonly LayerAttributes[]): ParsedLayerRow[] {
  return layers.map((l) => ({
    name: l.name,
    type: l.layerType,
    outputShape: l.outputShape,
    params: (l.parameters ?? []).reduce((s, p) => s + sizeOf(p.shape), 0),
    activation: l.activation ?? null,
    absorbed: l.absorbed,
    inbound: l.inbound,
  }));
}

/** Format rows as an aligned text table. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

function parseCliArgs(args: string[]) {
  return parseCommandArgs("parse", args, {
    lib: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
    "no-save": { type: "boolean", default: false },
    "max2avg-pool": { type: "boolean", default: false },
    "softmax-to-relu": { type: "boolean", default: false },
  }, USAGE);
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCliArgs(args);
  if (positionals.length !== 1) throw new UsageError(`parse: expected one MODEL file\n${USAGE}`);
  const path = positionals[0];
  await initBackend(); // started by cli.ts, which reports a fallback
  const { libraryName, inputModel } = await loadInputModel(path, values.lib);
  const parser = createParser(inputModel, {
    max2avgPool: values["max2avg-pool"],
    softmaxToRelu: values["softmax-to-relu"],
    log: ctx.verbose ? (l) => ctx.err(l) : undefined,
  });
  const t0 = performance.now();
  const layers = parser.parse();
  const model = parser.buildParsedModel();
  const ms = performance.now() - t0;
  let saved: string | null = null;
  if (!values["no-save"]) {
    const out = parsedModelPath(path, values.out);
    await saveParsedModel(model, out);
    saved = out;
  }
  const rows = parsedLayerRows(layers);
  if (values.json) {
    ctx.out(JSON.stringify({
      model: path,
      library: libraryName,
      input_shape: parser.getParsedInputShape(),
      source_data_format: inputModel.dataFormat,
      parsed_file: saved,
      parse_ms: Math.round(ms),
      skipped: parser.skippedLayers,
      layers: rows.map((r) => ({
        name: r.name,
        type: r.type,
        output_shape: r.outputShape,
        params: r.params,
        activation: r.activation,
        absorbed: r.absorbed,
        inbound: r.inbound,
      })),
    }));
    return 0;
  }
  const table = formatTable(
    ["name", "type", "output shape", "params", "activation", "absorbed"],
    rows.map((r) => [
      r.name,
      r.type,
      r.outputShape.join("x"),
      String(r.params),
      r.activation ?? "",
      r.absorbed.join("; "),
    ]),
  );
  if (!ctx.quiet) {
    ctx.out(
      `${path} (${libraryName}, ${inputModel.dataFormat}) → ${rows.length} parsed layers, input ` +
        `${parser.getParsedInputShape().join("x")}, ${Math.round(ms)} ms`,
    );
  }
  for (const line of table) ctx.out(line);
  if (saved && !ctx.quiet) ctx.out(`wrote ${saved}`);
  return 0;
}

/** The `parse` command. */
export const parseCommand: Command = {
  name: "parse",
  summary: "parse a model into the standard form and save <name>_parsed.h5",
  usage: USAGE,
  run,
};
