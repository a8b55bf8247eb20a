/**
 * Worker program of `InferWorker` (bench/_helpers.ts): initialises
 * its own TF.js backend (WASM with the requested thread count, or WebGPU;
 * backends and threads are per realm), loads and parses one benchmark model, and runs forward passes of
 * prepared batches on request.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { benchModel, type InferReply, type InferRequest, loadParsedModel, randomBatch } from "./_helpers.ts";

const scope = globalThis as unknown as {
  onmessage: (e: MessageEvent<InferRequest>) => void;
  postMessage: (v: InferReply) => void;
};

let model: tf.LayersModel | undefined;
const inputs = new Map<number, tf.Tensor>();

async function handle(req: InferRequest): Promise<InferReply> {
  if (req.kind === "init") {
    const info = await initBackend({ threads: req.threads, backend: req.backend });
    const spec = await benchModel(req.model);
    if (typeof spec === "string") return { kind: "error", message: spec };
    model = await loadParsedModel(spec);
    for (const b of req.batches) {
      inputs.set(b, tf.tensor(randomBatch(spec.sampleShape, b, b), [b, ...spec.sampleShape], "float32"));
    }
    return { kind: "ready", info };
  }
  const x = inputs.get(req.batch);
  if (!model || !x) return { kind: "error", message: `no model or no batch of ${req.batch} prepared` };
  const y = model.predict(x) as tf.Tensor;
  const top = y.argMax(-1);
  const data = await top.data();
  tf.dispose([y, top]);
  return { kind: "done", top: data[0] };
}

scope.onmessage = async (e) => {
  try {
    scope.postMessage(await handle(e.data));
  } catch (err) {
    scope.postMessage({ kind: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
