/**
 * (5) WebGPU against WASM and the peers a user would compare with, in the
 * same run (skipped, with a message, where no WebGPU adapter exists):
 *
 * - `simulate <model> batch <n> × <k> steps`: SNN throughput (sample·steps/s)
 *   of the demo MNIST CNN and of a CIFAR-10-sized VGG-like network
 *   (bench/snn_peer.py, generated with Debian's torch at bench time);
 *   baseline = the simulator on single-threaded WASM; vs the simulator on
 *   WebGPU (fused integrate-and-fire kernel), and PyTorch running the same
 *   integrate-and-fire loop (CPU here, one thread; CUDA on a GPU machine is
 *   the anchor). Each iteration runs `k` steps and reads the last
 *   output back, so a GPU has finished the work the time includes.
 * - `infer resnet18 batch 32 on webgpu`: the parsed ResNet-18 on tfjs-webgpu
 *   (baseline) against onnxruntime-web's WebGPU execution provider on the
 *   same ONNX file (the peer a JavaScript user would pick); batch 1 on a
 *   software adapter, where batch 32 takes minutes.
 *
 * Every backend runs in a module worker of its own (backends are per realm).
 * Run alone: `deno bench -A bench/webgpu_bench.ts`.
 *
 * @module
 */
import { ONNXRUNTIME_WEB } from "../deps.ts";
import { probeAdapter } from "../lib/backend/webgpu.ts";
import { benchModel, InferWorker, randomBatch, toChannelsFirst } from "./_helpers.ts";
import { ensureVgg, SimWorker, type SnnModelName, TorchPeer } from "./_sim.ts";

const STEPS = 5;
const ORT_WEBGPU = `${ONNXRUNTIME_WEB}/webgpu`;
const BATCH = 32;
const adapter = await probeAdapter();
const gpuName = typeof adapter === "string" ? "" : `${adapter.name}${adapter.software ? ", software" : ""}`;
if (typeof adapter === "string") console.log(`webgpu_bench: skipping the WebGPU benchmarks: ${adapter}`);
const workers: { terminate(): void }[] = [];
const peers: TorchPeer[] = [];

/** Few iterations where one is slow (the VGG and ResNet on a software adapter take seconds). */
function iterations(heavy: boolean): { n?: number; warmup?: number } {
  return heavy ? { n: 3, warmup: 1 } : {};
}

/**
 * ResNet-18's batch: 32 on a GPU; 1 on a software adapter, where one batch of
 * 32 takes about two minutes (lavapipe on 2 cores).
 */
const RESNET_BATCH = typeof adapter !== "string" && adapter.software ? 1 : 32;

async function snnGroup(model: SnnModelName): Promise<void> {
  const group = `simulate ${model} batch ${BATCH} × ${STEPS} steps`;
  const heavy = model === "vgg";
  const wasm = await SimWorker.start("wasm", model, BATCH);
  workers.push(wasm);
  Deno.bench({
    name: `${model} b${BATCH}: SNN on tfjs-wasm, 1 thread`,
    group,
    baseline: true,
    ...iterations(heavy),
  }, async () => {
    await wasm.steps(STEPS);
  });
  if (gpuName) {
    const gpu = await SimWorker.start("webgpu", model, BATCH);
    workers.push(gpu);
    const kernel = gpu.fused ? "fused IF kernel" : "element-wise ops";
    Deno.bench(
      { name: `${model} b${BATCH}: SNN on tfjs-webgpu (${gpuName}), ${kernel}`, group, ...iterations(heavy) },
      async () => {
        await gpu.steps(STEPS);
      },
    );
  }
  const torch = await TorchPeer.start(model, BATCH, 1);
  if (typeof torch === "string") {
    console.log(`webgpu_bench: no PyTorch peer for ${model}: ${torch}`);
    return;
  }
  peers.push(torch);
  Deno.bench(
    { name: `${model} b${BATCH}: IF loop in PyTorch (CPU, 1 thread)`, group, ...iterations(heavy) },
    async () => {
      await torch.steps(STEPS);
    },
  );
}

interface OrtSession {
  inputNames: string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { dispose?: () => void }>>;
}
interface OrtWeb {
  env: { wasm: { wasmBinary?: Uint8Array; numThreads?: number } };
  InferenceSession: { create(bytes: Uint8Array, options: unknown): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}

/** Folder of an npm package in Deno's npm cache (`deno info --json` names the cache). */
async function npmPackageDir(name: string, version: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { npmCache: string };
  return `${info.npmCache}/registry.npmjs.org/${name}/${version}`;
}

/** onnxruntime-web with its WebGPU EP, its WASM file given as bytes (Deno cannot fetch it by URL); or why not. */
async function ortWebGpu(onnx: string): Promise<OrtSession | string> {
  try {
    const ort = (await import(ORT_WEBGPU)) as OrtWeb;
    ort.env.wasm.wasmBinary = await Deno.readFile(
      `${await npmPackageDir("onnxruntime-web", "1.20.1")}/dist/ort-wasm-simd-threaded.jsep.wasm`,
    );
    ort.env.wasm.numThreads = 1;
    return await ort.InferenceSession.create(await Deno.readFile(onnx), { executionProviders: ["webgpu"] });
  } catch (err) {
    return `onnxruntime-web (WebGPU EP) did not start: ${err instanceof Error ? err.message : err}`;
  }
}

async function resnetGroup(): Promise<void> {
  const spec = await benchModel("resnet18");
  if (typeof spec === "string") {
    console.log(`webgpu_bench: skipping ResNet-18: ${spec}`);
    return;
  }
  const BATCH = RESNET_BATCH;
  const group = `infer resnet18 batch ${BATCH} on webgpu`;
  const tfjs = await InferWorker.start(1, "resnet18", [BATCH], "webgpu");
  workers.push(tfjs);
  Deno.bench({
    name: `resnet18 b${BATCH}: parsed model, tfjs-webgpu (${gpuName})`,
    group,
    baseline: true,
    ...iterations(true),
  }, async () => {
    await tfjs.infer(BATCH);
  });
  const session = await ortWebGpu(spec.path);
  if (typeof session === "string") {
    console.log(`webgpu_bench: ${session}`);
    return;
  }
  const ort = (await import(ORT_WEBGPU)) as OrtWeb;
  const shape: [number, number, number, number] = [BATCH, 224, 224, 3];
  const nchw = toChannelsFirst(randomBatch(spec.sampleShape, BATCH, BATCH), shape);
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", nchw, [BATCH, 3, 224, 224]) };
  Deno.bench(
    { name: `resnet18 b${BATCH}: onnxruntime-web 1.20.1, WebGPU EP`, group, ...iterations(true) },
    async () => {
      const out = await session.run(feeds);
      for (const t of Object.values(out)) t.dispose?.();
    },
  );
}

await snnGroup("mnist");
const noVgg = await ensureVgg();
if (noVgg) console.log(`webgpu_bench: skipping the VGG-like CIFAR-10 model: ${noVgg}`);
else await snnGroup("vgg");
if (gpuName) await resnetGroup();

globalThis.addEventListener("unload", () => {
  workers.forEach((w) => w.terminate());
  peers.forEach((p) => void p.stop());
});
