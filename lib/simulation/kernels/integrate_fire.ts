/**
 * The fused integrate-and-fire kernel `SnnIntegrateFire`: one time step of
 * a whole layer of neurons in one kernel, instead of the element-wise
 * operations of the composed form (../neuron.ts), computing the same
 * float32 values. The layer's state is one packed tensor `[rows, n]` (row 0
 * membrane potential, row 1 spike count, row 2 refractory end time when
 * `tau_refrac > 0`); the kernel's two outputs are the spikes (shaped like
 * the input current) and the next state.
 *
 * Implementations, registered with TensorFlow.js on first use:
 * WebGPU (./webgpu.ts, WGSL) and WASM (./wasm.ts, WebAssembly SIMD on the
 * WASM backend's heap; not for `Reset by modulo`, nor on the threaded
 * build). Other backends use the composed form. On WASM the same pass can
 * also sum each sample's synaptic operations and spikes of the step (the
 * statistics the `operations` plot needs), which otherwise cost a matrix
 * product per layer; both are sums of whole numbers, summed exactly as
 * 32-bit integers (the fan-out is int32, a sample's summing to less than
 * 2³¹) and rounded once to float32 — the matrix product's values wherever
 * those are exact (below 2²⁴).
 *
 * @module
 */
import { type Tensor, tf } from "../../../deps.ts";
import { wasmIntegrateFire, wasmIntegrateFireSupported } from "./wasm.ts";
import { webgpuIntegrateFire } from "./webgpu.ts";

/** Name of the fused kernel. */
export const INTEGRATE_FIRE_KERNEL = "SnnIntegrateFire";

/**
 * Name of the fused kernel that also sums each sample's step statistics
 * (synaptic operations and spikes; WASM only): a third input, the fan-out
 * of a sample's neurons, and a third output `[batch, 2]`.
 */
export const INTEGRATE_FIRE_STATS_KERNEL = "SnnIntegrateFireStats";

/** How a layer's neurons spike: on the threshold, or on the sign of the membrane potential. */
export type SpikeMode = "threshold" | "binary_sigmoid" | "binary_tanh";

/** What a spike does to the membrane potential. */
export type ResetKind = "subtract" | "zero" | "modulo";

/** Attributes of the fused kernel (numbers are the float32 values the composed form uses). */
export interface IntegrateFireAttrs {
  /** Spike mode. */
  mode: SpikeMode;
  /** Reset. */
  reset: ResetKind;
  /** Whether positive potentials leak `leakStep` per step. */
  leak: boolean;
  /** Whether the state has a refractory row (`tau_refrac > 0`). */
  refractory: boolean;
  /** Threshold and spike amplitude. */
  vThresh: number;
  /** Potential after `Reset to zero`. */
  vReset: number;
  /** `0.1 · dt`. */
  leakStep: number;
  /** Simulation time of this step. */
  time: number;
  /** `time + tau_refrac`. */
  refracUntil: number;
}

/** Register kernel `name` for `backend` when it has an implementation; whether it is registered. */
function register(name: string, backend: string): boolean {
  if (tf.getKernel(name, backend)) return true;
  const kernelFunc = backend === "wasm"
    ? wasmIntegrateFire
    : backend === "webgpu" && name === INTEGRATE_FIRE_KERNEL
    ? webgpuIntegrateFire
    : null;
  if (!kernelFunc) return false;
  tf.registerKernel({
    kernelName: name,
    backendName: backend,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
  return true;
}

/** Whether the fused kernel runs a layer with reset `reset` on the active backend. */
export function hasFusedIntegrateFire(reset: ResetKind): boolean {
  const backend = tf.getBackend();
  if (backend === "wasm" && !wasmIntegrateFireSupported(reset)) return false;
  return register(INTEGRATE_FIRE_KERNEL, backend);
}

/**
 * Whether the fused kernel of a layer with reset `reset` and `perSample`
 * neurons per sample also sums the step statistics on the active backend.
 */
export function hasFusedStepStats(reset: ResetKind, perSample: number): boolean {
  return perSample % 4 === 0 && tf.getBackend() === "wasm" && wasmIntegrateFireSupported(reset) &&
    register(INTEGRATE_FIRE_STATS_KERNEL, "wasm");
}

/**
 * One fused step: `state` `[rows, n]` and the input current (`n` elements,
 * any shape) → `[spikes (shaped like current), next state]`.
 */
export function integrateFireFused(
  state: Tensor,
  current: Tensor,
  attrs: IntegrateFireAttrs,
): [Tensor, Tensor] {
  const out = tf.engine().runKernel(
    INTEGRATE_FIRE_KERNEL,
    { state, current } as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as Tensor[];
  return [out[0], out[1]];
}

/**
 * One fused step that also sums the statistics (see
 * {@linkcode hasFusedStepStats}): `fanout` (int32) holds the fan-out of each
 * neuron of a sample, less than 2³¹ in all → `[spikes, next state, stats [batch, 2]]`, `stats` holding
 * each sample's synaptic operations and spikes in this step.
 */
export function integrateFireFusedWithStats(
  state: Tensor,
  current: Tensor,
  fanout: Tensor,
  attrs: IntegrateFireAttrs,
): [Tensor, Tensor, Tensor] {
  const out = tf.engine().runKernel(
    INTEGRATE_FIRE_STATS_KERNEL,
    { state, current, fanout } as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as Tensor[];
  return [out[0], out[1], out[2]];
}
