/**
 * The pipeline after parsing (`runSnnStages`) on a small hand-set CNN on a
 * synthetic 4-class task: SNN accuracy close to the ANN's, correlations,
 * SOPs against a count from the logged spike trains, the files of a run,
 * the parameter sweep, Poisson input, and configuration errors.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigParser } from "../lib/config/configparser.ts";
import { DEFAULT_CONFIG } from "../lib/config/defaults.ts";
import { ConfigError, NotAvailableError } from "../lib/errors.ts";
import { float32Array, type NDArray } from "../lib/io/ndarray.ts";
import { readNpz } from "../lib/io/npz.ts";
import { runSnnStages } from "../lib/pipeline/snn_stages.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { runSimulation } from "../lib/simulation/run.ts";
import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { type QuadrantImageOptions, quadrantImages, quadrantModel } from "./_quadrants.ts";

await initBackend();

function config(overrides: string): ConfigParser {
  const c = new ConfigParser();
  c.readString(DEFAULT_CONFIG, "<defaults>");
  c.readString(overrides, "<test>");
  return c;
}

const model = quadrantModel();
const IMAGES = { classStride: 1, bright: [0.6, 0.4], noise: 0.25 } as const satisfies QuadrantImageOptions;
const test = quadrantImages(40, 99, IMAGES);
const norm = quadrantImages(40, 5, IMAGES);

Deno.test("runSnnStages: accuracy, correlation, SOPs from logged spikes, files, model untouched", async () => {
  const logDir = await Deno.makeTempDir();
  try {
    const before = model.getWeights().map((w) => w.dataSync().slice());
    let lastProgress = [0, 0];
    const res = await runSnnStages({
      parsedModel: model,
      config: config(`[simulation]
duration = 60
batch_size = 10
num_to_test = 40
top_k = 2
[output]
log_vars = {'spiketrains_n_b_l_t', 'activations_n_b_l', 'synaptic_operations_b_t'}
plot_vars = {'error_t', 'correlation', 'operations'}
`),
      dataset: { xTest: test.x, yTest: test.y, xNorm: norm.x },
      logDir,
      progress: (done, total) => (lastProgress = [done, total]),
    });
    assertEquals(lastProgress, [240, 240]);
    assertTrue(res.annAccuracy! >= 0.95, `ANN accuracy ${res.annAccuracy}`);
    assertTrue(
      res.snnAccuracy! >= res.annAccuracy! - 0.05,
      `SNN ${res.snnAccuracy} vs ANN ${res.annAccuracy}`,
    );
    assertEquals(res.snnAccuracyByTime!.length, 60);
    assertEquals(res.snnAccuracyByTime![59], res.snnAccuracy);
    assertTrue(res.correlationByLayer!["00Conv2D_4x4x4"] > 0.95, JSON.stringify(res.correlationByLayer));
    assertTrue(
      res.correlationByLayer!["01AveragePooling2D_2x2x4"] > 0.95,
      JSON.stringify(res.correlationByLayer),
    );
    // ANN MACs: conv 4x4 outputs x 9 taps x 4 filters, dense 16 x 4.
    assertEquals(res.macs, 16 * 9 * 4 + 16 * 4);
    // SOPs from the spike trains: each conv neuron has 1 synapse (into its pool), each pool neuron 4.
    let sops = 0;
    let spikes = 0;
    for (let b = 0; b < 4; b++) {
      const v = await readNpz(`${logDir}/log_vars/${b}.npz`);
      const count = (a: NDArray) => Array.from(a.data as Float32Array).filter((t) => t !== 0).length;
      for (const k of Object.keys(v).filter((k) => k.startsWith("spiketrains_n_b_l_t/"))) {
        spikes += count(v[k]);
      }
      sops += count(v["spiketrains_n_b_l_t/00Conv2D_4x4x4"]) +
        4 * count(v["spiketrains_n_b_l_t/01AveragePooling2D_2x2x4"]);
      assertEquals(v["spiketrains_n_b_l_t/00Conv2D_4x4x4"].shape, [10, 4, 4, 4, 60]);
      assertEquals(v.top1err_b_t.shape, [10, 60]);
      assertEquals(v["activations_n_b_l/03Dense_4"].shape, [10, 4]);
      const logged = Array.from(v.synaptic_operations_b_t.data as Float32Array).reduce((a, x) => a + x, 0);
      assertTrue(logged > 0);
    }
    assertClose([res.sops!], [sops / 40], { rtol: 1e-6 });
    const perStep = res.simulation!.spikeCountByTime;
    assertClose([perStep.reduce((a, x) => a + x, 0)], [spikes / 40], {
      rtol: 1e-6,
      msg: "spike counts by time",
    });
    for (
      const f of [
        "normalization/99.9.json",
        "accuracy.txt",
        "report.html",
        "plots/Error_vs_time.svg",
        "plots/Pearson.svg",
      ]
    ) {
      assertTrue((await Deno.stat(`${logDir}/${f}`)).isFile, f);
    }
    const html = await Deno.readTextFile(`${logDir}/report.html`);
    assertTrue(html.includes("<svg") && !/(src|href)="https?:/.test(html), "self-contained report");
    const acc = (await Deno.readTextFile(`${logDir}/accuracy.txt`)).trim().split("\n");
    assertEquals(acc.length, 5);
    model.getWeights().forEach((w, i) =>
      assertEquals(Array.from(w.dataSync()), Array.from(before[i]), "parsed model unchanged")
    );
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("runSnnStages: parameter sweep over v_thresh and Poisson input", async () => {
  const logDir = await Deno.makeTempDir();
  try {
    const res = await runSnnStages({
      parsedModel: model,
      config: config(`[simulation]
duration = 40
batch_size = 20
num_to_test = 40
[input]
poisson_input = True
[parameter_sweep]
param_values = [0.5, 1, 4]
param_name = v_thresh
`),
      dataset: { xTest: test.x, yTest: test.y, xNorm: norm.x },
      logDir,
    });
    assertEquals(res.sweep!.values, [0.5, 1, 4]);
    assertEquals(res.sweep!.accuracies.length, 3);
    assertTrue(
      res.sweep!.accuracies[1] >= 0.8,
      `Poisson accuracy at v_thresh 1: ${res.sweep!.accuracies[1]}`,
    );
    // A threshold 4x higher fires less: slower, so no better after 40 steps.
    assertTrue(res.sweep!.accuracies[2] <= res.sweep!.accuracies[1] + 0.05, JSON.stringify(res.sweep));
    assertTrue((await Deno.stat(`${logDir}/plots/Accuracy_vs_v_thresh.svg`)).isFile);
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("runSnnStages: unsupported simulator and bad reset are clear errors", async () => {
  const data = { xTest: test.x, yTest: test.y, xNorm: norm.x };
  await assertRejects(
    () =>
      runSnnStages({
        parsedModel: model,
        config: config("[simulation]\nsimulator = brian2\n"),
        dataset: data,
        logDir: "/nonexistent",
      }),
    NotAvailableError,
    /simulator = brian2/,
  );
  await assertRejects(
    () =>
      runSnnStages({
        parsedModel: model,
        config: config("[cell]\nreset = Reset by magic\n"),
        dataset: data,
        logDir: "/nonexistent",
      }),
    ConfigError,
    /\[cell\] reset must be one of 'Reset by subtraction'/,
  );
  await assertRejects(
    () =>
      runSnnStages({
        parsedModel: model,
        config: config("[cell]\npayloads = True\n"),
        dataset: data,
        logDir: "/nonexistent",
      }),
    NotAvailableError,
    /\[cell\] payloads = True is not available/,
  );
});

Deno.test("runSimulation: sample_idxs_to_test, an incomplete last batch dropped, early stopping on empty input", async () => {
  const opts = resolveSimulationOptions({ duration: 20, batchSize: 2, sampleIdxsToTest: [5, 2, 7] });
  const r = await runSimulation(model, test, opts);
  // Batches of 2: samples 5 and 2 are simulated, 7 (an incomplete batch) is dropped as in the toolbox.
  assertEquals(r.numSamples, 2);
  assertEquals(r.truth, [5 % 4, 2 % 4]);
  // Poisson input of an all-zero image has no events: with early stopping the run ends after one step
  // and its result (from the softmax layer's random spikes at step 1) stays as it is.
  const zeros = { x: float32Array(new Float32Array(2 * 36), [2, 6, 6, 1]), y: test.y };
  const stopped = await runSimulation(
    model,
    zeros,
    resolveSimulationOptions({
      duration: 30,
      batchSize: 2,
      numToTest: 2,
      poissonInput: true,
      earlyStopping: true,
    }),
    { progress: (done) => (lastDone = done) },
  );
  assertEquals(lastDone, 1);
  assertEquals(stopped.snnAccuracyByTime, new Array(30).fill(stopped.snnAccuracyByTime[0]));
  await assertRejects(
    () => runSimulation(model, test, resolveSimulationOptions({ numToTest: 41 })),
    ConfigError,
    /num_to_test = 41, but the test set has 40 samples/,
  );
});
let lastDone = 0;
