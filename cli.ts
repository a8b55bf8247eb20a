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
import { BACKEND_CHOICES, type BackendInfo, initBackend, requestedBackend } from "./lib/backend/mod.ts";
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
    "  --backend B     compute backend: auto (default: WebGPU on a hardware GPU, else WASM),",
    "                  webgpu, wasm or cpu (default: SNNTOOLBOX_BACKEND or auto)",
    "  --threads N     WASM compute threads (default: SNNTOOLBOX_THREADS or 1)",
  ].join("\n");
}

/** Remove a global option `--NAME VALUE` / `--NAME=VALUE` from `args` and return its value. */
function takeOption(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const inline = args[i].startsWith(`--${name}=`) ? args[i].slice(name.length + 3) : undefined;
  const text = inline ?? args[i + 1];
  args.splice(i, inline === undefined ? 2 : 1);
  if (text === undefined) throw new UsageError(`--${name} needs a value`);
  return text;
}

/** Remove a global `--backend B` from `args` and return B (validated). */
function takeBackendOption(args: string[]) {
  const text = takeOption(args, "backend");
  if (text === undefined) return undefined;
  if (!(BACKEND_CHOICES as readonly string[]).includes(text)) {
    throw new UsageError(`--backend takes one of ${BACKEND_CHOICES.join(", ")}, found '${text}'`);
  }
  return requestedBackend(text);
}

/** The `--version` lines of the backend: its name and threads, then the WebGPU adapter (if any). */
export function describeBackend(info: BackendInfo): string[] {
  const lines = [`backend ${info.name}, threads ${info.threads}`];
  if (info.adapter) {
    lines.push(`WebGPU adapter: ${info.adapter.name}${info.adapter.software ? " (software renderer)" : ""}`);
  }
  return lines;
}

/** Commands that compute nothing, so start no backend. */
const NO_BACKEND = new Set(["config"]);

/** Remove a global `--threads N` / `--threads=N` from `args` and return N. */
function takeThreadsOption(args: string[]): number | undefined {
  const text = takeOption(args, "threads");
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--threads takes a positive whole number, found '${text}'`);
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
    const backendChoice = takeBackendOption(args);
    const startBackend = async () => {
      const info = await initBackend({ threads, backend: backendChoice });
      if (info.fallbackReason && !quiet) ctx.err(`note: ${info.fallbackReason}`);
      return info;
    };
    if (args.length === 0 || args[0] === "-h" || args[0] === "--help" || args[0] === "help") {
      ctx.out(mainHelp());
      return args.length === 0 ? 2 : 0;
    }
    if (args[0] === "-V" || args[0] === "--version") {
      const backend = await startBackend();
      ctx.out(`snntoolbox ${VERSION}`);
      const [line, ...more] = describeBackend(backend);
      ctx.out(`deno ${Deno.version.deno}, ${line}`);
      for (const l of more) ctx.out(l);
      if (backend.choice && verbose) ctx.err(`note: ${backend.choice}`);
      return 0;
    }
    const [word, ...rest] = args[0] === "-t" ? ["run", ...args.slice(1)] : args;
    const command = COMMANDS.find((c) => c.name === word);
    if (!command) throw new UsageError(`unknown command '${word}'; run 'snntoolbox --help' for the list`);
    if (rest.includes("-h") || rest.includes("--help")) {
      ctx.out(command.usage);
      return 0;
    }
    if (!NO_BACKEND.has(command.name)) await startBackend();
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
