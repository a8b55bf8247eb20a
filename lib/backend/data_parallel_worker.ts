/**
 * The program of each worker of {@linkcode DataParallelModel} (./workers.ts):
 * a single-threaded WASM backend of its own, one copy of the model, and
 * `predict` requests answered with the model's output (or one layer's) for
 * a slice of the batch. Loaded as a `node:worker_threads` worker, after the
 * modules of {@linkcode DataParallelOptions.modules} (see ./pool.ts).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { initBackend } from "./mod.ts";
import { serveRequests } from "./pool.ts";
import type { WorkerReply, WorkerRequest } from "./workers.ts";

let model: tf.LayersModel | undefined;
const subModels = new Map<string, tf.LayersModel>();

/** The model, or the sub-model ending at `layer`. */
function modelUpTo(layer?: string): tf.LayersModel {
  if (!model) throw new Error("predict before init");
  if (!layer) return model;
  let sub = subModels.get(layer);
  if (!sub) {
    sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
    subModels.set(layer, sub);
  }
  return sub;
}

serveRequests<WorkerRequest, WorkerReply>(async (req) => {
  if (req.kind === "init") {
    const info = await initBackend({ threads: 1, backend: req.backend ?? "wasm" });
    model = await tf.loadLayersModel(tf.io.fromMemory(req.artifacts));
    return { reply: { kind: "ready", info } };
  }
  const m = modelUpTo(req.outputLayer);
  const out = tf.tidy(() => m.predict(tf.tensor(req.data, req.shape, "float32")) as tf.Tensor);
  const data = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  return { reply: { kind: "output", data, shape }, transfer: [data.buffer as ArrayBuffer] };
});
