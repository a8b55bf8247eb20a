/**
 * (4) The command line as a user meets it, each run a fresh `deno run -A`
 * subprocess (module cache warm, as after the first run):
 *
 * - cold start: `cli.ts --version` (loads the toolbox, initialises the
 *   threaded backend and reports it) vs an empty script (Deno's own start-up);
 * - the demo end to end: `deno task demo`'s experiment
 *   (testdata/demo/mnist_keras.ini: evaluate the ANN on 1000 MNIST images,
 *   parse, normalize, convert, simulate 100 steps, write logs and plots) vs
 *   the same experiment with only `evaluate_ann` on, and the whole demo in one
 *   thread (`--workers 1`; the default splits the simulation over one
 *   data-parallel worker per core). All run on a temporary
 *   copy of the demo (model files and config; the data is read in place),
 *   so the repository is not written to.
 *
 * Run alone: `deno bench -A bench/cli_bench.ts`.
 *
 * @module
 */
import { repoPath, runDeno } from "./_helpers.ts";

const DEMO = repoPath("testdata/demo/");

/** A temporary copy of the demo experiment; `annOnly` turns every tool but `evaluate_ann` off. */
async function demoConfig(dir: string, annOnly: boolean): Promise<string> {
  for (const f of ["mnist_cnn.json", "mnist_cnn.weights.bin"]) await Deno.copyFile(DEMO + f, `${dir}/${f}`);
  let ini = await Deno.readTextFile(`${DEMO}mnist_keras.ini`);
  const paths =
    `[paths]\npath_wd = ${dir}\ndataset_path = ${DEMO}data\nlog_dir_of_current_run = ${dir}/log\n`;
  ini = ini.replace(/\[paths\][^[]*/, `${paths}filename_ann = mnist_cnn\n\n`);
  if (annOnly) ini = ini.replace(/^(parse|normalize|convert|simulate) = True$/gm, "$1 = False");
  const path = `${dir}/${annOnly ? "ann_only" : "demo"}.ini`;
  await Deno.writeTextFile(path, ini);
  return path;
}

const tmp = await Deno.makeTempDir({ prefix: "snntoolbox-cli-bench-" });
const demo = await demoConfig(tmp, false);
const annOnly = await demoConfig(tmp, true);
const empty = `${tmp}/empty.ts`;
await Deno.writeTextFile(empty, "");
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

Deno.bench(
  { name: "deno run -A empty.ts", group: "cold start", baseline: true, n: 10, warmup: 1 },
  async () => {
    await runDeno(["run", "-A", empty]);
  },
);
Deno.bench({ name: "deno run -A cli.ts --version", group: "cold start", n: 10, warmup: 1 }, async () => {
  await runDeno(["run", "-A", "cli.ts", "--version"]);
});

Deno.bench(
  { name: "demo experiment, evaluate_ann only", group: "demo", baseline: true, n: 2, warmup: 1 },
  async () => {
    await runDeno(["run", "-A", "cli.ts", "run", annOnly]);
  },
);
Deno.bench(
  { name: "demo experiment end to end (deno task demo)", group: "demo", n: 2, warmup: 1 },
  async () => {
    await runDeno(["run", "-A", "cli.ts", "run", demo]);
  },
);
Deno.bench(
  { name: "demo experiment end to end, one thread (--workers 1)", group: "demo", n: 2, warmup: 1 },
  async () => {
    await runDeno(["run", "-A", "cli.ts", "run", demo, "--workers", "1"]);
  },
);
