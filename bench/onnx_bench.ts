/**
 * ONNX library benchmarks (`deno bench -A bench/onnx_bench.ts`) on a
 * ResNet-18 with random weights (torchvision's layout in plain torch, written
 * by `testdata/onnx/gen_models.py --resnet` into a temporary folder, not
 * committed: ~47 MB):
 *
 * - load (decode + build the NCHW input model) vs reading the file's bytes;
 * - parsed-model throughput at batch 32 vs onnxruntime-node on the same file.
 *
 * Skipped with a message when python3 with torch is not there to generate the model.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { loadOnnxModel, OnnxModelParser } from "../lib/parsing/model_libs/onnx.ts";
import { loadOrt } from "../tests/_onnx.ts";

const DIR = `${Deno.env.get("TMPDIR") ?? "/tmp"}/snntoolbox-onnx-bench`;
const MODEL = `${DIR}/resnet18.onnx`;
const BATCH = 32;

async function ensureModel(): Promise<string | undefined> {
  try {
    await Deno.stat(MODEL);
    return undefined;
  } catch { /* generate it */ }
  const gen = new URL("../testdata/onnx/gen_models.py", import.meta.url).pathname;
  try {
    const out = await new Deno.Command("/usr/bin/python3", { args: [gen, "--resnet", DIR], stderr: "piped" })
      .output();
    return out.success
      ? undefined
      : `the generator failed: ${new TextDecoder().decode(out.stderr).slice(-300)}`;
  } catch (err) {
    return `python3 is not available (${err instanceof Error ? err.message : err})`;
  }
}

const skip = await ensureModel();
if (skip) console.log(`onnx benchmarks skipped: ${skip}`);

if (!skip) {
  await initBackend();
  const input = await loadOnnxModel(MODEL);
  const parser = new OnnxModelParser(input, {});
  parser.parse();
  const parsed = parser.buildParsedModel();
  const x = tf.randomUniform([BATCH, 224, 224, 3], -1, 1, "float32");
  const xData = Float32Array.from(tf.transpose(x, [0, 3, 1, 2]).dataSync());

  Deno.bench(
    { name: "read resnet18.onnx bytes", group: "load", baseline: true, n: 10, warmup: 2 },
    async () => {
      await Deno.readFile(MODEL);
    },
  );
  Deno.bench({ name: "load resnet18.onnx as input model", group: "load", n: 10, warmup: 2 }, async () => {
    const m = await loadOnnxModel(MODEL);
    m.model.dispose();
  });

  Deno.bench(
    { name: `parsed model (tfjs), batch ${BATCH}`, group: "throughput", n: 3, warmup: 1 },
    async (b) => {
      b.start();
      const y = parsed.predict(x) as tf.Tensor;
      await y.data();
      b.end();
      y.dispose();
    },
  );

  const ort = await loadOrt();
  if (typeof ort === "string") {
    console.log(`onnxruntime-node comparison skipped: ${ort}`);
  } else {
    const session = await ort.InferenceSession.create(MODEL);
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", xData, [BATCH, 3, 224, 224]) };
    Deno.bench({
      name: `onnxruntime-node, batch ${BATCH}`,
      group: "throughput",
      baseline: true,
      n: 3,
      warmup: 1,
    }, async () => {
      await session.run(feeds);
    });
  }
}
