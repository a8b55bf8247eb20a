/**
 * Results equal across backends (WebGPU on Mesa's lavapipe where there is
 * no GPU, against single-threaded WASM), each computed in its own process
 * (tests/_backend_compare_probe.ts): conformance models' outputs within
 * 1e-4 relative (input and parsed models), identical MNIST predictions on
 * the demo's 1000 test images (near-ties aside), and the demo SNN's
 * accuracy within 0.1 points at the same seed. Also the CLI side of the
 * backend choice: `--backend webgpu --version` names the adapter, and
 * WebGPU asked for where there is no adapter is a clear error. Skips with a
 * message where no WebGPU adapter exists.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { probeAdapter } from "../lib/backend/webgpu.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { readNpzArray, writeNpz } from "../lib/io/npz.ts";
import { loadInputModel } from "../lib/parsing/files.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { COMPARED_MODELS, DEMO_SIMULATION } from "./_backend_compare_probe.ts";
import { assertClose, assertEquals, assertMatch, assertTrue, fixturesDir } from "./_assert.ts";

const adapter = await probeAdapter();
const skip = typeof adapter === "string";
if (skip) console.warn(`backend_compare_test: skipped, no WebGPU adapter (${adapter})`);
const FIX = fixturesDir();
if (!FIX) console.warn("backend_compare_test: conformance models skipped, ../shared/fixtures is absent");
const root = new URL("../", import.meta.url);

async function deno(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

interface ProbeResult {
  backend: string;
  models: Record<string, { input: number[]; parsed: number[] }>;
  mnistLogits: number[];
  snn: { accuracy: number; guesses: number[]; sops: number };
}

async function probe(backend: string, factors: string): Promise<ProbeResult> {
  const r = await deno(
    ["run", "-A", "tests/_backend_compare_probe.ts", factors, ...(FIX ? [FIX] : [])],
    { SNNTOOLBOX_BACKEND: backend },
  );
  assertEquals(r.code, 0, `${backend} probe failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as ProbeResult;
}

/** Scale factors of the demo model, computed once (here, on WASM) and given to both probes. */
async function demoFactors(): Promise<string> {
  await initBackend({ backend: "wasm" });
  const demo = new URL("../testdata/demo/", import.meta.url).pathname;
  const { inputModel } = await loadInputModel(`${demo}mnist_cnn.json`);
  const parser = createParser(inputModel, {});
  parser.parse();
  const model = parser.buildParsedModel();
  const { scaleFactors } = await normalizeParameters(model, await readNpzArray(`${demo}data/x_norm.npz`), {
    batchSize: 100,
  });
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(scaleFactors));
  return file;
}

Deno.test({
  name:
    "backends agree: conformance outputs ≤ 1e-4 relative, MNIST predictions, demo SNN accuracy ±0.1 points",
  ignore: skip,
  fn: async () => {
    const factors = await demoFactors();
    try {
      const [wasm, gpu] = await Promise.all([probe("wasm", factors), probe("webgpu", factors)]);
      assertEquals([wasm.backend, gpu.backend], ["wasm", "webgpu"]);
      for (const file of FIX ? COMPARED_MODELS : []) {
        for (const kind of ["input", "parsed"] as const) {
          const [a, b] = [gpu.models[file][kind], wasm.models[file][kind]];
          const scale = Math.max(...b.map(Math.abs));
          assertClose(a, b, { rtol: 1e-4, atol: 1e-4 * scale, msg: `${file} ${kind}` });
        }
      }
      // MNIST predictions: equal unless WASM's two best logits are (nearly) tied.
      const classes = 10;
      let compared = 0;
      for (let i = 0; i < wasm.mnistLogits.length / classes; i++) {
        const w = wasm.mnistLogits.slice(i * classes, (i + 1) * classes);
        const g = gpu.mnistLogits.slice(i * classes, (i + 1) * classes);
        const sorted = [...w].sort((p, q) => q - p);
        if (sorted[0] - sorted[1] <= 1e-5 * Math.abs(sorted[0])) continue;
        assertEquals(g.indexOf(Math.max(...g)), w.indexOf(sorted[0]), `MNIST image ${i}`);
        compared++;
      }
      assertTrue(compared >= 990, `only ${compared} untied images`);
      const diff = Math.abs(gpu.snn.accuracy - wasm.snn.accuracy);
      console.log(
        `demo SNN on ${DEMO_SIMULATION.numToTest} samples: WASM ${wasm.snn.accuracy}, WebGPU ${gpu.snn.accuracy}; ` +
          `${gpu.snn.guesses.filter((v, i) => v !== wasm.snn.guesses[i]).length} guesses differ`,
      );
      assertTrue(
        diff <= 0.001 + 1e-12,
        `SNN accuracy WASM ${wasm.snn.accuracy} vs WebGPU ${gpu.snn.accuracy}`,
      );
    } finally {
      await Deno.remove(factors);
    }
  },
});

Deno.test({
  name: "CLI: --backend webgpu --version names the adapter; WebGPU without an adapter is a clear error",
  ignore: skip,
  fn: async () => {
    const ok = await deno(["run", "-A", "cli.ts", "--backend", "webgpu", "--version"], {});
    assertEquals(ok.code, 0, ok.stderr);
    assertMatch(ok.stdout, /backend webgpu, threads 1\nWebGPU adapter: \S/);
    if (typeof adapter !== "string") assertTrue(ok.stdout.includes(adapter.name), ok.stdout);
    // DENO_WEBGPU_BACKEND=dx12 (a backend Linux lacks) hides every adapter.
    const none = await deno(["run", "-A", "cli.ts", "--version"], {
      SNNTOOLBOX_BACKEND: "webgpu",
      DENO_WEBGPU_BACKEND: "dx12",
    });
    assertEquals(none.code, 1, none.stderr);
    assertEquals(
      none.stderr.trim(),
      "error: backend 'webgpu' cannot start: no WebGPU adapter found (a GPU driver, " +
        "or Mesa's lavapipe: Debian package mesa-vulkan-drivers)",
    );
    const auto = await deno(["run", "-A", "cli.ts", "--version"], { DENO_WEBGPU_BACKEND: "dx12" });
    assertEquals(auto.code, 0, auto.stderr);
    assertMatch(auto.stdout, /backend wasm, threads 1\n$/);
  },
});

/** A scratch copy of the demo experiment, small enough for lavapipe (100 test and 100 normalization images). */
async function smallDemo(): Promise<string> {
  const demo = new URL("../testdata/demo/", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "snn_webgpu_run_" });
  for (const f of ["mnist_cnn.json", "mnist_cnn.weights.bin"]) {
    await Deno.copyFile(`${demo}${f}`, `${dir}/${f}`);
  }
  await Deno.mkdir(`${dir}/data`);
  for (const name of ["x_test", "y_test", "x_norm"]) {
    const a = await readNpzArray(`${demo}data/${name}.npz`);
    const per = a.shape.slice(1).reduce((p, q) => p * q, 1);
    await writeNpz(`${dir}/data/${name}.npz`, {
      arr_0: { data: a.data.slice(0, 100 * per), shape: [100, ...a.shape.slice(1)], dtype: a.dtype },
    });
  }
  await Deno.writeTextFile(
    `${dir}/exp.ini`,
    `[paths]\ndataset_path = data\nfilename_ann = mnist_cnn\n\n[input]\nmodel_lib = keras\n\n` +
      `[tools]\nevaluate_ann = True\nparse = True\nnormalize = True\nconvert = True\nsimulate = True\n\n` +
      `[simulation]\nduration = 30\nbatch_size = 50\nnum_to_test = 100\n\n` +
      `[output]\nlog_vars = {'synaptic_operations_b_t'}\nplot_vars = {'operations', 'error_t'}\n`,
  );
  return dir;
}

Deno.test({
  name: "run on WebGPU: evaluate, parse, normalize, simulate and report agree with WASM",
  ignore: skip,
  fn: async () => {
    const dirs = [await smallDemo(), await smallDemo()];
    try {
      const runs = await Promise.all(
        ["wasm", "webgpu"].map((backend, i) =>
          deno(["run", "-A", "cli.ts", "run", `${dirs[i]}/exp.ini`, "--json", "--quiet"], {
            SNNTOOLBOX_BACKEND: backend,
            SNNTOOLBOX_WORKERS: "1",
          })
        ),
      );
      const [wasm, gpu] = runs.map((r, i) => {
        assertEquals(r.code, 0, `${["wasm", "webgpu"][i]}: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
      });
      assertEquals(gpu.stages, ["load", "evaluate_ann", "parse", "normalize", "convert", "simulate"]);
      assertEquals([gpu.ann_accuracy, gpu.parsed_accuracy], [wasm.ann_accuracy, wasm.parsed_accuracy]);
      const layers = Object.keys(wasm.scale_factors);
      assertClose(layers.map((l) => gpu.scale_factors[l]), layers.map((l) => wasm.scale_factors[l]), {
        rtol: 1e-4,
        msg: "scale factors",
      });
      assertTrue(
        Math.abs(gpu.snn_accuracy - wasm.snn_accuracy) <= 0.01 + 1e-12,
        `${gpu.snn_accuracy} vs ${wasm.snn_accuracy}`,
      );
      assertClose([gpu.sops], [wasm.sops], { rtol: 1e-3, msg: "SOPs" });
      for (const f of ["report.html", "plots/Operations_vs_time.svg", "log_vars/0.npz"]) {
        assertTrue((await Deno.stat(`${dirs[1]}/log/gui/test/${f}`)).isFile, f);
      }
    } finally {
      for (const d of dirs) await Deno.remove(d, { recursive: true });
    }
  },
});
