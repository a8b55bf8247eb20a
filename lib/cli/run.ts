/**
 * `snntoolbox run CONFIG [--json]` (also `snntoolbox -t CONFIG`): run the
 * pipeline stages the configuration's `[tools]` section asks for.
 *
 * @module
 */
import type { Command, CommandContext } from "./command.ts";
import { onePositional, parseCommandArgs } from "./args.ts";
import { updateSetup } from "../pipeline/setup.ts";
import { type PipelineResult, runPipeline } from "../pipeline/run.ts";
import { createProgress, type Progress } from "./progress.ts";
import { parseShardSpec } from "../pipeline/shard_spec.ts";
import type { ShardSpec } from "../simulation/shards.ts";
import { UsageError } from "../errors.ts";

const USAGE = `Usage: snntoolbox run CONFIG [--json] [--shard I/N | --shard auto[/N]] [--workers N|auto]
       snntoolbox -t CONFIG

Run the stages the [tools] section of the INI file CONFIG asks for, in the
Python toolbox's order: evaluate_ann (accuracy of the input model), parse
(write <filename_ann>_parsed.h5 and its accuracy), normalize (data-based
weight normalization), convert and simulate (the built-in spiking
simulator). Settings not in CONFIG take the toolbox's defaults; see them
with 'snntoolbox config CONFIG'.

Options:
  --json        print the results as one JSON object on the last line
                (ann_accuracy, parsed_accuracy, snn_accuracy, snn_accuracy_by_time,
                correlation_by_layer, ...)
  --shard I/N   simulate only shard I (0-based) of N: the I-th of N equal runs
                of whole batches of the selected test samples. It logs into
                <log dir>/shard-I-of-N/ and ends with shard.json there; run all
                N (on any machines), then 'snntoolbox merge <log dir>' writes
                the result and report of the whole run.
  --shard auto  take I and N from the scheduler: JOB_COMPLETION_INDEX
                (Kubernetes Indexed Job; N from auto/N or
                SNNTOOLBOX_SHARD_COUNT) or SLURM_ARRAY_TASK_ID,
                SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT (Slurm array).
                See docs/scale-out.md.
  --workers N   data-parallel workers (WASM/CPU backends) for evaluation,
                normalization and simulation: a number, or auto (default:
                SNNTOOLBOX_WORKERS, else one per core when a stage's work
                pays for them)`;

function readEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

/** `--workers N|auto`: a positive whole number or `auto`. */
function parseWorkers(text: string | undefined): number | "auto" | undefined {
  if (text === undefined || text === "auto") return text;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`run: --workers takes a positive whole number or auto, found '${text}'\n${USAGE}`);
  }
  return n;
}

function parseCliArgs(
  args: string[],
): { config: string; json: boolean; shard?: ShardSpec; workers?: number | "auto" } {
  const { values, positionals } = parseCommandArgs(
    "run",
    args,
    { json: { type: "boolean", default: false }, shard: { type: "string" }, workers: { type: "string" } },
    USAGE,
  );
  return {
    config: onePositional(positionals, "CONFIG", USAGE),
    json: values.json ?? false,
    shard: values.shard === undefined ? undefined : parseShardSpec(values.shard, readEnv),
    workers: parseWorkers(values.workers),
  };
}

/** The `--json` summary of a pipeline run (snake_case keys, like the toolbox's logs). */
export function resultJson(result: PipelineResult): Record<string, unknown> {
  const sim = result.simulation;
  return {
    stages: result.stages,
    ann_accuracy: result.annAccuracy?.top1 ?? null,
    ann_top_k_accuracy: result.annAccuracy?.topK ?? null,
    parsed_accuracy: result.parsedAccuracy?.top1 ?? null,
    parsed_top_k_accuracy: result.parsedAccuracy?.topK ?? null,
    num_tested: result.parsedAccuracy?.count ?? result.annAccuracy?.count ?? sim?.numSamples ?? null,
    parsed_model: result.parsedModelPath ?? null,
    scale_factors: result.scaleFactors ?? null,
    snn_accuracy: sim?.snnAccuracy ?? null,
    snn_top_k_accuracy: sim?.snnTopKAccuracy ?? null,
    snn_ann_accuracy: sim?.annAccuracy ?? null,
    snn_accuracy_by_time: sim?.snnAccuracyByTime ?? null,
    correlation_by_layer: sim
      ? Object.fromEntries(sim.correlationByLayer.map((c) => [c.layer, c.correlation]))
      : null,
    sops: sim?.sops ?? null,
    macs: result.snn?.macs ?? null,
    sweep: result.snn?.sweep ?? null,
    files: result.snn?.files ?? [],
    ...(result.shardFile ? { shard_file: result.shardFile } : {}),
  };
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { config: path, json, shard, workers } = parseCliArgs(args);
  const config = await updateSetup(path);
  if (!ctx.quiet) { for (const w of config.warnings) ctx.err(`warning: ${w}`); }
  const bars = new Map<string, Progress>();
  const result = await runPipeline(config, {
    log: (line) => {
      if (!ctx.quiet) (json ? ctx.err : ctx.out)(line);
    },
    progress: (label, done, total) => {
      let bar = bars.get(label);
      if (!bar) bars.set(label, bar = createProgress(label, total, !ctx.quiet));
      bar.update(done);
      if (done >= total) bar.done();
    },
  }, { shard, workers });
  if (json) ctx.out(JSON.stringify(resultJson(result)));
  return 0;
}

/** The `run` command. */
export const runCommand: Command = {
  name: "run",
  summary: "run the pipeline [tools] asks for (evaluate, parse, normalize, simulate)",
  usage: USAGE,
  run,
};
