/**
 * Helpers of the shipping tests (tests/ship_*_test.ts): run `deno` in a
 * child process from a scratch folder outside the repository, and serve the
 * repository over HTTP on 127.0.0.1 as a stand-in for a remote host.
 *
 * @module
 */

/** The repository root, as a `file:` URL ending in `/`. */
export const REPO_URL: URL = new URL("../", import.meta.url);

/** The repository root as a path (with a trailing `/`). */
export const REPO_DIR: string = decodeURIComponent(REPO_URL.pathname);

/** What a child `deno` process did. */
export interface DenoRun {
  /** Exit code. */
  code: number;
  /** Standard output, decoded. */
  stdout: string;
  /** Standard error, decoded, ANSI colours removed. */
  stderr: string;
}

/** Options of {@linkcode runDeno}. */
export interface RunDenoOptions {
  /** Working directory of the child. */
  cwd: string;
  /** Extra environment variables (the parent's environment is kept). */
  env?: Record<string, string>;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Run `deno <args>` and collect its output. The child computes on one thread
 * (`SNNTOOLBOX_THREADS=1`, so results do not depend on the load of the
 * machine) and prints no colours.
 */
export async function runDeno(args: string[], options: RunDenoOptions): Promise<DenoRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", SNNTOOLBOX_THREADS: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr).replace(ANSI, ""),
  };
}

/** Exit code and the tails of stdout and stderr of a child run, for assertion messages. */
export function describeRun(run: DenoRun): string {
  return `exit ${run.code}\n--- stdout ---\n${run.stdout.slice(-2000)}\n--- stderr ---\n${
    run.stderr.slice(-2000)
  }`;
}

/**
 * A new empty folder in the system's temp directory (outside the
 * repository, so no `deno.json` or lock file applies to what runs there).
 */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `snntoolbox_${prefix}_` });
  if (dir.startsWith(REPO_DIR)) throw new Error(`scratch folder ${dir} is inside the repository`);
  return dir;
}

/** Copy repository files (paths relative to the root) into `dir`, keeping only their base names. */
export async function copyFromRepo(dir: string, ...paths: string[]): Promise<void> {
  for (const path of paths) {
    await Deno.copyFile(new URL(path, REPO_URL), `${dir}/${path.split("/").pop()}`);
  }
}

const CONTENT_TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "application/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  wasm: "application/wasm",
};

/** A running HTTP server of the repository's files. */
export interface RepoServer {
  /** Base URL of the repository root, ending in `/` (e.g. `http://127.0.0.1:41234/`). */
  url: string;
  /** `host:port` for `--allow-import`. */
  host: string;
  /** URL paths requested so far. */
  requested: string[];
  /** Stop the server (waits for open connections to end). */
  close(): Promise<void>;
}

/**
 * Serve the repository's working tree read-only on 127.0.0.1 (a free port),
 * like a static file host: files by path, 404 for anything missing or
 * outside the repository.
 */
export function serveRepo(): Promise<RepoServer> {
  const requested: string[] = [];
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ hostname, port }) => {
        resolve({
          url: `http://${hostname}:${port}/`,
          host: `${hostname}:${port}`,
          requested,
          close: () => server.shutdown(),
        });
      },
    }, async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requested.push(path);
      if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 405 });
      if (path.split("/").some((part) => part === ".." || part === ".git")) {
        return new Response("not found", { status: 404 });
      }
      try {
        const body = await Deno.readFile(new URL(`.${path}`, REPO_URL));
        const ext = path.slice(path.lastIndexOf(".") + 1);
        return new Response(req.method === "HEAD" ? null : body, {
          headers: { "content-type": CONTENT_TYPES[ext] ?? "application/octet-stream" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
  });
}

/** The parse report of `snntoolbox parse --json` without its timing (which differs run to run). */
export function parseReport(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  const report = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  delete report.parse_ms;
  return report;
}
