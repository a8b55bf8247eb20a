/**
 * (2) Parsed-model inference throughput, batch 1 and 32, on the MNIST CNN,
 * MobileNet and ResNet-18 (ONNX): one group per model and batch size,
 * baseline = the single-threaded WASM backend.
 *
 * - `tfjs-wasm N threads`: the same parsed model on the threaded SIMD WASM
 *   backend with one thread per core. Threads are per realm, so each variant
 *   runs in its own module worker (bench/_infer_worker.ts) that loads and
 *   parses the model itself; one iteration = one forward pass of a prepared
 *   batch, the arg-max read back.
 * - `data-parallel` (batch 32): the batch split across one single-threaded
 *   worker per core (`DataParallelModel`, the model serialized from this
 *   realm), the outputs copied back and concatenated.
 * - `onnxruntime-node` (ResNet-18 only): the same ONNX file and input (NCHW)
 *   in Microsoft's native runtime, with one intra-op thread and with its
 *   default thread count, in this realm.
 *
 * images/s = batch size / time per iteration. Run alone:
 * `deno bench -A --lock=tests/deno.lock bench/inference_bench.ts` (onnxruntime-node is pinned in
 * tests/deno.lock, not in deno.lock).
 *
 * @module
 */
import { initBackend } from "../lib/backend/mod.ts";
import type { DataParallelModel } from "../lib/backend/workers.ts";
import {
  availableModels,
  type BenchModel,
  dataParallel,
  InferWorker,
  loadParsedModel,
  randomBatch,
  toChannelsFirst,
} from "./_helpers.ts";
import { loadOrt } from "../tests/_ort.ts";

const BATCHES = [1, 32];
const cores = navigator.hardwareConcurrency;

/** Iterations of one benchmark: fixed for the slow ones, else left to `deno bench`. */
function iterations(model: BenchModel, batch: number): { n?: number; warmup?: number } {
  if (model.name === "resnet18") return batch === 1 ? { n: 10, warmup: 2 } : { n: 3, warmup: 1 };
  if (model.name === "mobilenet" && batch > 1) return { n: 10, warmup: 2 };
  return {};
}

async function benchOrt(model: BenchModel): Promise<void> {
  const ort = await loadOrt();
  if (typeof ort === "string") {
    console.log(`inference_bench: onnxruntime-node comparison skipped: ${ort}`);
    return;
  }
  const variants: [string, number | undefined][] = [["1 thread", 1], ["default threads", undefined]];
  for (const [label, threads] of variants) {
    const session = await ort.InferenceSession.create(
      model.path,
      threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {},
    );
    for (const batch of BATCHES) {
      const shape: [number, number, number, number] = [batch, 224, 224, 3];
      const nchw = toChannelsFirst(randomBatch(model.sampleShape, batch, batch), shape);
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", nchw, [batch, 3, 224, 224]) };
      Deno.bench({
        name: `${model.name} b${batch}: onnxruntime-node ${label}`,
        group: `infer ${model.name} batch ${batch}`,
        ...iterations(model, batch),
      }, async () => {
        await session.run(feeds);
      });
    }
  }
}

await initBackend({ backend: "wasm", threads: 1 }); // this realm only serializes models for the data-parallel workers
const models = await availableModels("inference_bench");
const started: InferWorker[] = [];
const pools: DataParallelModel[] = [];
for (const model of models) {
  const single = await InferWorker.start(1, model.name, BATCHES);
  const threaded = await InferWorker.start(cores, model.name, BATCHES);
  started.push(single, threaded);
  if (threaded.info.threads < 2) {
    console.log(`inference_bench: the threaded backend fell back: ${JSON.stringify(threaded.info)}`);
  }
  for (const batch of BATCHES) {
    const group = `infer ${model.name} batch ${batch}`;
    Deno.bench({
      name: `${model.name} b${batch}: tfjs-wasm 1 thread`,
      group,
      baseline: true,
      ...iterations(model, batch),
    }, async () => {
      await single.infer(batch);
    });
    Deno.bench({
      name: `${model.name} b${batch}: tfjs-wasm ${threaded.info.threads} threads`,
      group,
      ...iterations(model, batch),
    }, async () => {
      await threaded.infer(batch);
    });
  }
  const parsed = await loadParsedModel(model);
  const pool = await dataParallel(parsed, cores);
  parsed.dispose();
  pools.push(pool);
  const batch = BATCHES[BATCHES.length - 1];
  const x = { data: randomBatch(model.sampleShape, batch, batch), shape: [batch, ...model.sampleShape] };
  Deno.bench({
    name: `${model.name} b${batch}: data-parallel, ${pool.workers} workers × 1 thread`,
    group: `infer ${model.name} batch ${batch}`,
    ...iterations(model, batch),
  }, async () => {
    await pool.predict({ ...x, dtype: "float32" });
  });
  if (model.lib === "onnx") await benchOrt(model);
}

globalThis.addEventListener("unload", () => {
  started.forEach((w) => w.terminate());
  pools.forEach((p) => void p.close());
});
