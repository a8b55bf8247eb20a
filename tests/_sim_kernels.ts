/**
 * What the fused integrate-and-fire kernel tests of both simulator backends
 * (WASM, WebGPU) share: reading a neuron layer's state, the fused kernel against
 * the composed element-wise form over 30 random steps, and the memory check
 * (1,000 time steps with step statistics leave the backend's tensor count
 * and bytes where they were after 5 warm-up steps).
 */
import { tf } from "../deps.ts";
import { createNeuronLayer, type NeuronLayer } from "../lib/simulation/neuron.ts";
import { type CellOptions, resolveSimulationOptions } from "../lib/simulation/options.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { assertEquals, assertTrue } from "./_assert.ts";
import { rng } from "./_rng.ts";

/** A layer's spike counts and membrane potentials, read back. */
export async function readLayer(layer: NeuronLayer): Promise<{ counts: number[]; mem: number[] }> {
  const c = layer.counts(), m = layer.membrane();
  const out = { counts: Array.from(await c.data()), mem: Array.from(await m.data()) };
  tf.dispose([c, m]);
  return out;
}

/** Step a fused and a composed layer of `shape` with the same random currents; both must agree throughout. */
export async function assertFusedEqualsComposed(
  shape: number[],
  c: { activation: string; cell: Partial<CellOptions>; dt: number },
  expectFused: boolean,
): Promise<void> {
  const cell = resolveSimulationOptions({ cell: c.cell }).cell;
  const params = { cell, dt: c.dt, activation: c.activation, seed: 1, stream: 1 };
  const fused = createNeuronLayer(shape, params, true);
  const composed = createNeuronLayer(shape, params, false);
  assertEquals([fused.fused, composed.fused], [expectFused, false]);
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(7);
  let spikes = 0;
  for (let t = 0; t < 30; t++) {
    const values = Float32Array.from({ length: n }, () => (r() - 0.3) * 0.9);
    const [a, b] = tf.tidy(() => {
      const current = tf.tensor(values, shape);
      return [
        fused.step(current, t, new Int32Array(shape[0])),
        composed.step(current, t, new Int32Array(shape[0])),
      ];
    });
    const [sa, sb] = [Array.from(await a.data()), Array.from(await b.data())];
    tf.dispose([a, b]);
    assertEquals(sa, sb, `spikes at step ${t}`);
    spikes += sa.filter((v) => v !== 0).length;
  }
  const [fa, ca] = [await readLayer(fused), await readLayer(composed)];
  assertEquals(fa.counts, ca.counts, "spike counts");
  assertEquals(fa.mem, ca.mem, "membrane potentials");
  assertTrue(spikes > Math.min(50, n), `the case must produce spikes (got ${spikes})`);
  fused.reset(false);
  composed.reset(false);
  assertEquals((await readLayer(fused)).mem, fa.mem, "reset keeps the potentials");
  assertEquals((await readLayer(fused)).counts.every((v) => v === 0), true, "reset zeroes the counts");
  fused.dispose();
  composed.dispose();
}

/** Run 1,000 steps of `model` (disposed afterwards) on a batch of 4 inputs of `sampleShape`; assert flat memory. */
export function assertFlatMemoryOver1000Steps(model: tf.LayersModel, sampleShape: number[]): void {
  const net = SpikingNetwork.fromModel(
    model,
    resolveSimulationOptions({ duration: 1000, cell: { tauRefrac: 1 } }),
  );
  net.init(4);
  const input = tf.randomUniform([4, ...sampleShape], 0, 1, "float32", 3);
  const step = (s: number) => {
    const o = net.step(input, s, { stats: true });
    tf.dispose([o.output, o.stats!]);
  };
  for (let s = 0; s < 5; s++) step(s);
  assertTrue(net.fused, "the fused kernel runs");
  const before = tf.memory();
  for (let s = 5; s < 1000; s++) step(s);
  const after = tf.memory();
  assertEquals([after.numTensors, after.numBytes], [before.numTensors, before.numBytes]);
  net.dispose();
  input.dispose();
  model.dispose();
}
