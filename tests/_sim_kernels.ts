/**
 * What the fused integrate-and-fire kernel tests of both simulator backends
 * (WASM, WebGPU) share: reading a neuron layer's state, and the memory check
 * (1,000 time steps with step statistics leave the backend's tensor count
 * and bytes where they were after 5 warm-up steps).
 */
import { tf } from "../deps.ts";
import type { NeuronLayer } from "../lib/simulation/neuron.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { assertEquals, assertTrue } from "./_assert.ts";

/** A layer's spike counts and membrane potentials, read back. */
export async function readLayer(layer: NeuronLayer): Promise<{ counts: number[]; mem: number[] }> {
  const c = layer.counts(), m = layer.membrane();
  const out = { counts: Array.from(await c.data()), mem: Array.from(await m.data()) };
  tf.dispose([c, m]);
  return out;
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
