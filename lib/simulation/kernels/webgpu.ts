/**
 * The simulator's own WebGPU kernels, for the `webgpu` backend:
 *
 * - `SnnIntegrateFire` (./integrate_fire.ts registers it): one
 *   integrate-and-fire time step of a whole layer, fused (input current,
 *   refractory mask, leak, threshold, reset, spike count, refractory time)
 *   instead of the ten or so element-wise operations of the composed form
 *   (../neuron.ts); two outputs, the spikes and the next state, each written
 *   by one dispatch.
 * - uniform noise keyed by sample (./noise.ts), generated on the device.
 *
 * Both compute exactly what the composed form computes: the same float32
 * operations in the same order (a spike is ±1 times `v_thresh`, so no
 * product rounds).
 *
 * @module
 */
import { type Tensor, tf, tfwebgpu } from "../../../deps.ts";
import type { IntegrateFireAttrs } from "./integrate_fire.ts";

type Program = tfwebgpu.WebGPUProgram;
type Uniform = { type: "float32" | "int32" | "uint32"; data: number[] };

const WORKGROUP: [number, number, number] = [64, 1, 1];

/** A program with one thread per index `0 … threads-1` (`fn main(index : i32)`). */
function flatProgram(
  outputShape: number[],
  threads: number,
  variableNames: string[],
  shaderKey: string,
  uniforms: string,
  code: string,
): Program {
  const layout = tfwebgpu.webgpu_util.flatDispatchLayout([threads]);
  return {
    outputShape,
    shaderKey,
    variableNames,
    uniforms,
    workgroupSize: WORKGROUP,
    dispatchLayout: layout,
    dispatch: tfwebgpu.webgpu_util.computeDispatch(layout, [threads], WORKGROUP),
    getUserCode: () => code,
  };
}

const PCG_WGSL = `
fn pcg(v : u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}`;

/** The WGSL of one fused step; `output` is `spikes` or `state`. */
function integrateFireCode(a: IntegrateFireAttrs, output: "spikes" | "state"): string {
  const spike = {
    threshold: "return select(0.0, 1.0, m >= uniforms.vThresh);",
    binary_sigmoid: "return select(0.0, 1.0, m > 0.0);",
    binary_tanh: "return select(0.0, 1.0, m > 0.0) - select(0.0, 1.0, m < 0.0);",
  }[a.mode];
  const reset = {
    subtract: "next = m - s * uniforms.vThresh;",
    zero: "if (fired > 0.0) { next = uniforms.vReset; }",
    // tfjs' floored modulo (as its WebGPU Mod kernel computes it).
    modulo: `if (fired > 0.0) {
        let rem = m % uniforms.vThresh;
        if ((m < 0.0 && uniforms.vThresh < 0.0) || (m >= 0.0 && uniforms.vThresh > 0.0)) { next = rem; }
        else { next = (rem + uniforms.vThresh) % uniforms.vThresh; }
      }`,
  }[a.reset];
  const body = output === "spikes" ? "result[index] = signedSpike(m) * uniforms.vThresh;" : `
      let s = signedSpike(m);
      let fired = abs(s);
      var next = m;
      ${reset}
      result[index] = next;
      result[n + index] = state[n + index] + fired;
      ${
    a.refractory
      ? "result[2 * n + index] = select(state[2 * n + index], uniforms.refracUntil, fired > 0.0);"
      : ""
  }`;
  return `
fn membrane(i : i32) -> f32 {
  let n = uniforms.n;
  var cur = current[i];
  ${a.refractory ? "if (state[2 * n + i] > uniforms.time) { cur = 0.0; }" : ""}
  var m = state[i] + cur;
  ${a.leak ? "if (m > 0.0) { m = m - uniforms.leakStep; }" : ""}
  return m;
}
fn signedSpike(m : f32) -> f32 {
  ${spike}
}
fn main(index : i32) {
  let n = uniforms.n;
  if (index < n) {
    let m = membrane(index);
    ${body}
  }
}`;
}

const IF_UNIFORMS = "vThresh : f32, vReset : f32, leakStep : f32, time : f32, refracUntil : f32, n : i32,";

function integrateFireUniforms(a: IntegrateFireAttrs, n: number): Uniform[] {
  return [
    ...[a.vThresh, a.vReset, a.leakStep, a.time, a.refracUntil].map((v) => ({
      type: "float32" as const,
      data: [v],
    })),
    { type: "int32", data: [n] },
  ];
}

/** Key of the compiled program: everything that changes the WGSL. */
function variantKey(a: IntegrateFireAttrs): string {
  return `${a.mode}_${a.reset}_${a.leak ? "leak" : ""}_${a.refractory ? "refrac" : ""}`;
}

/** The arguments TF.js passes the `SnnIntegrateFire` kernel on WebGPU. */
export interface WebGpuIntegrateFireArgs {
  /** The packed state `[rows, n]` and the input current (`n` elements). */
  inputs: { state: tf.TensorInfo; current: tf.TensorInfo };
  /** The backend. */
  backend: tfwebgpu.WebGPUBackend;
  /** The step's attributes. */
  attrs: IntegrateFireAttrs;
}

/** `SnnIntegrateFire` on WebGPU: two dispatches, the spikes and the next state. */
export function webgpuIntegrateFire({ inputs, backend, attrs }: WebGpuIntegrateFireArgs): tf.TensorInfo[] {
  const { state, current } = inputs;
  const n = current.shape.reduce((a, b) => a * b, 1);
  const rows = state.shape[0];
  const uniforms = integrateFireUniforms(attrs, n);
  const key = variantKey(attrs);
  const spikes = flatProgram(
    current.shape,
    n,
    ["state", "current"],
    `snn_if_spikes_${key}`,
    IF_UNIFORMS,
    integrateFireCode(attrs, "spikes"),
  );
  const next = flatProgram(
    [rows, n],
    n,
    ["state", "current"],
    `snn_if_state_${key}`,
    IF_UNIFORMS,
    integrateFireCode(attrs, "state"),
  );
  return [
    backend.runWebGPUProgram(spikes, [state, current], "float32", uniforms),
    backend.runWebGPUProgram(next, [state, current], "float32", uniforms),
  ];
}

const NOISE_CODE = `${PCG_WGSL}
fn main(index : i32) {
  if (index < uniforms.n) {
    let b = index / uniforms.perSample;
    let j = index - b * uniforms.perSample;
    let h = pcg(bitcast<u32>(keys[b]) ^ u32(j));
    result[index] = f32(h >> 8u) * (1.0 / 16777216.0);
  }
}`;

/** Uniform noise `[batch, ...]` on the device from per-sample keys (see ./noise.ts). */
export function webgpuNoise(shape: number[], sampleKeys: Int32Array): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perSample = n / shape[0];
  const backend = tf.backend() as unknown as tfwebgpu.WebGPUBackend;
  return tf.tidy(() => {
    const keys = tf.tensor1d(sampleKeys, "int32");
    const program = flatProgram(shape, n, ["keys"], "snn_noise", "perSample : i32, n : i32,", NOISE_CODE);
    const info = backend.runWebGPUProgram(program, [keys], "float32", [
      { type: "int32", data: [perSample] },
      { type: "int32", data: [n] },
    ]);
    return tf.engine().makeTensorFromTensorInfo(info);
  });
}
