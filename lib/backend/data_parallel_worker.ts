/**
 * The program of each worker of {@linkcode DataParallelModel} (./workers.ts):
 * a single-threaded WASM backend of its own, one copy of the model, and
 * `predict` requests answered with the model's output for a slice of the
 * batch. Loaded as a `node:worker_threads` worker, after the modules of
 * {@linkcode DataParallelOptions.modules} (imported by the worker's bootstrap
 * module, see ./workers.ts).
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { tf } from "../../deps.ts";
import { initBackend } from "./mod.ts";
import type { WorkerReply, WorkerRequest } from "./workers.ts";

let model: tf.LayersModel | undefined;

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(msg, transfer);
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.kind === "init") {
      const info = await initBackend({ threads: 1, backend: req.backend });
      model = await tf.loadLayersModel(tf.io.fromMemory(req.artifacts));
      reply({ kind: "ready", id: req.id, info });
      return;
    }
    if (!model) throw new Error("predict before init");
    const m = model;
    const out = tf.tidy(() => m.predict(tf.tensor(req.data, req.shape, "float32")) as tf.Tensor);
    const data = (await out.data()) as Float32Array;
    const shape = out.shape;
    out.dispose();
    reply({ kind: "output", id: req.id, data, shape }, [data.buffer as ArrayBuffer]);
  } catch (err) {
    reply({ kind: "error", id: req.id, message: err instanceof Error ? err.message : String(err) });
  }
}

// One request at a time, in order.
let chain: Promise<void> = Promise.resolve();
parentPort?.on("message", (req: WorkerRequest) => {
  chain = chain.then(() => handle(req));
});
// Tell the parent that requests can be sent now.
parentPort?.postMessage({ kind: "listening", id: 0 });
