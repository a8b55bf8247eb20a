/**
 * The threaded WASM backend: results against numpy/torch references
 * (testdata/backend/gen_reference.py) for 1 and 2 threads and the CPU
 * backend, identical predictions across thread counts, the fallback when
 * pthread workers cannot start, the thread-count setting, and a CLI that
 * exits by itself. Each backend runs in its own subprocess
 * (tests/_backend_probe.ts) since the backend initialises once per process.
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { requestedThreads } from "../lib/backend/mod.ts";
import { ConfigError } from "../lib/errors.ts";
import { readNpy } from "../lib/io/npy.ts";

const root = new URL("../", import.meta.url);
const data = new URL("testdata/backend/", root);
/** Generous: the 2 shared cores are busy while tests run. */
const TIMEOUT_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function runDeno(args: string[], env: Record<string, string>): Promise<Run> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", SNNTOOLBOX_BACKEND: "wasm", ...env },
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const out = await cmd.output();
  if (out.signal !== null) {
    throw new Error(`deno ${args.join(" ")} did not exit within ${TIMEOUT_MS} ms (killed by ${out.signal})`);
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

interface Probe {
  info: { name: string; threads: number; fallbackReason?: string };
  backend: string;
  matmul: number[];
  conv: number[];
  logits: number[];
  argmax: number[];
  webWorker: boolean;
}

async function probe(env: Record<string, string>, denoFlags: string[] = []): Promise<Probe> {
  const r = await runDeno(["run", "-A", ...denoFlags, "tests/_backend_probe.ts"], env);
  assertEquals(r.code, 0, `probe failed (${JSON.stringify(env)}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Probe;
}

async function reference(name: string): Promise<ArrayLike<number>> {
  return (await readNpy(new URL(`${name}.npy`, data).pathname)).data as ArrayLike<number>;
}

/** The probe's results equal the frameworks' (≤ 1e-5 relative; predictions exactly). */
async function assertMatchesReference(p: Probe, label: string): Promise<void> {
  const tol = { rtol: 1e-5, atol: 1e-5 };
  assertClose(p.matmul, await reference("matmul_out"), { ...tol, msg: `${label} matMul` });
  assertClose(p.conv, await reference("conv_out"), { ...tol, msg: `${label} conv2d` });
  assertClose(p.logits, await reference("mlp_logits"), { ...tol, msg: `${label} MLP logits` });
  assertEquals(p.argmax, Array.from(await reference("mlp_argmax")), `${label} MLP argmax`);
}

Deno.test("backend: 1 and 2 WASM threads and CPU match numpy/torch; thread counts agree", async () => {
  const one = await probe({ SNNTOOLBOX_THREADS: "1" });
  const two = await probe({ SNNTOOLBOX_THREADS: "2" });
  const cpu = await probe({ SNNTOOLBOX_BACKEND: "cpu" });
  assertEquals(one.info, { name: "wasm", threads: 1 });
  assertEquals(two.info, { name: "wasm", threads: 2 });
  assertEquals(cpu.info, { name: "cpu", threads: 1 });
  assertEquals([one.backend, two.backend, cpu.backend], ["wasm", "wasm", "cpu"]);
  await assertMatchesReference(one, "1 thread");
  await assertMatchesReference(two, "2 threads");
  await assertMatchesReference(cpu, "cpu");
  // Between thread counts: identical predictions, floats within 1e-5 relative.
  assertEquals(two.argmax, one.argmax);
  for (const key of ["matmul", "conv", "logits"] as const) {
    assertClose(two[key], one[key], { rtol: 1e-5, atol: 0, msg: `2 vs 1 thread ${key}` });
  }
  // The pthread support must not leave the global Worker replaced.
  assertTrue(one.webWorker && two.webWorker, "Deno's module Worker broken after initBackend");
});

Deno.test("backend: pthread workers that cannot start fall back to 1-thread WASM, reported", async () => {
  // Without code generation from strings the pthread program cannot load the glue.
  const p = await probe({ SNNTOOLBOX_THREADS: "2" }, ["--v8-flags=--disallow-code-generation-from-strings"]);
  assertEquals([p.info.name, p.info.threads], ["wasm", 1]);
  assertMatch(
    p.info.fallbackReason ?? "",
    /threaded WASM unavailable \(pthread worker failed: .*Code generation/,
  );
  await assertMatchesReference(p, "fallback");
  assertTrue(p.webWorker, "Deno's module Worker broken after a failed threaded start");
});

Deno.test("backend: CLI --version with threads exits by itself and reports the thread count", async () => {
  const started = performance.now();
  const r = await runDeno(["run", "-A", "cli.ts", "--version"], { SNNTOOLBOX_THREADS: "2" });
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /backend wasm, threads 2\n/);
  assertEquals(r.stderr.includes("note:"), false, `unexpected fallback: ${r.stderr}`);
  assertTrue(performance.now() - started < TIMEOUT_MS);
});

Deno.test("backend: a bad SNNTOOLBOX_THREADS is a configuration error (exit 2)", async () => {
  const r = await runDeno(["run", "-A", "cli.ts", "--version"], { SNNTOOLBOX_THREADS: "zero" });
  assertEquals(r.code, 2, r.stderr);
  assertMatch(r.stderr, /SNNTOOLBOX_THREADS must be a positive integer, found 'zero'/);
});

Deno.test("backend: requestedThreads: option, then SNNTOOLBOX_THREADS, then 1", async () => {
  const saved = Deno.env.get("SNNTOOLBOX_THREADS");
  try {
    Deno.env.delete("SNNTOOLBOX_THREADS");
    assertEquals(requestedThreads(), 1);
    Deno.env.set("SNNTOOLBOX_THREADS", " 3 ");
    assertEquals(requestedThreads(), 3);
    assertEquals(requestedThreads(5), 5);
    Deno.env.set("SNNTOOLBOX_THREADS", "1.5");
    await assertRejects(() => requestedThreads(), ConfigError, /SNNTOOLBOX_THREADS.*'1\.5'/);
    await assertRejects(
      () => requestedThreads(0),
      ConfigError,
      /'threads' must be a positive integer, found 0/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("SNNTOOLBOX_THREADS");
    else Deno.env.set("SNNTOOLBOX_THREADS", saved);
  }
});

Deno.test("backend: auto: unreadable WASM files fall back to the CPU quietly, the reason reported once", async () => {
  // No read access to the npm cache: Emscripten aborts loading the .wasm
  // files (threaded build: written to stderr with fs.writeSync, single-threaded:
  // console.error); that text belongs in fallbackReason, not on stderr.
  const args = ["run", "--no-prompt", "--allow-env", "--allow-read=testdata", "tests/_backend_probe.ts"];
  const r = await runDeno(args, { SNNTOOLBOX_THREADS: "2", SNNTOOLBOX_BACKEND: "auto" });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "");
  const p = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Probe;
  assertEquals([p.info.name, p.info.threads, p.backend], ["cpu", 1, "cpu"]);
  assertMatch(
    p.info.fallbackReason ?? "",
    /threaded WASM unavailable \(Aborted\(.*read access.*threaded-simd\.wasm/,
  );
  assertMatch(p.info.fallbackReason ?? "", /WASM backend unavailable: Aborted\(.*read access.*simd\.wasm/);
  await assertMatchesReference(p, "CPU fallback");
});

Deno.test("backend: WASM asked for by name that cannot start is a clear error, not a fallback", async () => {
  const args = ["run", "--no-prompt", "--allow-env", "--allow-read=.", "cli.ts", "--version"];
  const r = await runDeno(args, { SNNTOOLBOX_BACKEND: "wasm" });
  assertEquals(r.code, 1, r.stderr);
  assertMatch(r.stderr, /^error: backend 'wasm' cannot start: Aborted\(.*read access.*simd\.wasm/);
  assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
});
