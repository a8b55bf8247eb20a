/**
 * `snntoolbox merge DIR... [--out DIR] [--json]`: combine the shards of a
 * run (`snntoolbox run CONFIG --shard I/N`) into the result, logs and report
 * of the whole run.
 *
 * @module
 */
import type { Command, CommandContext } from "./command.ts";
import { parseCommandArgs } from "./args.ts";
import { UsageError } from "../errors.ts";
import { mergeShards } from "../pipeline/shards.ts";
import { resultJson } from "./run.ts";

const USAGE = `Usage: snntoolbox merge DIR... [--out DIR] [--json]

Combine the shards of a run ('snntoolbox run CONFIG --shard I/N', one
folder <log dir>/shard-I-of-N each) into what one unsharded run gives:
accuracy.txt, log_vars/, the plots and report.html in the output folder,
and the same results (--json prints them as 'run --json' does).

DIR is the run's log folder (holding the shard folders), a shard folder,
or its shard.json. All N shards of one experiment must be there, each
once; a missing, unfinished, duplicated or corrupt shard, or one of
another configuration, model or dataset, is an error and nothing is
written.

Options:
  --out DIR  where to write (default: the folder holding the shard folders)
  --json     print the results as one JSON object on the last line`;

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "merge",
    args,
    { out: { type: "string" }, json: { type: "boolean", default: false } },
    USAGE,
  );
  if (positionals.length === 0) throw new UsageError(`missing the DIR argument\n${USAGE}`);
  const merged = await mergeShards(positionals, { out: values.out });
  const sim = merged.result.simulation;
  if (!ctx.quiet && sim) {
    (values.json ? ctx.err : ctx.out)(
      `Merged ${merged.shards.length} shards: ${sim.numSamples} samples, SNN top-1 ${
        (100 * sim.snnAccuracy).toFixed(2)
      } % (ANN ${(100 * sim.annAccuracy).toFixed(2)} %); report: ${merged.outDir}/report.html`,
    );
  }
  if (values.json) ctx.out(JSON.stringify(resultJson(merged.result)));
  return 0;
}

/** The `merge` command. */
export const mergeCommand: Command = {
  name: "merge",
  summary: "merge the shards of a run (run --shard I/N) into its result and report",
  usage: USAGE,
  run,
};
