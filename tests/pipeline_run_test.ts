import { assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { readNpy } from "../lib/io/npy.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { labelIndices } from "../lib/parsing/evaluate.ts";

const DEMO = new URL("../testdata/demo/", import.meta.url).pathname;

const capture = runCli;

/** A scratch experiment folder holding the PyTorch demo model and the demo data. */
async function scratchExperiment(tools: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "snn_pipeline_" });
  await Deno.copyFile(`${DEMO}mnist_torch.onnx`, `${dir}/mnist_torch.onnx`);
  await Deno.mkdir(`${dir}/data`);
  for (const f of ["x_test.npz", "y_test.npz", "x_norm.npz"]) {
    await Deno.copyFile(`${DEMO}data/${f}`, `${dir}/data/${f}`);
  }
  await Deno.writeTextFile(
    `${dir}/exp.ini`,
    `[paths]\ndataset_path = data\nfilename_ann = mnist_torch\n\n[input]\nmodel_lib = pytorch\n\n[tools]\n${tools}\n\n` +
      `[simulation]\nnum_to_test = 1000\nbatch_size = 100\n`,
  );
  return dir;
}

Deno.test("run: PyTorch demo model — input and parsed accuracy equal PyTorch's own predictions", async () => {
  const dir = await scratchExperiment(
    "evaluate_ann = True\nparse = True\nnormalize = False\nconvert = False\nsimulate = False",
  );
  try {
    const { code, out } = await capture(["run", `${dir}/exp.ini`, "--json", "--quiet"]);
    assertEquals(code, 0);
    const result = JSON.parse(out[out.length - 1]);
    // PyTorch's predictions on the MNIST test set (written by testdata/onnx/train_mnist.py).
    const torchPreds = await readNpy(
      new URL("../testdata/onnx/mnist_torch_preds.npy", import.meta.url).pathname,
    );
    const labels = labelIndices(await readNpzArray(`${dir}/data/y_test.npz`));
    let correct = 0;
    for (let i = 0; i < 1000; i++) if (Number(torchPreds.data[i]) === labels[i]) correct++;
    assertEquals(result.num_tested, 1000);
    assertEquals(result.ann_accuracy, correct / 1000);
    assertEquals(result.parsed_accuracy, correct / 1000);
    assertEquals(result.stages, ["load", "evaluate_ann", "parse"]);
    assertTrue((await Deno.stat(`${dir}/mnist_torch_parsed.h5`)).isFile, "parsed model written to path_wd");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: a missing dataset file is a clear error naming it, exit 2", async () => {
  const dir = await scratchExperiment("evaluate_ann = True\nparse = False");
  try {
    await Deno.remove(`${dir}/data/y_test.npz`);
    const { code, err } = await capture(["run", `${dir}/exp.ini`]);
    assertEquals(code, 2);
    assertMatch(err.join("\n"), /^error: .*y_test\.npz/m);
    assertTrue(!err.join("\n").includes("    at "), "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: without CONFIG is a usage error, exit 2", async () => {
  const { code, err } = await capture(["run"]);
  assertEquals(code, 2);
  assertMatch(err.join("\n"), /missing the CONFIG argument/);
});

Deno.test("run: Keras demo through normalize + simulate gives SNN accuracy by time, correlations and a report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn_pipeline_sim_" });
  try {
    for (const f of ["mnist_cnn.json", "mnist_cnn.weights.bin"]) {
      await Deno.copyFile(`${DEMO}${f}`, `${dir}/${f}`);
    }
    await Deno.mkdir(`${dir}/data`);
    for (const f of ["x_test.npz", "y_test.npz", "x_norm.npz"]) {
      await Deno.copyFile(`${DEMO}data/${f}`, `${dir}/data/${f}`);
    }
    await Deno.writeTextFile(
      `${dir}/exp.ini`,
      "[paths]\ndataset_path = data\nfilename_ann = mnist_cnn\n\n[input]\nmodel_lib = keras\n\n" +
        "[tools]\nevaluate_ann = True\nparse = True\nnormalize = True\nconvert = True\nsimulate = True\n\n" +
        "[simulation]\nduration = 40\ndt = 1\nbatch_size = 50\nnum_to_test = 100\n\n" +
        "[output]\nplot_vars = {'error_t', 'correlation'}\n",
    );
    const { code, out } = await capture(["run", `${dir}/exp.ini`, "--json", "--quiet"]);
    assertEquals(code, 0);
    const r = JSON.parse(out[out.length - 1]);
    assertEquals(r.stages, ["load", "evaluate_ann", "parse", "normalize", "convert", "simulate"]);
    assertEquals(r.snn_accuracy_by_time.length, 40);
    assertEquals(r.snn_accuracy, r.snn_accuracy_by_time[39]);
    // The SNN approximates the ANN: within a few points after 40 steps on 100 images.
    assertTrue(
      Math.abs(r.snn_accuracy - r.parsed_accuracy) <= 0.05,
      `SNN ${r.snn_accuracy} vs ANN ${r.parsed_accuracy}`,
    );
    const hidden = Object.values(r.correlation_by_layer as Record<string, number>).slice(0, -1);
    assertTrue(hidden.length >= 2 && hidden.every((c) => c > 0.95), `hidden correlations ${hidden}`);
    assertTrue(r.sops > 0 && r.macs > 0);
    assertTrue(r.files.some((f: string) => f.endsWith("report.html")), "HTML report written");
    assertTrue(Object.keys(r.scale_factors).length >= 3, "scale factors of every layer with parameters");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: 2 data-parallel workers (started while the parsed model is saved and evaluated) give the results of 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn_pipeline_workers_" });
  try {
    for (const f of ["mnist_cnn.json", "mnist_cnn.weights.bin"]) {
      await Deno.copyFile(`${DEMO}${f}`, `${dir}/${f}`);
    }
    const ini = (log: string) =>
      `[paths]\npath_wd = ${dir}\ndataset_path = ${DEMO}data\nfilename_ann = mnist_cnn\n` +
      `log_dir_of_current_run = ${dir}/${log}\n\n[input]\nmodel_lib = keras\n\n` +
      "[tools]\nevaluate_ann = False\nparse = True\nnormalize = True\nconvert = True\nsimulate = True\n\n" +
      "[simulation]\nduration = 20\ndt = 1\nbatch_size = 25\nnum_to_test = 100\n\n" +
      "[output]\nlog_vars = {'synaptic_operations_b_t'}\nplot_vars = {'operations', 'correlation'}\n";
    const results = [];
    for (const workers of ["1", "2"]) {
      await Deno.writeTextFile(`${dir}/w${workers}.ini`, ini(`log${workers}`));
      const { code, out } = await capture([
        "run",
        `${dir}/w${workers}.ini`,
        "--json",
        "--quiet",
        "--workers",
        workers,
      ]);
      assertEquals(code, 0);
      const { files: _, ...r } = JSON.parse(out[out.length - 1]);
      results.push(r);
    }
    assertTrue(results[0].sops > 0, "the network spikes");
    assertEquals(results[1], results[0]);
    const report = (log: string) => Deno.readTextFile(`${dir}/${log}/report.html`);
    assertEquals((await report("log2")).replaceAll("log2", "log1"), await report("log1"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
