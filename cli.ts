/**
 * The `snntoolbox` command line.
 *
 * ```sh
 * deno run -A cli.ts run experiment.ini     # or: snntoolbox -t experiment.ini
 * deno run -A cli.ts --help
 * ```
 *
 * Exit codes: 0 success, 1 failure, 2 usage or configuration error.
 *
 * @module
 */
import { COMMANDS } from "./lib/cli/mod.ts";
import type { CommandContext } from "./lib/cli/command.ts";
import { describeError, SnnToolboxError, UsageError } from "./lib/errors.ts";
import { VERSION } from "./lib/version.ts";
import { summarizeError } from "./lib/io/unexpected_errors.ts";
import { initBackend } from "./lib/backend/mod.ts";
import { exitOnUncaughtError, permissionHint } from "./lib/cli/permissions.ts";

function envFlag(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "snntoolbox: convert trained ANNs to spiking neural networks",
    "",
    "Usage: snntoolbox <command> [options]",
    "       snntoolbox -t CONFIG        (same as: snntoolbox run CONFIG)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    "  -h, --help      show help (also after a command)",
    "  -V, --version   show version and compute backend",
    "  -q, --quiet     print only results and errors",
    "  -v, --verbose   print details and error causes",
    "  --threads N     WASM compute threads (default: SNNTOOLBOX_THREADS, else 1)",
  ].join("\n");
}

/** Remove a global `--threads N` / `--threads=N` from `args` and return N. */
function takeThreadsOption(args: string[]): number | undefined {
  const i = args.findIndex((a) => a === "--threads" || a.startsWith("--threads="));
  if (i < 0) return undefined;
  const inline = args[i].startsWith("--threads=") ? args[i].slice("--threads=".length) : undefined;
  const text = inline ?? args[i + 1];
  args.splice(i, inline === undefined ? 2 : 1);
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 1) {
    throw new UsageError(`--threads takes a positive whole number, found '${text ?? ""}'`);
  }
  return n;
}

/** Run the CLI with `argv` (without the program name); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const quiet = argv.includes("-q") || argv.includes("--quiet");
  const verbose = argv.includes("-v") || argv.includes("--verbose");
  const ctx: CommandContext = {
    quiet,
    verbose,
    color: envFlag("NO_COLOR") === undefined && Deno.stdout.isTerminal(),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  };
  const args = argv.filter((a) => !["-q", "--quiet", "-v", "--verbose"].includes(a));
  try {
    const threads = takeThreadsOption(args);
    if (threads !== undefined) await initBackend({ threads });
    if (args.length === 0 || args[0] === "-h" || args[0] === "--help" || args[0] === "help") {
      ctx.out(mainHelp());
      return args.length === 0 ? 2 : 0;
    }
    if (args[0] === "-V" || args[0] === "--version") {
      const backend = await initBackend();
      ctx.out(`snntoolbox ${VERSION}`);
      ctx.out(`deno ${Deno.version.deno}, backend ${backend.name}, threads ${backend.threads}`);
      if (backend.fallbackReason) ctx.err(`note: ${backend.fallbackReason}`);
      return 0;
    }
    const [word, ...rest] = args[0] === "-t" ? ["run", ...args.slice(1)] : args;
    const command = COMMANDS.find((c) => c.name === word);
    if (!command) throw new UsageError(`unknown command '${word}'; run 'snntoolbox --help' for the list`);
    if (rest.includes("-h") || rest.includes("--help")) {
      ctx.out(command.usage);
      return 0;
    }
    return await command.run(rest, ctx);
  } catch (err) {
    if (err instanceof SnnToolboxError) {
      ctx.err(`error: ${describeError(err, verbose)}${permissionHint(err)}`);
      return err.exitCode;
    }
    // Not a toolbox error (a bug or a missing check): one line without multi-line
    // dependency diagnostics, unless --verbose asks for the details.
    const text = verbose ? describeError(err, true) : summarizeError(err);
    ctx.err(`error: ${text}${permissionHint(err)}`);
    if (verbose && err instanceof Error && err.stack) ctx.err(err.stack);
    return 1;
  }
}

if (import.meta.main) {
  exitOnUncaughtError(Deno.args.includes("-v") || Deno.args.includes("--verbose"));
  Deno.exit(await main(Deno.args));
}
