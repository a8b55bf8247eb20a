/**
 * The program of each data-parallel simulation worker (./parallel.ts): a
 * single-threaded backend of its own, the parsed model rebuilt from its
 * artifacts, and one {@linkcode BatchSimulator} that simulates this worker's
 * slice of every batch. A `backend` request starts the backend ahead of the
 * model (workers started before the model is ready); each `init` replaces
 * the simulator (one per run).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { initBackend } from "../backend/mod.ts";
import { serveRequests } from "../backend/pool.ts";
import { registerCustomActivationsIn } from "../layers/activations.ts";
import { BatchSimulator } from "./batch.ts";
import { recordReply, type SimWorkerReply, type SimWorkerRequest } from "./parallel.ts";

let model: tf.LayersModel | undefined;
let sim: BatchSimulator | undefined;

serveRequests<SimWorkerRequest, SimWorkerReply>(async (req, emit) => {
  if (req.kind === "backend") {
    await initBackend({ threads: 1, backend: req.backend });
    return { reply: { kind: "ready" } };
  }
  if (req.kind === "init") {
    await initBackend({ threads: 1, backend: req.backend });
    registerCustomActivationsIn(req.artifacts.modelTopology);
    sim?.dispose();
    model?.dispose();
    model = await tf.loadLayersModel(tf.io.fromMemory(req.artifacts));
    sim = new BatchSimulator(model, req.options, req.batch, req.record);
    return { reply: { kind: "ready" } };
  }
  if (!sim) throw new Error("batch before init");
  const record = await sim.simulate(req.job, req.progress ? (s) => emit(s) : undefined);
  return recordReply(record);
});
