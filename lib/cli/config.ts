/**
 * `snntoolbox config CONFIG [--json]`: print the resolved experiment
 * configuration — every section and key after the built-in defaults, the
 * user's file, interpolation and the derived values — so users can see
 * exactly what will run.
 *
 * @module
 */
import type { Command, CommandContext } from "./command.ts";
import { onePositional, parseCommandArgs } from "./args.ts";
import { type ResolvedConfig, updateSetup } from "../pipeline/setup.ts";

const USAGE = `Usage: snntoolbox config CONFIG [--json]

Print the configuration the toolbox would run with for the INI file CONFIG:
the built-in defaults overlaid by CONFIG, with interpolation applied and the
derived values (path_wd, dataset_path, filename_snn, ...) filled in. The
configuration is validated first; problems are reported with file, section,
key and the allowed values. Nothing is written.

Options:
  --json   print {section: {key: value}} as JSON`;

/** The configuration as INI-like text: `[section]` headers, `key = value`, continuation lines indented. */
export function formatConfig(config: ResolvedConfig): string[] {
  const lines: string[] = [];
  for (const section of config.sections()) {
    if (lines.length) lines.push("");
    lines.push(`[${section}]`);
    for (const [key, value] of config.entries(section)) {
      lines.push(`${key} = ${value.replaceAll("\n", "\n    ")}`.trimEnd());
    }
  }
  return lines;
}

function parseCliArgs(args: string[]): { config: string; json: boolean } {
  const { values, positionals } = parseCommandArgs("config", args, {
    json: { type: "boolean", default: false },
  }, USAGE);
  return { config: onePositional(positionals, "CONFIG", USAGE), json: values.json ?? false };
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { config: path, json } = parseCliArgs(args);
  const config = await updateSetup(path, { createLogDir: false });
  if (!ctx.quiet) { for (const w of config.warnings) ctx.err(`warning: ${w}`); }
  if (json) ctx.out(JSON.stringify(config.toJson(), null, 2));
  else for (const line of formatConfig(config)) ctx.out(line);
  return 0;
}

/** The `config` command. */
export const configCommand: Command = {
  name: "config",
  summary: "print the resolved experiment configuration (defaults + CONFIG, validated)",
  usage: USAGE,
  run,
};
