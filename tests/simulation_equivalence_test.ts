/**
 * Equivalence of the simulator with a plain step-by-step loop written here
 * (sharing no code with lib/simulation): a small conv → spiking max-pool →
 * dense network, every reset mode, with and without refractory period and
 * leak; spike counts of every layer must match exactly. Also: memory does
 * not grow over time steps.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { SpikingNetwork } from "../lib/simulation/network.ts";
import { type ResetMode, resolveSimulationOptions } from "../lib/simulation/options.ts";
import { assertEquals, assertTrue } from "./_assert.ts";
import { rng } from "./_rng.ts";

await initBackend();

const H = 6, W = 6, F = 2, K = 3, CLASSES = 3;
const CH = H - K + 1, CW = W - K + 1; // conv output 4x4
const PH = CH / 2, PW = CW / 2; // pool output 2x2

interface Params {
  kc: Float32Array; // [K, K, 1, F]
  bc: Float32Array; // [F]
  kd: Float32Array; // [PH*PW*F, CLASSES]
  bd: Float32Array; // [CLASSES]
}

function makeParams(seed: number): Params {
  const r = rng(seed);
  const f = (n: number, s: number, o = 0) => Float32Array.from({ length: n }, () => (r() - 0.5) * s + o);
  return {
    kc: f(K * K * F, 0.8, 0.1),
    bc: f(F, 0.1),
    kd: f(PH * PW * F * CLASSES, 1.2, 0.1),
    bd: f(CLASSES, 0.1),
  };
}

function buildModel(p: Params): tf.LayersModel {
  const input = tf.input({ shape: [H, W, 1] });
  const conv = tf.layers.conv2d({ filters: F, kernelSize: K, activation: "relu", name: "conv" });
  const pool = tf.layers.maxPooling2d({ poolSize: 2, name: "pool" });
  const dense = tf.layers.dense({ units: CLASSES, activation: "relu", name: "dense" });
  const out = dense.apply(tf.layers.flatten().apply(pool.apply(conv.apply(input)))) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  conv.setWeights([tf.tensor(p.kc, [K, K, 1, F]), tf.tensor(p.bc, [F])]);
  dense.setWeights([tf.tensor(p.kd, [PH * PW * F, CLASSES]), tf.tensor(p.bd, [CLASSES])]);
  return model;
}

interface Cell {
  vThresh: number;
  tauRefrac: number;
  reset: ResetMode;
  leak: boolean;
}

/** One layer of IF neurons, plain arrays. */
class PlainLayer {
  mem: Float64Array;
  refrac: Float64Array;
  counts: Int32Array;
  constructor(n: number, readonly cell: Cell, readonly dt: number) {
    this.mem = new Float64Array(n);
    this.refrac = new Float64Array(n);
    this.counts = new Int32Array(n);
  }
  update(current: Float64Array, time: number): Float64Array {
    // Membrane arithmetic in float32 (Math.fround after every operation), as the simulator computes.
    const f = Math.fround;
    const { tauRefrac, reset, leak } = this.cell;
    const vThresh = f(this.cell.vThresh);
    const spikes = new Float64Array(current.length);
    for (let i = 0; i < current.length; i++) {
      let m = f(this.mem[i] + f(tauRefrac > 0 && this.refrac[i] > time ? 0 : current[i]));
      if (leak && m > 0) m = f(m - f(0.1 * this.dt));
      if (m >= vThresh) {
        spikes[i] = vThresh;
        this.counts[i]++;
        if (reset === "Reset by subtraction") m = f(m - vThresh);
        else if (reset === "Reset by modulo") m = f(m - Math.floor(m / vThresh) * vThresh);
        else m = 0;
        if (tauRefrac > 0) this.refrac[i] = time + tauRefrac;
      }
      this.mem[i] = m;
    }
    return spikes;
  }
}

/** Simulate one sample with plain loops; returns spike counts per layer (conv, pool, dense). */
function plainSimulate(p: Params, x: Float32Array, cell: Cell, dt: number, steps: number): Int32Array[] {
  const conv = new PlainLayer(CH * CW * F, cell, dt);
  const pool = new PlainLayer(PH * PW * F, cell, dt);
  const dense = new PlainLayer(CLASSES, cell, dt);
  const gate = new Float64Array(CH * CW * F);
  for (let s = 0; s < steps; s++) {
    const time = (s + 1) * dt;
    const cur = new Float64Array(CH * CW * F);
    for (let y = 0; y < CH; y++) {
      for (let xx = 0; xx < CW; xx++) {
        for (let f = 0; f < F; f++) {
          let acc = p.bc[f] * dt;
          for (let dy = 0; dy < K; dy++) {
            for (let dx = 0; dx < K; dx++) {
              acc += x[(y + dy) * W + xx + dx] * dt * p.kc[(dy * K + dx) * F + f];
            }
          }
          cur[(y * CW + xx) * F + f] = acc;
        }
      }
    }
    const sc = conv.update(cur, time);
    for (let i = 0; i < gate.length; i++) gate[i] += sc[i];
    const pin = new Float64Array(PH * PW * F);
    for (let py = 0; py < PH; py++) {
      for (let px = 0; px < PW; px++) {
        for (let f = 0; f < F; f++) {
          let best = -1, bestVal = -Infinity;
          for (let dy = 0; dy < 2; dy++) {
            for (let dx = 0; dx < 2; dx++) {
              const i = ((2 * py + dy) * CW + 2 * px + dx) * F + f;
              if (gate[i] > bestVal) [best, bestVal] = [i, gate[i]];
            }
          }
          pin[(py * PW + px) * F + f] = sc[best];
        }
      }
    }
    const sp = pool.update(pin, time);
    const dcur = new Float64Array(CLASSES);
    for (let c = 0; c < CLASSES; c++) {
      let acc = p.bd[c] * dt;
      for (let i = 0; i < sp.length; i++) acc += sp[i] * p.kd[i * CLASSES + c];
      dcur[c] = acc;
    }
    dense.update(dcur, time);
  }
  return [conv.counts, pool.counts, dense.counts];
}

const cases: { reset: ResetMode; tauRefrac: number; leak: boolean; vThresh: number; dt: number }[] = [
  { reset: "Reset by subtraction", tauRefrac: 0, leak: false, vThresh: 1, dt: 1 },
  { reset: "Reset to zero", tauRefrac: 0, leak: false, vThresh: 1, dt: 1 },
  { reset: "Reset by modulo", tauRefrac: 0, leak: false, vThresh: 0.5, dt: 1 },
  { reset: "Reset by subtraction", tauRefrac: 2, leak: true, vThresh: 0.8, dt: 0.5 },
  { reset: "Reset to zero", tauRefrac: 1, leak: false, vThresh: 1, dt: 1 },
];

for (const c of cases) {
  Deno.test(`spike counts equal a plain loop: ${c.reset}, tau_refrac ${c.tauRefrac}, leak ${c.leak}, v_thresh ${c.vThresh}, dt ${c.dt}`, async () => {
    const params = makeParams(42);
    const model = buildModel(params);
    const batch = 3, steps = 40;
    const r = rng(9);
    const x = Float32Array.from({ length: batch * H * W }, () => r() * 1.5);
    const options = resolveSimulationOptions({ duration: steps * c.dt, dt: c.dt, cell: { ...c } });
    const net = SpikingNetwork.fromModel(model, options);
    net.init(batch);
    const input = tf.mul(tf.tensor(x, [batch, H, W, 1]), c.dt);
    const outSum = new Float32Array(batch * CLASSES);
    for (let s = 0; s < steps; s++) {
      const o = net.step(input, s);
      (await o.output.data()).forEach((v, i) => (outSum[i] += v > 0 ? 1 : 0));
      o.output.dispose();
    }
    const counts = await net.spikeCounts();
    let total = 0;
    for (let b = 0; b < batch; b++) {
      const cell = { vThresh: c.vThresh, tauRefrac: c.tauRefrac, reset: c.reset, leak: c.leak };
      const plain = plainSimulate(params, x.subarray(b * H * W, (b + 1) * H * W), cell, c.dt, steps);
      plain.forEach((expected, l) => {
        const n = expected.length;
        assertEquals(
          Array.from(counts[l].subarray(b * n, (b + 1) * n)),
          Array.from(expected),
          `layer ${l} sample ${b}`,
        );
        total += expected.reduce((a, v) => a + v, 0);
      });
      assertEquals(
        Array.from(outSum.subarray(b * CLASSES, (b + 1) * CLASSES)),
        Array.from(plain[2]),
        `output spikes sample ${b}`,
      );
    }
    assertTrue(total > 50, `the case must produce spikes (got ${total})`);
    input.dispose();
    net.dispose();
    model.dispose();
  });
}

Deno.test("memory does not grow over 1,000 time steps", () => {
  const model = buildModel(makeParams(1));
  const options = resolveSimulationOptions({ duration: 1000, cell: { tauRefrac: 1 } });
  const net = SpikingNetwork.fromModel(model, options);
  net.init(4);
  const input = tf.randomUniform([4, H, W, 1], 0, 1, "float32", 3);
  const step = (s: number) => {
    const o = net.step(input, s, { stats: true, spikes: true, mem: true });
    tf.dispose([o.output, o.stats!, ...o.spikes!, ...o.mem!]);
  };
  for (let s = 0; s < 5; s++) step(s);
  const before = tf.memory().numTensors;
  const bytesBefore = tf.memory().numBytes;
  for (let s = 5; s < 1000; s++) step(s);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(tf.memory().numBytes, bytesBefore);
  net.reset(0);
  assertEquals(tf.memory().numTensors, before);
  net.dispose();
  input.dispose();
  model.dispose();
});
