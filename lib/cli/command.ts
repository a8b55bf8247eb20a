/**
 * The shape of one CLI subcommand. Each command lives in its own file in
 * `lib/cli/` and is listed in `lib/cli/mod.ts`.
 *
 * @module
 */

/** Output streams and flags common to every command. */
export interface CommandContext {
  /** `--quiet`: print only results and errors. */
  quiet: boolean;
  /** `--verbose`: print details and error cause chains. */
  verbose: boolean;
  /** Whether ANSI colours may be used (`NO_COLOR` unset and stdout a terminal). */
  color: boolean;
  /** Print a line to stdout. */
  out(line: string): void;
  /** Print a line to stderr (progress, warnings). */
  err(line: string): void;
}

/** One subcommand of `snntoolbox`. */
export interface Command {
  /** The word after `snntoolbox`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text. */
  usage: string;
  /** Run with the arguments after the command word; resolves to the exit code. */
  run(args: string[], ctx: CommandContext): Promise<number>;
}
