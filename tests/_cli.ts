/**
 * Run the real CLI entry point (`main` of cli.ts) in-process and capture
 * what it prints.
 *
 * @module
 */
import { main } from "../cli.ts";

/** Exit code and printed lines of one CLI run. */
export interface CliRun {
  /** The exit code `main` resolved to. */
  code: number;
  /** Lines printed to stdout. */
  out: string[];
  /** Lines printed to stderr. */
  err: string[];
}

/** Run `snntoolbox <argv>` and capture its output. */
export async function runCli(argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(argv), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}
