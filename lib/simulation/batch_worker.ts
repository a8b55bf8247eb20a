/**
 * The program of each data-parallel simulation worker (./parallel.ts): a
 * single-threaded backend of its own, the parsed model rebuilt from its
 * artifacts, and one {@linkcode BatchSimulator} that simulates this worker's
 * slice of every batch.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { initBackend } from "../backend/mod.ts";
import { serveRequests } from "../backend/pool.ts";
import { registerCustomActivationsIn } from "../layers/activations.ts";
import { BatchSimulator } from "./batch.ts";
import { recordReply, type SimWorkerReply, type SimWorkerRequest } from "./parallel.ts";

let sim: BatchSimulator | undefined;

serveRequests<SimWorkerRequest, SimWorkerReply>(async (req, emit) => {
  if (req.kind === "init") {
    await initBackend({ threads: 1, backend: req.backend });
    registerCustomActivationsIn(req.artifacts.modelTopology);
    const model = await tf.loadLayersModel(tf.io.fromMemory(req.artifacts));
    sim = new BatchSimulator(model, req.options, req.batch, req.record);
    return { reply: { kind: "ready" } };
  }
  if (!sim) throw new Error("batch before init");
  const record = await sim.simulate(req.job, req.progress ? (s) => emit(s) : undefined);
  return recordReply(record);
});
