/**
 * The torchvision zoo and the PyTorch MNIST example, exported to ONNX by
 * testdata/onnx/gen_zoo.py with Debian's torch/torchvision (random weights,
 * BatchNorm statistics away from identity) into a git-ignored cache folder
 * (.cache/zoo/, reused while the generator is unchanged): every model either
 * converts — the input model (NCHW) and the parsed model (NHWC) within 1e-4
 * of PyTorch's outputs, relative to their largest magnitude — or, for
 * multiplicative gating (EfficientNet, MobileNetV3), is refused with the one
 * error saying why. The MNIST example (trained briefly by the generator)
 * predicts exactly what PyTorch predicts.
 *
 * CI runs each model at one of the opsets 11/13/17 and leaves out the
 * largest (VGG-11-BN, 531 MB at its required 224x224 input);
 * `SNNTOOLBOX_ZOO_FULL=1` runs everything at all three opsets. Skipped with
 * a message when torch/torchvision/onnx are missing.
 */
import { assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { parseToModel, toChannelsLast } from "./_onnx.ts";
import { PYTHON, pythonHas } from "./_io_python.ts";
import { mnistDataDir } from "./_mnist.ts";
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { UnsupportedLayerError } from "../lib/errors.ts";
import { readNpy } from "../lib/io/npy.ts";
import { loadOnnxModel } from "../lib/importers/onnx/load.ts";

const FULL = Deno.env.get("SNNTOOLBOX_ZOO_FULL") === "1";
const ROOT = new URL("../", import.meta.url).pathname;
const GENERATOR = `${ROOT}testdata/onnx/gen_zoo.py`;
/** The generator and the files it imports: the cache key. */
const GENERATOR_SOURCES = [
  GENERATOR,
  `${ROOT}testdata/_gen_common.py`,
  `${ROOT}testdata/pytorch/mnist_example.py`,
];
const TOL = 1e-4;

interface ZooEntry {
  name: string;
  opsets: number[];
  input: number[];
  expect: "convert" | "gating";
  accuracy?: number;
}

interface Batch {
  data: Float32Array;
  shape: number[];
}

/** The generated zoo: made once per generator version and tier, in .cache/zoo/ (or SNNTOOLBOX_ZOO_DIR). */
async function zooDir(): Promise<string> {
  const sources = await Promise.all(GENERATOR_SOURCES.map((p) => Deno.readTextFile(p)));
  const bytes = new TextEncoder().encode(sources.join("\0"));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = Array.from(digest.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
  const tier = FULL ? "full" : "ci";
  const base = Deno.env.get("SNNTOOLBOX_ZOO_DIR") ?? `${ROOT}.cache/zoo`;
  const dir = `${base}/${tier}-${hash}`;
  try {
    await Deno.stat(`${dir}/manifest.json`);
    return dir;
  } catch { /* not generated yet */ }
  await Deno.mkdir(base, { recursive: true });
  for await (const e of Deno.readDir(base)) {
    if (e.name.startsWith(`${tier}-`)) await Deno.remove(`${base}/${e.name}`, { recursive: true });
  }
  const tmp = `${dir}.tmp${Deno.pid}`;
  const args = [GENERATOR, tmp, "--mnist", await mnistDataDir(), ...(FULL ? ["--full"] : [])];
  const started = performance.now();
  const out = await new Deno.Command(PYTHON, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(`gen_zoo.py failed:\n${new TextDecoder().decode(out.stderr).slice(-3000)}`);
  }
  console.log(`generated the ${tier} zoo in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await Deno.rename(tmp, dir);
  return dir;
}

async function readBatch(path: string): Promise<Batch> {
  const a = await readNpy(path);
  return { data: Float32Array.from(a.data as ArrayLike<number>), shape: a.shape };
}

/** Run a model on a batch, `chunk` samples at a time. */
function predict(model: tf.LayersModel, x: Batch, chunk = 100): Float32Array {
  const per = x.data.length / x.shape[0];
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.shape[0]; i += chunk) {
    const n = Math.min(chunk, x.shape[0] - i);
    const t = tf.tensor(x.data.subarray(i * per, (i + n) * per), [n, ...x.shape.slice(1)], "float32");
    const y = model.predict(t) as tf.Tensor;
    parts.push(y.dataSync() as Float32Array);
    tf.dispose([t, y]);
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** max |a - b| / max |b|. */
function relError(a: Float32Array, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return Number.isFinite(err) ? err / scale : Infinity;
}

/** Top-1 class per row, and whether the two best outputs tie (within float32 rounding). */
function top1(y: ArrayLike<number>, classes: number): { pred: number[]; tie: boolean[] } {
  const pred: number[] = [];
  const tie: boolean[] = [];
  for (let i = 0; i < y.length / classes; i++) {
    const row = Array.from({ length: classes }, (_, c) => y[i * classes + c]);
    const order = row.map((_, c) => c).sort((p, q) => row[q] - row[p]);
    pred.push(order[0]);
    tie.push(row[order[0]] - row[order[1]] <= 1e-5 * Math.abs(row[order[0]]));
  }
  return { pred, tie };
}

const hasTorch = await pythonHas("torch", "torchvision", "onnx");

Deno.test({
  name:
    `onnx zoo (${FULL ? "full: all models, opsets 11/13/17" : "CI tier; SNNTOOLBOX_ZOO_FULL=1 for all"}): ` +
    "torchvision models convert within 1e-4 of PyTorch or are refused for gating",
  ignore: !hasTorch,
  sanitizeResources: false,
  fn: async (t) => {
    await initBackend();
    const dir = await zooDir();
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)) as { models: ZooEntry[] };
    const table: string[] = [];
    for (const m of manifest.models) {
      await t.step(`${m.name} (opset ${m.opsets.join("/")})`, async () => {
        const x = await readBatch(`${dir}/${m.name}.in.npy`);
        const y = await readBatch(`${dir}/${m.name}.out.npy`);
        for (const opset of m.opsets) {
          const file = `${dir}/${m.name}_op${opset}.onnx`;
          const started = performance.now();
          if (m.expect === "gating") {
            const err = await assertRejects(() => loadOnnxModel(file), UnsupportedLayerError);
            assertMatch(err.message, /gate one signal by another — multiplicative gating/);
            assertMatch(err.message, /rate-coded spiking neuron/);
            const nodes = err.message.match(/^ {2}- node /gm)?.length ?? 0;
            table.push(`${m.name} op${opset}: refused (gating, ${nodes} nodes listed)`);
            continue;
          }
          const input = await loadOnnxModel(file);
          const parsed = parseToModel(input);
          const classes = y.data.length / y.shape[0];
          // log_softmax outputs (the MNIST example) are converted as softmax: compare probabilities.
          const want = m.name === "mnist_example" ? y.data.map(Math.exp) : y.data;
          const got = predict(input.model, x);
          const gotParsed = predict(parsed, toChannelsLast(x));
          input.model.dispose();
          parsed.dispose();
          const e1 = relError(got, want);
          const e2 = relError(gotParsed, want);
          const secs = ((performance.now() - started) / 1000).toFixed(1);
          table.push(
            `${m.name} op${opset}: input ${e1.toExponential(1)}, parsed ${e2.toExponential(1)} (${secs} s)`,
          );
          assertTrue(e1 <= TOL, `${m.name} opset ${opset}: input model relative error ${e1}`);
          assertTrue(e2 <= TOL, `${m.name} opset ${opset}: parsed model relative error ${e2}`);
          if (m.name === "mnist_example") {
            const ref = await readNpy(`${dir}/mnist_example.preds.npy`);
            const torchPred = Array.from(ref.data as ArrayLike<number | bigint>, Number);
            for (const [what, out] of [["input", got], ["parsed", gotParsed]] as const) {
              const { pred, tie } = top1(out, classes);
              const differ = pred.filter((p, i) => p !== torchPred[i] && !tie[i]).length;
              assertEquals(differ, 0, `${what} model: ${differ} predictions differ from PyTorch's`);
            }
          }
        }
      });
    }
    console.log(table.join("\n"));
  },
});
