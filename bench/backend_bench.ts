/**
 * Inference throughput of a conv net (MNIST-sized: 2 conv + 2 dense layers)
 * on the threaded WASM backend vs the single-threaded one, batch 1 and 32,
 * in one run: `deno bench -A bench/backend_bench.ts`. Each thread count runs
 * in its own module worker (the backend initialises once per realm); the
 * summary prints the threaded/single-threaded speed ratio per batch size.
 * A third variant splits each batch across one single-threaded worker per
 * core ({@linkcode DataParallelModel}).
 *
 * This file is also the worker's program (it checks where it runs).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { type BackendInfo, initBackend } from "../lib/backend/mod.ts";
import { DataParallelModel } from "../lib/backend/workers.ts";

/** A request to the bench worker. */
type Request = { kind: "init"; threads: number } | { kind: "infer"; batch: number };

const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";

/** The MNIST-sized conv net, with fixed pseudo-random weights. */
function convNet(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: init(1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu", kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: init(3) }),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(4) }),
    ],
  });
}

function serveWorker(): void {
  let model: tf.LayersModel | undefined;
  const inputs = new Map<number, tf.Tensor>();
  const scope = globalThis as unknown as {
    onmessage: (e: MessageEvent<Request>) => void;
    postMessage: (v: unknown) => void;
  };
  scope.onmessage = async (e) => {
    const req = e.data;
    if (req.kind === "init") {
      const info = await initBackend({ threads: req.threads });
      model = convNet();
      scope.postMessage(info);
      return;
    }
    let x = inputs.get(req.batch);
    if (!x) {
      x = tf.randomUniform([req.batch, 28, 28, 1], 0, 1, "float32", req.batch);
      inputs.set(req.batch, x);
    }
    const y = model!.predict(x) as tf.Tensor;
    const top = await y.argMax(1).data();
    y.dispose();
    scope.postMessage(top[0]);
  };
}

/** A bench worker with its own backend of `threads` threads. */
async function startWorker(threads: number): Promise<{ worker: Worker; info: BackendInfo }> {
  const worker = new Worker(import.meta.url, { type: "module" });
  const info = await call<BackendInfo>(worker, { kind: "init", threads });
  return { worker, info };
}

function call<T>(worker: Worker, req: Request): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data as T);
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(req);
  });
}

if (inWorker) {
  serveWorker();
} else {
  const cores = navigator.hardwareConcurrency;
  const single = await startWorker(1);
  const threaded = await startWorker(cores);
  await initBackend({ threads: 1 }); // this realm only feeds the data-parallel workers
  const parallel = await DataParallelModel.create(convNet(), { workers: cores });
  const batches = new Map<number, { data: Float32Array; shape: number[]; dtype: "float32" }>();
  for (const batch of [1, 32]) {
    const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", batch);
    batches.set(batch, { data: x.dataSync() as Float32Array, shape: x.shape, dtype: "float32" });
  }
  console.log(
    `bench backends: single ${JSON.stringify(single.info)}, threaded ${JSON.stringify(threaded.info)} ` +
      `(${cores} cores; other processes share them: numbers are tentative)`,
  );
  for (const batch of [1, 32]) {
    const x = batches.get(batch)!;
    // Warm up (kernel setup, XNNPACK operator caches).
    for (let i = 0; i < 3; i++) {
      await call(single.worker, { kind: "infer", batch });
      await call(threaded.worker, { kind: "infer", batch });
      await parallel.predict(x);
    }
    Deno.bench({
      name: `conv net, batch ${batch}, 1 thread`,
      group: `batch ${batch}`,
      baseline: true,
      n: batch === 1 ? 200 : 30,
      fn: async () => {
        await call(single.worker, { kind: "infer", batch });
      },
    });
    Deno.bench({
      name: `conv net, batch ${batch}, ${threaded.info.threads} threads`,
      group: `batch ${batch}`,
      n: batch === 1 ? 200 : 30,
      fn: async () => {
        await call(threaded.worker, { kind: "infer", batch });
      },
    });
    Deno.bench({
      name: `conv net, batch ${batch}, ${parallel.workers} data-parallel workers`,
      group: `batch ${batch}`,
      n: batch === 1 ? 200 : 30,
      fn: async () => {
        await parallel.predict(x);
      },
    });
  }
  globalThis.addEventListener("unload", () => {
    single.worker.terminate();
    threaded.worker.terminate();
  });
}
