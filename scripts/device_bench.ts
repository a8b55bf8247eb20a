/**
 * The SNN throughput benchmark as one self-contained script, for the GPU
 * machine some sessions are lent (no network, no Deno install, no npm
 * cache: see ../shared/device/README.md). It runs on one backend per
 * process and prints one JSON line per measurement; the WASM binaries are
 * embedded as in the standalone build, so the bundle needs nothing else.
 *
 * ```sh
 * ../shared/device/prepare.sh
 * deno bundle --no-config --unstable-raw-imports --platform deno -o .device/device_bench.js scripts/device_bench.ts
 * /usr/bin/python3 bench/snn_peer.py --export-vgg .device       # .device/vgg_cifar10.onnx (1.2 MB)
 * cp bench/snn_peer.py .device/
 * # on the device (carry .device; see docs/benchmarks.md for the whole command):
 * bash .device/bootstrap.sh deno run -A .device/device_bench.js --backend webgpu --model vgg --batch 128 \
 *   --steps 50 --demo testdata/demo --vgg .device/vgg_cifar10.onnx
 * ```
 *
 * Measures, for `--model` (`mnist`: the demo CNN; `vgg`: the CIFAR-10-sized
 * VGG-like network) at `--batch`: SNN sample·steps/s over `--steps` time
 * steps after 5 warm-up steps (the last output read back, so a GPU has
 * finished), and the ANN's samples/s on the same batch. With `--model
 * resnet18 --onnx FILE`: the parsed model's inference samples/s at `--batch`
 * over `--steps` batches (the peer is scripts/device_ort.ts on the same file).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../deps.ts";
import { type BackendChoice, initBackend } from "../lib/backend/mod.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { snnModel, type SnnModelName } from "../bench/_sim.ts";
import { loadInputModel } from "../lib/parsing/files.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { useEmbeddedWasm } from "./standalone.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "auto" },
    model: { type: "string", default: "mnist" },
    batch: { type: "string", default: "32" },
    steps: { type: "string", default: "50" },
    demo: { type: "string", default: "testdata/demo" },
    vgg: { type: "string", default: ".device/vgg_cifar10.onnx" },
    threads: { type: "string", default: "1" },
    onnx: { type: "string", default: ".device/resnet18.onnx" },
    flags: { type: "string", default: "" },
    profile: { type: "boolean", default: false },
  },
});

useEmbeddedWasm();
const info = await initBackend({ backend: values.backend as BackendChoice, threads: Number(values.threads) });
// tfjs flags to try, `NAME=VALUE,...` (numbers and booleans parsed), set after the backend started
for (const pair of values.flags!.split(",").filter(Boolean)) {
  const [flag, value] = pair.split("=");
  tf.env().set(flag, value === "true" ? true : value === "false" ? false : Number(value));
}
const batch = Number(values.batch);
const steps = Number(values.steps);
if (values.model === "resnet18") await inferResnet(values.onnx!);
const name = values.model as SnnModelName;
const { model, x } = await snnModel(name, batch, { demo: values.demo!, vgg: values.vgg! });
const input = tf.tensor(x, [batch, ...model.inputs[0].shape.slice(1).map(Number)], "float32");

/** The parsed ResNet-18's inference throughput (one JSON line), then exit. */
async function inferResnet(onnx: string): Promise<never> {
  const { inputModel } = await loadInputModel(onnx);
  const parser = createParser(inputModel, {});
  parser.parse();
  const model = parser.buildParsedModel();
  const shape = [batch, ...model.inputs[0].shape.slice(1).map(Number)];
  const x = tf.randomUniform(shape, 0, 1, "float32", 5);
  const seconds = await timed(async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  }, steps);
  console.log(JSON.stringify({
    backend: info.name,
    threads: info.threads,
    adapter: info.adapter?.name ?? null,
    model: "resnet18",
    runtime: "snntoolbox parsed model (tfjs-layers)",
    batch,
    reps: steps,
    samples_per_s: (batch * steps) / seconds,
    ms_per_batch: (seconds * 1000) / steps,
  }));
  Deno.exit(0);
}

async function timed(fn: () => Promise<void>, reps: number): Promise<number> {
  await fn();
  const start = performance.now();
  for (let i = 0; i < reps; i++) await fn();
  return (performance.now() - start) / 1000;
}

const annSeconds = await timed(async () => {
  const y = model.predict(input) as tf.Tensor;
  await y.data();
  y.dispose();
}, 10);

const net = SpikingNetwork.fromModel(model, resolveSimulationOptions({ duration: 1e9 }));
net.init(batch);
let t = 0;
const run = async (k: number) => {
  for (let i = 0; i < k; i++) {
    const out = net.step(input, t++).output;
    if (i === k - 1) await out.data();
    out.dispose();
  }
};
await run(5);
const start = performance.now();
await run(steps);
const snnSeconds = (performance.now() - start) / 1000;
const profile = values.profile ? await profileStep() : undefined;
console.log(JSON.stringify({
  flags: values.flags || undefined,
  profile,
  backend: info.name,
  threads: info.threads,
  adapter: info.adapter?.name ?? null,
  software: info.adapter?.software ?? null,
  fused: net.fused,
  model: name,
  batch,
  steps,
  sample_steps_per_s: (batch * steps) / snnSeconds,
  ann_samples_per_s: (batch * 10) / annSeconds,
}));
net.dispose();
Deno.exit(0);

/** One time step's kernels: GPU milliseconds by kernel name (where the backend can time them), and wall time. */
async function profileStep(): Promise<Record<string, unknown>> {
  try {
    const timing = await tf.time(() => {
      net.step(input, t++).output.dispose();
    });
    const prof = await tf.profile(() => {
      net.step(input, t++).output.dispose();
    });
    const byKernel: Record<string, { n: number; ms: number }> = {};
    for (const k of prof.kernels) {
      const entry = byKernel[k.name] ??= { n: 0, ms: 0 };
      entry.n++;
      entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : NaN;
    }
    return { wall_ms: timing.wallMs, kernel_ms: timing.kernelMs, kernels: byKernel };
  } catch (err) {
    return { error: String(err) };
  }
}
