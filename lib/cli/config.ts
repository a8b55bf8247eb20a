/**
 * `snntoolbox config`.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { NotAvailableError } from "../errors.ts";

/** The `config` command (not implemented yet). */
export const configCommand: Command = {
  name: "config",
  summary: "(config: not available yet)",
  usage: "Usage: snntoolbox config ...",
  run(): Promise<number> {
    return Promise.reject(new NotAvailableError("'snntoolbox config' is not available yet"));
  },
};
