/**
 * `snntoolbox predict`.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { NotAvailableError } from "../errors.ts";

/** The `predict` command (not implemented yet). */
export const predictCommand: Command = {
  name: "predict",
  summary: "(predict: not available yet)",
  usage: "Usage: snntoolbox predict ...",
  run(): Promise<number> {
    return Promise.reject(new NotAvailableError("'snntoolbox predict' is not available yet"));
  },
};
