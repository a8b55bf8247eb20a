/**
 * Worker program of `SimWorker` (bench/_sim.ts): initialises its own TF.js
 * backend (backends are per realm), builds the spiking network of one
 * benchmark model (parsed and normalized) for a batch, and on request runs
 * time steps, reading the last step's output back (so a GPU has finished
 * the work the timing includes).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { type SimReply, type SimRequest, snnModel } from "./_sim.ts";

const scope = globalThis as unknown as {
  onmessage: (e: MessageEvent<SimRequest>) => void;
  postMessage: (v: SimReply) => void;
};

let net: SpikingNetwork | undefined;
let input: tf.Tensor | undefined;
let step = 0;

async function handle(req: SimRequest): Promise<SimReply> {
  if (req.kind === "init") {
    const info = await initBackend({ backend: req.backend, threads: 1 });
    const { model, x } = await snnModel(req.model, req.batch);
    net = SpikingNetwork.fromModel(model, resolveSimulationOptions({ duration: 1e9 }));
    net.init(req.batch);
    input = tf.tensor(x, [req.batch, ...model.inputs[0].shape.slice(1).map(Number)], "float32");
    return { kind: "ready", info, fused: (await runSteps(1), net.fused) };
  }
  await runSteps(req.steps);
  return { kind: "done" };
}

/** `k` time steps; the last output is read back. */
async function runSteps(k: number): Promise<void> {
  for (let i = 0; i < k; i++) {
    const out = net!.step(input!, step++).output;
    if (i === k - 1) await out.data();
    out.dispose();
  }
}

scope.onmessage = async (e) => {
  try {
    scope.postMessage(await handle(e.data));
  } catch (err) {
    scope.postMessage({ kind: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
