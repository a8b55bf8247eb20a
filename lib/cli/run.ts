/**
 * `snntoolbox run`.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { NotAvailableError } from "../errors.ts";

/** The `run` command (not implemented yet). */
export const runCommand: Command = {
  name: "run",
  summary: "(run: not available yet)",
  usage: "Usage: snntoolbox run ...",
  run(): Promise<number> {
    return Promise.reject(new NotAvailableError("'snntoolbox run' is not available yet"));
  },
};
