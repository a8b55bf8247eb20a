/**
 * One fuzz case end to end: write the (mutated) files of a seed into a
 * fresh folder, run the real CLI on them in a child process (bounded heap,
 * bounded time) and check the hostile-input contract on what came out:
 * exit code 0, 1 or 2; on failure exactly one `error: ...` line that names
 * the file; never a stack trace or "Uncaught"; no file left in the output
 * folder after a failure and no temporary file after a success.
 *
 * @module
 */
import { applyMutation, editsFromJson, editsToJson, type Mutation } from "./mutate.ts";
import { type Kind, readSeedFile, REPO_ROOT, type Seed } from "./seeds.ts";

/** A seed and the mutation applied to its first file. */
export interface FuzzCase {
  /** The seed. */
  seed: Seed;
  /** The mutation of `seed.files[0]`. */
  mutation: Mutation;
}

/** Ways an input can break the contract. */
export type Violation =
  | "hang"
  | "slow"
  | "oom"
  | "crash"
  | "stack-trace"
  | "uncaught"
  | "no-error-line"
  | "multiple-error-lines"
  | "file-not-named"
  | "partial-output"
  | "temp-left"
  | "raw-error";

/** What one run of a case gave. */
export interface Outcome {
  /** Exit code (`null` when killed by a signal or the time limit). */
  code: number | null;
  /** Signal that ended the child, if any. */
  signal: string | null;
  /** Wall time in milliseconds. */
  ms: number;
  /** Standard error. */
  stderr: string;
  /** Files left in the output folder. */
  outFiles: string[];
  /** The `error:` line(s). */
  errorLines: string[];
  /** Contract violations (empty = fine). */
  violations: Violation[];
}

/** Options of {@linkcode runCase}. */
export interface RunOptions {
  /** Time limit per input in seconds (default 10). */
  timeoutS?: number;
  /** V8 old-space limit of the child in MiB (default 1024). */
  heapMiB?: number;
  /** `SNNTOOLBOX_MAX_ARRAY_BYTES` for the child (default 512 MiB: the machine is shared). */
  maxArrayBytes?: number;
  /** Folder for case folders (default: a new temporary folder, removed afterwards). */
  workDir?: string;
}

/** Path of the mutated file, after renaming, inside `dir`. */
function mutatedName(c: FuzzCase): string {
  const name = c.seed.files[0].name;
  if (c.mutation.ext === undefined) return name;
  return name.replace(/\.[^.]*$/, "") + c.mutation.ext;
}

/** Write the case's files into `dir`. */
export function materialize(c: FuzzCase, dir: string): string {
  const [first, ...rest] = c.seed.files;
  const target = `${dir}/${mutatedName(c)}`;
  Deno.writeFileSync(target, applyMutation(readSeedFile(first.src), c.mutation));
  for (const f of rest) Deno.writeFileSync(`${dir}/${f.name}`, readSeedFile(f.src));
  return target;
}

const OOM_RE = /out of memory|heap limit|Allocation failed|invalid array length.*heap/i;

/** Check the contract on one child's result. */
export function judge(
  c: FuzzCase,
  dir: string,
  code: number | null,
  _signal: string | null,
  timedOut: boolean,
  stderr: string,
  outFiles: string[],
): { violations: Violation[]; errorLines: string[] } {
  const v: Violation[] = [];
  const errorLines = stderr.split("\n").filter((l) => l.startsWith("error:"));
  if (timedOut) v.push("hang");
  else if (OOM_RE.test(stderr) && (code === null || code > 2)) v.push("oom");
  else if (code === null || code > 2 || code < 0) v.push("crash");
  // JavaScript frames, or the HDF5 library's error stack (`HDF5-DIAG: ...`, `#000: file line N in f()`).
  if (/^\s+at |HDF5-DIAG|^\s*#\d{3}: /m.test(stderr)) v.push("stack-trace");
  if (/Uncaught|panicked/.test(stderr)) v.push("uncaught");
  if (!timedOut && code !== 0) {
    if (errorLines.length === 0) v.push("no-error-line");
    if (errorLines.length > 1) v.push("multiple-error-lines");
    const names = [mutatedName(c), ...c.seed.files.slice(1).map((f) => f.name), dir];
    if (errorLines.length === 1 && !names.some((n) => errorLines[0].includes(n))) v.push("file-not-named");
    if (outFiles.length) v.push("partial-output");
    // A raw dependency error caught by the last-resort wrapper (lib/io/unexpected_errors.ts).
    if (errorLines.some((l) => /\(unexpected \w+ in the reader\)/.test(l))) v.push("raw-error");
  } else if (outFiles.some((f) => f.endsWith(".tmp"))) v.push("temp-left");
  return { violations: v, errorLines };
}

function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function spawnOnce(
  argv: string[],
  opts: Required<Omit<RunOptions, "workDir">>,
  timeoutMs: number,
  tmpDir: string,
): Promise<{ code: number | null; signal: string | null; stderr: string; timedOut: boolean; ms: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=--max-old-space-size=${opts.heapMiB}`, `${REPO_ROOT}/cli.ts`, ...argv],
    cwd: REPO_ROOT,
    // The child's own temporary files go to tmpDir, so leftovers can be seen.
    env: { NO_COLOR: "1", SNNTOOLBOX_MAX_ARRAY_BYTES: String(opts.maxArrayBytes), TMPDIR: tmpDir },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of child.stderr) {
    if (size < 65536) chunks.push(chunk);
    size += chunk.length;
  }
  const status = await child.status;
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(concat(chunks)).slice(0, 65536);
  return {
    code: status.signal ? null : status.code,
    signal: status.signal,
    stderr,
    timedOut,
    ms: performance.now() - t0,
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Run one case in a child process and judge it. A run that exceeds the time
 * limit is retried once with three times the limit: `slow` when it then
 * finishes, `hang` when it does not.
 */
export async function runCase(c: FuzzCase, options: RunOptions = {}): Promise<Outcome> {
  const opts = { timeoutS: 10, heapMiB: 1024, maxArrayBytes: 512 * 1024 ** 2, ...options };
  const base = opts.workDir ?? Deno.makeTempDirSync({ prefix: "snn-fuzz-" });
  const dir = Deno.makeTempDirSync({ dir: base, prefix: "case-" });
  const out = Deno.makeTempDirSync({ dir: base, prefix: "out-" });
  const tmp = Deno.makeTempDirSync({ dir: base, prefix: "tmp-" });
  try {
    const target = materialize(c, dir);
    const argv = c.seed.argv.map((a) =>
      a.replaceAll("{in}", target).replaceAll("{dir}", dir).replaceAll("{out}", out)
    );
    let r = await spawnOnce(argv, opts, opts.timeoutS * 1000, tmp);
    let slow = false;
    if (r.timedOut) {
      for (const f of listDir(out)) Deno.removeSync(`${out}/${f}`, { recursive: true });
      for (const f of listDir(tmp)) Deno.removeSync(`${tmp}/${f}`, { recursive: true });
      const again = await spawnOnce(argv, opts, opts.timeoutS * 3000, tmp);
      if (!again.timedOut) {
        slow = true;
        r = again;
      }
    }
    const outFiles = listDir(out);
    const { violations, errorLines } = judge(c, dir, r.code, r.signal, r.timedOut, r.stderr, outFiles);
    // Temporary files outside the output folder must be gone too (unless the child was killed).
    if (!r.timedOut && r.code !== null && listDir(tmp).length && !violations.includes("temp-left")) {
      violations.push("temp-left");
    }
    if (slow) violations.unshift("slow");
    return { code: r.code, signal: r.signal, ms: r.ms, stderr: r.stderr, outFiles, errorLines, violations };
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(out, { recursive: true });
    Deno.removeSync(tmp, { recursive: true });
    if (!options.workDir) Deno.removeSync(base, { recursive: true });
  }
}

/** A saved finding (`tests/fuzz/corpus/<id>.json`). */
export interface CorpusEntry {
  /** Input kind. */
  kind: Kind;
  /** The seed (sources and command). */
  seed: Seed;
  /** The mutation, edits in base64. */
  mutation: { name: string; detail: string; ext?: string; edits: { at: number; del: number; ins: string }[] };
  /** What was wrong when it was found. */
  violations: Violation[];
  /** The first lines of standard error when it was found. */
  stderr: string;
  /** `open` when the fix belongs to a reader still being written (replay skipped), else `fixed`. */
  status: "open" | "fixed";
  /** Who has to fix an open entry and why, when open. */
  note?: string;
}

/** A corpus entry for a case and its outcome. */
export function toCorpusEntry(c: FuzzCase, o: Outcome): CorpusEntry {
  return {
    kind: c.seed.kind,
    seed: c.seed,
    mutation: {
      name: c.mutation.name,
      detail: c.mutation.detail,
      ext: c.mutation.ext,
      edits: editsToJson(c.mutation.edits),
    },
    violations: o.violations,
    stderr: o.stderr.split("\n").slice(0, 12).join("\n").slice(0, 2000),
    status: "open",
  };
}

/** The case of a corpus entry. */
export function fromCorpusEntry(e: CorpusEntry): FuzzCase {
  return {
    seed: e.seed,
    mutation: {
      name: e.mutation.name,
      detail: e.mutation.detail,
      ext: e.mutation.ext,
      edits: editsFromJson(e.mutation.edits),
    },
  };
}

/** The folder of the committed corpus. */
export const CORPUS_DIR: string = `${REPO_ROOT}/tests/fuzz/corpus`;
