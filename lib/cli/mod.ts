/**
 * The list of `snntoolbox` subcommands.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { runCommand } from "./run.ts";
import { configCommand } from "./config.ts";
import { parseCommand } from "./parse.ts";
import { predictCommand } from "./predict.ts";
import { inspectCommand } from "./inspect.ts";
import { mergeCommand } from "./merge.ts";
import { exportCommand } from "./export.ts";

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  configCommand,
  parseCommand,
  predictCommand,
  inspectCommand,
  mergeCommand,
  exportCommand,
];
