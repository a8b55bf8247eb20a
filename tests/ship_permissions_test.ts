/**
 * The CLI's documented minimal permissions (issue 8): `parse` and `run`
 * succeed with exactly `--allow-read --allow-write=<output folder>
 * --allow-env` (no network, no FFI, no subprocesses, no system info), and an
 * output folder outside `--allow-write` is refused by Deno itself (its
 * `NotCapable` error, not a check of ours), reported as one `error:` line
 * with exit code 1 and no stack trace. Without `--allow-env` the HDF5
 * library's start-up fails inside a dependency callback: that too must be
 * one clear line.
 */
import { assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import { REQUIRED_PERMISSIONS } from "../lib/cli/permissions.ts";
import { copyFromRepo, type DenoRun, describeRun, REPO_DIR, runDeno, scratchDir } from "./_ship.ts";

/** The documented flags with the output folder filled in. */
function minimalFlags(outputFolder: string): string[] {
  return REQUIRED_PERMISSIONS.map((f) => f.replace("<output folder>", outputFolder));
}

const CLI = `${REPO_DIR}cli.ts`;

/** Files below `dir`, relative, sorted. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory) out.push(...await listFiles(`${dir}/${entry.name}`, `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

/** A refusal: exit 1, one `error:` line naming Deno's refusal, the permission hint, no stack trace. */
function assertRefused(run: DenoRun, pattern: RegExp): void {
  assertEquals(run.code, 1, describeRun(run));
  const lines = run.stderr.trim().split("\n");
  assertMatch(lines[0], /^error: /);
  assertMatch(run.stderr, pattern);
  assertMatch(run.stderr, /hint: snntoolbox needs --allow-read --allow-write=<output folder> --allow-env/);
  assertEquals(/^\s+at /m.test(run.stderr), false, `no stack trace:\n${run.stderr}`);
  assertEquals(/Uncaught/.test(run.stderr), false, run.stderr);
}

Deno.test("permissions: the documented set is exactly read, write of the output folder, env", () => {
  assertEquals(minimalFlags("out"), ["--allow-read", "--allow-write=out", "--allow-env"]);
});

Deno.test("permissions: parse with exactly the documented flags writes into the allowed folder only", async () => {
  const dir = await scratchDir("perm_parse");
  try {
    await copyFromRepo(dir, "testdata/demo/mnist_torch.onnx");
    await Deno.mkdir(`${dir}/out`);
    await Deno.mkdir(`${dir}/elsewhere`);
    const ok = await runDeno([
      "run",
      ...minimalFlags("out"),
      CLI,
      "parse",
      "mnist_torch.onnx",
      "--out",
      "out",
    ], {
      cwd: dir,
    });
    assertEquals(ok.code, 0, describeRun(ok));
    assertEquals(await listFiles(`${dir}/out`), ["mnist_torch_parsed.h5"]);

    const refused = await runDeno(
      ["run", ...minimalFlags("out"), CLI, "parse", "mnist_torch.onnx", "--out", "elsewhere"],
      { cwd: dir },
    );
    assertRefused(refused, /Requires write access to "[^"]*elsewhere[^"]*"/);
    assertEquals(await listFiles(`${dir}/elsewhere`), [], "nothing (not even a temp file) left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissions: without --allow-env the HDF5 start-up failure is one clear line", async () => {
  const dir = await scratchDir("perm_env");
  try {
    await copyFromRepo(dir, "testdata/demo/mnist_torch.onnx");
    const run = await runDeno([
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      CLI,
      "parse",
      "mnist_torch.onnx",
    ], {
      cwd: dir,
    });
    assertRefused(run, /Requires env access/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const EXPERIMENT = `[paths]
path_wd = .
dataset_path = ../inputs/data
filename_ann = mnist_torch

[input]
model_lib = onnx

[tools]
evaluate_ann = True
parse = True
normalize = True
convert = True
simulate = True

[simulation]
duration = 10
batch_size = 10
num_to_test = 10

[output]
plot_vars = {'error_t'}
`;

/** A scratch experiment: inputs/data (read only) and wd/ (config, model; the output folder). */
async function experiment(): Promise<string> {
  const dir = await scratchDir("perm_run");
  await Deno.mkdir(`${dir}/inputs/data`, { recursive: true });
  await Deno.mkdir(`${dir}/wd`);
  for (const name of ["x_test.npz", "y_test.npz", "x_norm.npz"]) {
    await Deno.copyFile(`${REPO_DIR}testdata/demo/data/${name}`, `${dir}/inputs/data/${name}`);
  }
  await copyFromRepo(`${dir}/wd`, "testdata/demo/mnist_torch.onnx");
  await Deno.writeTextFile(`${dir}/wd/exp.ini`, EXPERIMENT);
  return dir;
}

Deno.test("permissions: run (parse, normalize, convert, simulate) with exactly the documented flags", async () => {
  const dir = await experiment();
  try {
    const run = await runDeno(["run", ...minimalFlags("wd"), CLI, "run", "wd/exp.ini", "--json"], {
      cwd: dir,
    });
    assertEquals(run.code, 0, describeRun(run));
    const lines = run.stdout.trim().split("\n");
    const result = JSON.parse(lines[lines.length - 1]);
    assertEquals(result.num_tested, 10);
    assertTrue(typeof result.snn_accuracy === "number", describeRun(run));
    const written = await listFiles(`${dir}/wd`);
    assertTrue(written.includes("mnist_torch_parsed.h5"), written.join(", "));
    assertTrue(written.some((f) => f.startsWith("log/gui/test/")), written.join(", "));
    assertEquals(await listFiles(`${dir}/inputs`), ["data/x_norm.npz", "data/x_test.npz", "data/y_test.npz"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissions: run whose output folder is not in --allow-write is refused by Deno", async () => {
  const dir = await experiment();
  try {
    const run = await runDeno(["run", ...minimalFlags("inputs"), CLI, "run", "wd/exp.ini"], { cwd: dir });
    assertRefused(run, /Requires write access to "[^"]*\/wd\//);
    assertEquals(await listFiles(`${dir}/wd`), ["exp.ini", "mnist_torch.onnx"], "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
