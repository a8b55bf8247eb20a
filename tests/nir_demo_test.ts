/**
 * The bar for the NIR export, on the bundled MNIST demo
 * (testdata/demo: mnist_cnn.json, normalized on data/x_norm.npz, softmax
 * output as ReLU, [cell] reset = Reset to zero, 100 steps of dt 1):
 *
 * - `run` with `[output] export_nir = True` writes the graph; the independent
 *   reader (tests/nir_reader.py: h5py + numpy, NIR's IF semantics, the same
 *   analog input each step) simulates it for 100 steps on the 1000 test
 *   images: its predictions equal ours, its spike total matches ours to 1e-5;
 * - the reference implementation reads the file (type check) and rewrites
 *   the same layout;
 * - the CLI: `export CONFIG` writes the same graph as the run; `export MODEL`
 *   (with and without reset to zero: the difference is a warning);
 *   `inspect`, `predict` and `run` on the .nir file (the graph simulated by
 *   our simulator reproduces the run's predictions).
 */
import { updateSetup } from "../lib/pipeline/setup.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { readNpy, writeNpy } from "../lib/io/npy.ts";
import { readNir } from "../lib/io/nir_read.ts";
import { runPipeline } from "../lib/pipeline/run.ts";
import { assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { readerAvailable, referenceCheck, runReader } from "./_nir.ts";

const DEMO = new URL("../testdata/demo/", import.meta.url).pathname;
const present = (p: string) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
};
const missing = [
  "mnist_cnn.json",
  "mnist_cnn.weights.bin",
  "data/x_test.npz",
  "data/y_test.npz",
  "data/x_norm.npz",
]
  .filter((f) => !present(DEMO + f));
if (missing.length) console.warn(`nir_demo_test: skipped, demo files missing: ${missing.join(", ")}`);

function config(extra = ""): string {
  return `[paths]
path_wd = .
dataset_path = ${DEMO}data
filename_ann = mnist_cnn

[tools]
evaluate_ann = False

[conversion]
softmax_to_relu = True

[simulation]
duration = 100
dt = 1
batch_size = 250
num_to_test = 1000

[cell]
reset = Reset to zero

[output]
export_nir = True
${extra}`;
}

/** Plain JSON of a graph (typed arrays as lists) for comparisons. */
function plain(g: unknown): unknown {
  return JSON.parse(JSON.stringify(g, (_, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, Number);
    return v;
  }));
}

Deno.test({
  name:
    "NIR demo: the independent reader's predictions equal ours on 1000 images (reset to zero); the CLI on the graph",
  ignore: missing.length > 0,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "nir_demo_" });
    try {
      for (const f of ["mnist_cnn.json", "mnist_cnn.weights.bin"]) {
        await Deno.copyFile(DEMO + f, `${dir}/${f}`);
      }
      await Deno.writeTextFile(`${dir}/zero.ini`, config());
      const started = performance.now();
      const result = await runPipeline(await updateSetup(`${dir}/zero.ini`));
      const sim = result.simulation!;
      const nirPath = result.nirPath!;
      assertEquals(nirPath, `${dir}/mnist_cnn_INI.nir`);
      assertEquals(sim.numSamples, 1000);
      const ourSpikes = sim.tallies.spikeTotals.reduce((a, b) => a + b, 0);
      const secs = (performance.now() - started) / 1000;

      await t.step("the independent reader simulates the graph to the same predictions", async () => {
        if (!(await readerAvailable())) return;
        const t0 = performance.now();
        const r = await runReader(nirPath, `${DEMO}data/x_test.npz`, {
          steps: 100,
          channelsLast: true,
          batch: 250,
        });
        const differ = r.predictions.flatMap((p, i) => (p === sim.guesses[i] ? [] : [i]));
        assertEquals(differ, [], `samples where the reader's prediction differs: ${differ.slice(0, 10)}`);
        // Spikes: float32 sums in another order may move a potential across the threshold now and then.
        assertTrue(
          Math.abs(r.spikes - ourSpikes) <= 1e-5 * ourSpikes,
          `spikes ${r.spikes} vs ours ${ourSpikes}`,
        );
        console.log(
          `NIR demo: reset to zero, SNN top-1 ${(100 * sim.snnAccuracy).toFixed(1)} % (ANN ${
            (100 * sim.annAccuracy).toFixed(1)
          } %), ${ourSpikes} spikes (reader ${r.spikes}); run ${secs.toFixed(1)} s, reader ${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s`,
        );
      });

      await t.step("the reference implementation reads it and rewrites the same layout", async () => {
        const check = await referenceCheck(nirPath, dir);
        if (check) assertEquals(check.nodes.length, 13);
      });

      await t.step(
        "export CONFIG writes the run's graph; export MODEL states the reset difference",
        async () => {
          const a = await runCli(["export", `${dir}/zero.ini`, "--nir", `${dir}/cfg.nir`]);
          assertEquals(a.code, 0, a.err.join("\n"));
          assertMatch(a.out.join("\n"), /wrote .*cfg\.nir: NIR 1\.0\.7 graph of 13 nodes, 12 edges/);
          assertEquals(a.err.filter((l) => l.startsWith("warning: ") && /NIR|reset/.test(l)), []);
          assertEquals(plain((await readNir(`${dir}/cfg.nir`)).graph), plain((await readNir(nirPath)).graph));

          const m = await runCli([
            "export",
            `${dir}/mnist_cnn.json`,
            "--nir",
            `${dir}/m.nir`,
            "--softmax-to-relu",
          ]);
          assertEquals(m.code, 0, m.err.join("\n"));
          assertMatch(m.err.join("\n"), /warning: \[cell\] reset = Reset by subtraction has no NIR form/);
          const g = (await readNir(`${dir}/m.nir`)).graph;
          assertEquals([g.metadata?.toolbox_reset, g.metadata?.normalized], ["Reset by subtraction", "no"]);
          assertMatch(String(g.metadata?.differences), /resets? to v_reset/);

          const z = await runCli([
            "export",
            `${dir}/mnist_cnn.json`,
            "--nir",
            `${dir}/z.nir`,
            "--softmax-to-relu",
            "--reset",
            "zero",
          ]);
          assertEquals([z.code, z.err.filter((l) => l.startsWith("warning"))], [0, []]);

          const s = await runCli(["export", `${dir}/mnist_cnn.json`, "--nir", `${dir}/s.nir`]);
          assertEquals(s.code, 1);
          assertMatch(
            s.err.join("\n"),
            /layer '05Dense_10' \(Dense\) cannot be exported to NIR: .*softmax_to_relu = True/,
          );
          assertTrue(!present(`${dir}/s.nir`), "no file is written on error");
        },
      );

      await t.step("inspect lists the nodes and edges", async () => {
        const r = await runCli(["inspect", nirPath, "--json"]);
        assertEquals(r.code, 0, r.err.join("\n"));
        const j = JSON.parse(r.out[0]);
        assertEquals([j.format, j.version, j.nodes.length, j.edges.length], ["nir", "1.0.7", 13, 12]);
        assertEquals(j.nodes[0], {
          name: "input",
          type: "Input",
          shape: [1, 28, 28],
          params: 0,
          details: "",
          inbound: [],
        });
        assertEquals(j.nodes.at(-1).name, "output");
        assertEquals(j.metadata.toolbox_reset, "Reset to zero");
        const text = await runCli(["inspect", nirPath]);
        assertMatch(text.out.join("\n"), /05Dense_10\s+Affine\s+10\s+8010\s+weight 10x800\s+04Flatten_800/);
      });

      await t.step("predict on the graph: output spike counts give the run's predictions", async () => {
        const x = await readNpzArray(`${DEMO}data/x_test.npz`);
        const n = 20;
        const nchw = new Float32Array(n * 784); // [N, 28, 28, 1] → [N, 1, 28, 28]: the same order for one channel
        nchw.set((x.data as Float32Array).subarray(0, n * 784));
        await writeNpy(`${dir}/x.npy`, { data: nchw, shape: [n, 1, 28, 28], dtype: "float32" });
        const r = await runCli(["predict", nirPath, "--input", `${dir}/x.npy`, "--output", `${dir}/y.npy`]);
        assertEquals(r.code, 0, r.err.join("\n"));
        const y = await readNpy(`${dir}/y.npy`);
        assertEquals(y.shape, [n, 10]);
        const counts = y.data as Float32Array;
        const argmax = Array.from({ length: n }, (_, i) => {
          const row = counts.subarray(i * 10, i * 10 + 10);
          return row.some((v) => v > 0) ? row.indexOf(Math.max(...row)) : -1;
        });
        assertEquals(argmax, sim.guesses.slice(0, n));
        const bad = await runCli([
          "predict",
          nirPath,
          "--input",
          `${DEMO}data/x_test.npz`,
          "--output",
          `${dir}/y2.npy`,
        ]);
        assertEquals(bad.code, 1);
      });

      await t.step(
        "run on the graph (filename_ann = the .nir file) reproduces the run's predictions",
        async () => {
          await Deno.writeTextFile(
            `${dir}/nir.ini`,
            `[paths]\npath_wd = .\ndataset_path = ${DEMO}data\nfilename_ann = mnist_cnn_INI.nir\n\n` +
              `[simulation]\nduration = 100\nbatch_size = 100\nnum_to_test = 200\n`,
          );
          const r = await runPipeline(await updateSetup(`${dir}/nir.ini`));
          assertEquals(r.stages, ["load", "convert", "simulate"]);
          assertEquals(r.simulation!.guesses, sim.guesses.slice(0, 200));
          // The CLI, on the first 100.
          const text = await Deno.readTextFile(`${dir}/nir.ini`);
          await Deno.writeTextFile(
            `${dir}/nir100.ini`,
            text.replace("num_to_test = 200", "num_to_test = 100"),
          );
          const cli = await runCli(["run", `${dir}/nir100.ini`, "--json"]);
          assertEquals(cli.code, 0, cli.err.join("\n"));
          const j = JSON.parse(cli.out.at(-1)!);
          const labels = await readNpzArray(`${DEMO}data/y_test.npz`);
          const truth = Array.from({ length: 100 }, (_, i) => {
            const row = Array.from((labels.data as Float32Array).subarray(i * 10, i * 10 + 10));
            return row.indexOf(Math.max(...row));
          });
          assertEquals(
            j.snn_accuracy,
            sim.guesses.slice(0, 100).filter((g, i) => g === truth[i]).length / 100,
          );
          assertMatch(cli.err.join("\n"), /IF neurons firing at v >= 1, reset to 0/);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "NIR demo: [output] export_nir is validated as a boolean and defaults to off",
  ignore: missing.length > 0,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "nir_cfg_" });
    try {
      for (const f of ["mnist_cnn.json", "mnist_cnn.weights.bin"]) {
        await Deno.copyFile(DEMO + f, `${dir}/${f}`);
      }
      await Deno.writeTextFile(`${dir}/bad.ini`, config().replace("export_nir = True", "export_nir = maybe"));
      const err = await updateSetup(`${dir}/bad.ini`, { createLogDir: false }).then(
        () => undefined,
        (e) => e,
      );
      assertMatch(String(err?.message), /bad\.ini.*\[output\] export_nir.*maybe/s);
      await Deno.writeTextFile(`${dir}/off.ini`, config().replace("export_nir = True", ""));
      const c = await updateSetup(`${dir}/off.ini`, { createLogDir: false });
      assertEquals([c.hasOption("output", "export_nir"), c.warnings.filter((w) => /export_nir/.test(w))], [
        false,
        [],
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
