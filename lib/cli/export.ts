/**
 * `snntoolbox export MODEL_OR_CONFIG --nir OUT.nir`: write the converted
 * spiking network as a NIR graph (Neuromorphic Intermediate Representation,
 * HDF5), for neuromorphic hardware and other SNN simulators.
 *
 * @module
 */
import { parseCommandArgs } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "../errors.ts";
import { initBackend } from "../backend/mod.ts";
import { ConfigParser } from "../config/configparser.ts";
import { ResolvedConfig, updateSetup } from "../pipeline/setup.ts";
import { exportNir } from "../conversion/nir.ts";
import { readNir } from "../io/nir_read.ts";
import { loadInputModel } from "../parsing/files.ts";
import { createParser } from "../parsing/model_parser.ts";
import { isNirFile, runPipeline } from "../pipeline/run.ts";

const USAGE = `Usage: snntoolbox export CONFIG --nir OUT.nir [--json]
       snntoolbox export MODEL --nir OUT.nir [options] [--json]

Write the converted spiking network as a NIR graph (neuromorphs/NIR, HDF5):
each spiking layer's weights and bias (Affine / Linear / Conv2d / Conv1d /
AvgPool2d) followed by IF neurons with the toolbox's threshold.

CONFIG (.ini): runs the configuration's parse and normalize stages as 'run'
does (writing the parsed model), then exports with its [cell], [simulation]
and [conversion] settings. No evaluation or simulation.

MODEL: parsed with the options below; not normalized (that needs data: use
a CONFIG).

NIR's IF neuron resets to v_reset (the toolbox's 'Reset to zero'). With
'Reset by subtraction' (the toolbox default) the graph differs from what
the toolbox simulates: the export says so in the graph's metadata and on
stderr. Spiking max-pooling and softmax output layers have no NIR form:
use [conversion] max2avg_pool / softmax_to_relu (--max2avg-pool,
--softmax-to-relu).

Options:
  --nir OUT.nir       where to write the graph (atomically); required
  --json              print a JSON summary
MODEL only:
  --lib NAME          model library; default from the extension
  --max2avg-pool      replace max pooling by average pooling
  --softmax-to-relu   replace softmax activations by relu
  --reset MODE        'zero' or 'subtraction' (default: subtraction, the toolbox's)
  --v-thresh V        threshold (default 1)
  --dt DT             time step in ms, for the metadata (default 1)
  --duration T        simulation length in ms, for the metadata (default 200)`;

function parseCliArgs(args: string[]) {
  return parseCommandArgs("export", args, {
    nir: { type: "string" },
    json: { type: "boolean", default: false },
    lib: { type: "string" },
    "max2avg-pool": { type: "boolean", default: false },
    "softmax-to-relu": { type: "boolean", default: false },
    reset: { type: "string" },
    "v-thresh": { type: "string" },
    dt: { type: "string" },
    duration: { type: "string" },
  }, USAGE);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!(Number.isFinite(v) && v > 0)) {
    throw new UsageError(`export: --${name} must be a positive number, found '${text}'`);
  }
  return v;
}

/** The configuration with `settings` replacing its values (the user's file is not touched). */
function withSettings(
  config: ResolvedConfig,
  settings: Record<string, Record<string, string>>,
): ResolvedConfig {
  const parser = new ConfigParser({ optionxform: (s) => s });
  parser.readString(config.toIni(), config.configPath);
  for (const [section, values] of Object.entries(settings)) {
    for (const [key, value] of Object.entries(values)) parser.set(section, key, value);
  }
  return new ResolvedConfig(parser, config.configPath, config.warnings);
}

async function exportFromConfig(
  path: string,
  out: string,
  ctx: CommandContext,
  json: boolean,
): Promise<string[]> {
  const config = await updateSetup(path);
  if (!ctx.quiet) { for (const w of config.warnings) ctx.err(`warning: ${w}`); }
  if (isNirFile(config.get("paths", "filename_ann"))) {
    throw new UsageError(`export: ${path} names a NIR graph as its model; there is nothing to convert`);
  }
  const exportOnly = withSettings(config, {
    tools: { evaluate_ann: "False", convert: "True", simulate: "False" },
  });
  const warnings: string[] = [];
  await runPipeline(exportOnly, {
    log: (line) => {
      if (line.startsWith("warning: NIR export: ")) warnings.push(line.slice("warning: NIR export: ".length));
      else if (!ctx.quiet && !json) ctx.out(line);
    },
  }, { exportNir: out });
  return warnings;
}

async function exportFromModel(
  path: string,
  out: string,
  values: ReturnType<typeof parseCliArgs>["values"],
): Promise<string[]> {
  const reset = values.reset ?? "subtraction";
  if (reset !== "zero" && reset !== "subtraction") {
    throw new UsageError(`export: --reset must be 'zero' or 'subtraction', found '${reset}'`);
  }
  const { inputModel } = await loadInputModel(path, values.lib);
  const parser = createParser(inputModel, {
    max2avgPool: values["max2avg-pool"],
    softmaxToRelu: values["softmax-to-relu"],
  });
  parser.parse();
  const model = parser.buildParsedModel();
  try {
    const { warnings } = await exportNir(model, {
      cell: {
        vThresh: positive("v-thresh", values["v-thresh"], 1),
        vReset: 0,
        reset: reset === "zero" ? "Reset to zero" : "Reset by subtraction",
        tauRefrac: 0,
        leak: false,
      },
      dt: positive("dt", values.dt, 1),
      duration: positive("duration", values.duration, 200),
      max2avgPool: values["max2avg-pool"],
      metadata: { source_model: path, normalized: "no" },
      source: path,
    }, out);
    return warnings;
  } finally {
    model.dispose();
  }
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCliArgs(args);
  if (positionals.length !== 1) throw new UsageError(`export: expected one MODEL or CONFIG file\n${USAGE}`);
  if (!values.nir) throw new UsageError(`export: --nir OUT.nir is required\n${USAGE}`);
  const source = positionals[0];
  if (isNirFile(source)) throw new UsageError(`export: ${source} is a NIR graph already; nothing to convert`);
  const isConfig = /\.(ini|cfg|conf|config)$/i.test(source);
  if (isConfig) {
    const modelOnly = ["lib", "max2avg-pool", "softmax-to-relu", "reset", "v-thresh", "dt", "duration"]
      .filter((k) =>
        values[k as keyof typeof values] !== undefined && values[k as keyof typeof values] !== false
      );
    if (modelOnly.length) {
      throw new UsageError(
        `export: --${modelOnly[0]} applies to a MODEL; with a CONFIG set it in the configuration file`,
      );
    }
  }
  await initBackend();
  const warnings = isConfig
    ? await exportFromConfig(source, values.nir, ctx, values.json ?? false)
    : await exportFromModel(source, values.nir, values);
  const { graph, version } = await readNir(values.nir);
  const nodes = Object.keys(graph.nodes).length;
  for (const w of warnings) ctx.err(`warning: ${w}`);
  if (values.json) {
    ctx.out(JSON.stringify({ nir: values.nir, version, nodes, edges: graph.edges.length, warnings }));
    return 0;
  }
  if (!ctx.quiet) {
    ctx.out(`wrote ${values.nir}: NIR ${version} graph of ${nodes} nodes, ${graph.edges.length} edges`);
  }
  return 0;
}

/** The `export` command. */
export const exportCommand: Command = {
  name: "export",
  summary: "write the converted spiking network as a NIR graph (--nir OUT.nir)",
  usage: USAGE,
  run,
};
