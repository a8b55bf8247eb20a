/**
 * `snntoolbox inspect MODEL [--json]`: the input model's layers as loaded
 * (before parsing), in the source model's own layout.
 *
 * @module
 */
import { parseCommandArgs } from "./args.ts";
import type { tf } from "../../deps.ts";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "../errors.ts";
import { initBackend } from "../backend/mod.ts";
import { loadInputModel } from "../parsing/files.ts";
import { formatTable } from "./parse.ts";

const USAGE = `Usage: snntoolbox inspect MODEL [--lib NAME] [--json]

List the layers of MODEL as loaded (before parsing): name, type, output
shape (source layout), parameters, activation, data format, inputs.`;

/** One layer of the input model as `inspect` reports it. */
export interface InspectedLayer {
  /** Layer name. */
  name: string;
  /** Keras class name. */
  type: string;
  /** Output shape without batch (null = undefined dimension). */
  outputShape: (number | null)[];
  /** Number of weights. */
  params: number;
  /** Activation, when the layer has one. */
  activation: string | null;
  /** `channels_first`/`channels_last` for layers that have a data format. */
  dataFormat: string | null;
  /** Names of the inbound layers. */
  inbound: string[];
}

/** Describe every layer of a TF.js layers model. */
export function inspectLayers(model: tf.LayersModel): InspectedLayer[] {
  return model.layers.map((layer) => {
    const cfg = layer.getConfig() as Record<string, unknown>;
    const shape = layer.outputShape;
    const first = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
    const df = cfg.dataFormat === "channelsFirst"
      ? "channels_first"
      : cfg.dataFormat === "channelsLast"
      ? "channels_last"
      : null;
    return {
      name: layer.name,
      type: layer.getClassName(),
      outputShape: first.slice(1),
      params: layer.countParams(),
      activation: typeof cfg.activation === "string" ? cfg.activation : null,
      dataFormat: df,
      inbound: (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => l.name),
    };
  });
}

function parseCliArgs(args: string[]) {
  return parseCommandArgs(
    "inspect",
    args,
    { lib: { type: "string" }, json: { type: "boolean", default: false } },
    USAGE,
  );
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCliArgs(args);
  if (positionals.length !== 1) throw new UsageError(`inspect: expected one MODEL file\n${USAGE}`);
  await initBackend();
  const { libraryName, inputModel } = await loadInputModel(positionals[0], values.lib);
  const layers = inspectLayers(inputModel.model);
  if (values.json) {
    ctx.out(JSON.stringify({
      model: positionals[0],
      library: libraryName,
      data_format: inputModel.dataFormat,
      metadata: inputModel.metadata,
      layers: layers.map((l) => ({
        name: l.name,
        type: l.type,
        output_shape: l.outputShape,
        params: l.params,
        activation: l.activation,
        data_format: l.dataFormat,
        inbound: l.inbound,
      })),
    }));
    return 0;
  }
  if (!ctx.quiet) {
    const meta = Object.entries(inputModel.metadata).map(([k, v]) => `${k}=${v}`).join(", ");
    ctx.out(`${positionals[0]} (${libraryName}, ${inputModel.dataFormat})${meta ? `: ${meta}` : ""}`);
  }
  const total = layers.reduce((s, l) => s + l.params, 0);
  for (
    const line of formatTable(
      ["name", "type", "output shape", "params", "activation", "format", "inbound"],
      layers.map((l) => [
        l.name,
        l.type,
        l.outputShape.map((d) => d ?? "?").join("x"),
        String(l.params),
        l.activation ?? "",
        l.dataFormat ?? "",
        l.inbound.join(", "),
      ]),
    )
  ) ctx.out(line);
  if (!ctx.quiet) ctx.out(`${layers.length} layers, ${total} parameters`);
  return 0;
}

/** The `inspect` command. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "list the layers of a model as loaded (before parsing)",
  usage: USAGE,
  run,
};
