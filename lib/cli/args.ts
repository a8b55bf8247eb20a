/**
 * Command-line argument parsing shared by every subcommand: `node:util`
 * `parseArgs` with its errors turned into {@linkcode UsageError}s that show
 * the command's usage.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** Parsed options and positionals of one command line. */
export interface ParsedCommandArgs<T extends ParseArgsOptionsConfig> {
  /** Option values by name. */
  values: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>>["values"];
  /** Arguments that are not options. */
  positionals: string[];
}

/** Parse `args` of `command` against `options`; unknown or malformed options are usage errors showing `usage`. */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: T,
  usage: string,
): ParsedCommandArgs<T> {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(`${command}: ${err instanceof Error ? err.message : err}\n${usage}`, { cause: err });
  }
}

/** The one positional argument `name` (e.g. CONFIG, MODEL); usage error when missing or extra. */
export function onePositional(positionals: string[], name: string, usage: string): string {
  const [first, ...extra] = positionals;
  if (first === undefined) throw new UsageError(`missing the ${name} argument\n${usage}`);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'\n${usage}`);
  return first;
}
