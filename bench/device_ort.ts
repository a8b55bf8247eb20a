/**
 * The peer of the GPU-machine inference benchmark: onnxruntime-web with its
 * WebGPU execution provider, running an ONNX file at a batch size and
 * printing one JSON line with samples/s. It imports nothing from npm at
 * build time: the GPU machine has no network and no npm cache, so the
 * package's self-contained ESM build (`dist/ort.webgpu.bundle.min.mjs`) and
 * its WASM binary (`dist/ort-wasm-simd-threaded.jsep.wasm`) travel as files
 * in `--ort DIR` (see docs/benchmarks.md, "WebGPU on a GPU").
 *
 * ```sh
 * deno run -A --no-config bench/device_ort.ts --ort .device/ort --onnx .device/resnet18.onnx --batch 32 --reps 20
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    ort: { type: "string", default: ".device/ort" },
    onnx: { type: "string", default: ".device/resnet18.onnx" },
    batch: { type: "string", default: "32" },
    reps: { type: "string", default: "20" },
    ep: { type: "string", default: "webgpu" },
  },
});

interface OrtTensor {
  dispose?: () => void;
  getData?: () => Promise<unknown>;
}
interface OrtSession {
  inputNames: string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
}
interface OrtWeb {
  env: { wasm: { wasmBinary?: Uint8Array; numThreads?: number } };
  InferenceSession: { create(bytes: Uint8Array, options: unknown): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}

const dir = resolve(values.ort!);
const ort = (await import(pathToFileURL(`${dir}/ort.webgpu.bundle.min.mjs`).href)) as OrtWeb;
ort.env.wasm.wasmBinary = await Deno.readFile(`${dir}/ort-wasm-simd-threaded.jsep.wasm`);
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(await Deno.readFile(values.onnx!), {
  executionProviders: [values.ep],
});
const batch = Number(values.batch);
const reps = Number(values.reps);
const data = new Float32Array(batch * 3 * 224 * 224);
let seed = 5;
for (let i = 0; i < data.length; i++) {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  data[i] = seed / 2 ** 32;
}
const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, [batch, 3, 224, 224]) };
const once = async () => {
  const out = await session.run(feeds);
  for (const t of Object.values(out)) t.dispose?.();
};
await once();
await once();
const start = performance.now();
for (let i = 0; i < reps; i++) await once();
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({
  backend: `onnxruntime-web 1.20.1 (${values.ep} EP)`,
  model: "resnet18",
  runtime: "onnxruntime-web",
  batch,
  reps,
  samples_per_s: (batch * reps) / seconds,
  ms_per_batch: (seconds * 1000) / reps,
}));
Deno.exit(0);
