/**
 * (3) SNN simulation throughput on single-threaded WASM, in the same
 * process, on the demo MNIST CNN (parsed, then normalized on the demo's
 * x_norm as the pipeline does) with real MNIST test images:
 *
 * - `simulate mnist batch <n>` (1 and 32): baseline = one forward pass of
 *   the ANN (read back); vs one INI-simulator time step of the same batch
 *   (default cell, nothing read back: the simulator reads back once per
 *   batch), and the same step recording the per-step synaptic operations
 *   and spike counts (what the `operations` plot asks for). The time ratio
 *   is the ratio of ANN samples/s to SNN sample·steps/s: a simulation of T
 *   steps costs T times that ratio of ANN passes.
 * - `simulate mnist 4 batches of 100 × 50 steps`: a whole simulation (the
 *   records folded in as `run` does; the demo's batch size) in this thread
 *   (baseline) against one data-parallel worker and one per core (whole
 *   batches to each, one thread each; the pools started beforehand).
 *
 * Run alone: `deno bench -A bench/simulation_bench.ts`.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { maxOf } from "../lib/simulation/batch.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { type BatchRunner, LocalRunner, ParallelRunner } from "../lib/simulation/parallel.ts";
import { snnModel } from "./_sim.ts";

const BATCHES = [1, 32];
const DURATION = 100;

await initBackend({ backend: "wasm" });
const { model, x: images } = await snnModel("mnist", 400);
const perSample = model.inputs[0].shape.slice(1).map(Number);
const size = perSample.reduce((a, b) => a * b, 1);

for (const batch of BATCHES) {
  const x = tf.tensor(images.subarray(0, batch * size), [batch, ...perSample]);
  const net = SpikingNetwork.fromModel(model, resolveSimulationOptions({ duration: DURATION }));
  net.init(batch);
  let step = 0;
  const next = () => {
    if (step === DURATION) {
      net.init(batch); // a new simulation, as for the next batch of the pipeline
      step = 0;
    }
    return step++;
  };
  const group = `simulate mnist batch ${batch}`;
  Deno.bench({ name: `mnist b${batch}: ANN forward pass`, group, baseline: true }, () => {
    tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  });
  Deno.bench({ name: `mnist b${batch}: SNN time step`, group }, () => {
    net.step(x, next()).output.dispose();
  });
  Deno.bench({ name: `mnist b${batch}: SNN time step with per-step statistics`, group }, () => {
    const out = net.step(x, next(), { stats: true });
    tf.dispose([out.output, out.stats!]);
  });
}

const WORK = { batches: 4, batch: 100, steps: 50 };
const options = resolveSimulationOptions({ duration: WORK.steps, batchSize: WORK.batch });
const jobs = Array.from({ length: WORK.batches }, (_, b) => {
  const x = images.slice(b * WORK.batch * size, (b + 1) * WORK.batch * size);
  const ids = Int32Array.from({ length: WORK.batch }, (_, i) => b * WORK.batch + i);
  return { batchIndex: b, x, sampleIds: ids, truth: new Int32Array(WORK.batch), maxX: maxOf(x) };
});
const cores = navigator.hardwareConcurrency ?? 1;
const runners: BatchRunner[] = [new LocalRunner(model, options, WORK.batch, {})];
for (const n of cores > 1 ? [1, cores] : []) {
  runners.push(await ParallelRunner.start(model, options, WORK.batch, {}, n, "wasm", "batches"));
}
const group = `simulate mnist ${WORK.batches} batches of ${WORK.batch} × ${WORK.steps} steps`;
for (const [i, runner] of runners.entries()) {
  const name = i === 0
    ? "in this thread"
    : `${runner.workers} data-parallel worker${runner.workers > 1 ? "s" : ""}`;
  Deno.bench(
    { name: `mnist: SNN simulation ${name}`, group, baseline: i === 0, n: 5, warmup: 1 },
    async () => {
      await runner.run(jobs.length, (b) => jobs[b], () => Promise.resolve());
    },
  );
}

globalThis.addEventListener("unload", () => runners.forEach((r) => void r.close()));
