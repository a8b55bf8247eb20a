/**
 * The command line's side of Deno's permissions. `snntoolbox` needs
 * {@linkcode REQUIRED_PERMISSIONS}: read access to its inputs (and, when run
 * from source, to Deno's npm cache, which holds the WASM binaries), write
 * access to its output folder, and the environment (the HDF5 library reads
 * it when it starts). A denied access surfaces as Deno's `NotCapable` error;
 * here it becomes one `error:` line naming what to allow, never a stack trace,
 * also when it is thrown where the CLI cannot catch it (inside a dependency's
 * asynchronous start-up).
 *
 * @module
 */
import { describeError } from "../errors.ts";

/** The documented minimal permission flags of `snntoolbox parse` and `snntoolbox run`. */
export const REQUIRED_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write=<output folder>",
  "--allow-env",
];

/** Whether `err` or one of its causes is Deno's permission refusal (`NotCapable`). */
export function isPermissionError(err: unknown): boolean {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 10; depth++) {
    if (cur instanceof Deno.errors.NotCapable) return true;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return false;
}

/** A line explaining the permissions the toolbox needs, for an error that is a permission refusal; else `""`. */
export function permissionHint(err: unknown): string {
  if (!isPermissionError(err)) return "";
  return `\nhint: snntoolbox needs ${REQUIRED_PERMISSIONS.join(" ")} (no network, no FFI)`;
}

/**
 * Report errors nobody caught (thrown in a dependency's callbacks, such as
 * the HDF5 library's start-up without `--allow-env`) as one `error:` line and
 * exit with code 1, instead of Deno's stack trace. `verbose` adds the cause
 * chain, as for caught errors.
 */
export function exitOnUncaughtError(verbose: boolean): void {
  const fail = (event: Event, err: unknown): void => {
    event.preventDefault();
    // Written to the stream directly: console.error may be captured at that
    // moment (backend start-up silences the console).
    Deno.stderr.writeSync(
      new TextEncoder().encode(`error: ${describeError(err, verbose)}${permissionHint(err)}\n`),
    );
    Deno.exit(1);
  };
  globalThis.addEventListener("error", (event) => fail(event, event.error));
  globalThis.addEventListener("unhandledrejection", (event) => fail(event, event.reason));
}
