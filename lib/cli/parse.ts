/**
 * `snntoolbox parse`.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { NotAvailableError } from "../errors.ts";

/** The `parse` command (not implemented yet). */
export const parseCommand: Command = {
  name: "parse",
  summary: "(parse: not available yet)",
  usage: "Usage: snntoolbox parse ...",
  run(): Promise<number> {
    return Promise.reject(new NotAvailableError("'snntoolbox parse' is not available yet"));
  },
};
