/**
 * `snntoolbox inspect`.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { NotAvailableError } from "../errors.ts";

/** The `inspect` command (not implemented yet). */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "(inspect: not available yet)",
  usage: "Usage: snntoolbox inspect ...",
  run(): Promise<number> {
    return Promise.reject(new NotAvailableError("'snntoolbox inspect' is not available yet"));
  },
};
