/**
 * The WebGPU side of the backend choice: finding the adapter, telling a
 * hardware GPU from a software renderer (Mesa's llvmpipe/lavapipe, Google's
 * SwiftShader: correct but slower than WASM), starting
 * `@tensorflow/tfjs-backend-webgpu`, and the adapter's buffer limits, which
 * bound the batch size ({@linkcode assertFitsBuffer}).
 *
 * Synchronous reads: tfjs-backend-webgpu can only read GPU memory
 * asynchronously in Deno (its `dataSync` needs `OffscreenCanvas`), and it
 * drops the CPU copy of a tensor once uploaded. Tensors written from the CPU
 * (weights, inputs) keep their CPU copy here ({@linkcode keepUploadedValues}),
 * so the synchronous weight reads of parsers and savers keep working; results
 * computed on the GPU are read with `await tensor.data()`.
 *
 * @module
 */
import { tf, type tfwebgpu } from "../../deps.ts";
import { ConfigError } from "../errors.ts";

/** The WebGPU adapter found, as reported by `--version`. */
export interface AdapterDescription {
  /** Human-readable name: the adapter's description, else vendor/architecture/device. */
  name: string;
  /** Whether it is a software renderer (fallback adapter, llvmpipe/lavapipe, SwiftShader). */
  software: boolean;
  /** Largest buffer the adapter can create, in bytes (`maxBufferSize`). */
  maxBufferSize: number;
  /** Largest buffer a shader can bind, in bytes (`maxStorageBufferBindingSize`). */
  maxStorageBufferBindingSize: number;
}

/** Names of software renderers that report themselves as ordinary adapters. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|software|softpipe|microsoft basic render/i;

function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" when
 * probed without it (headless machines, CI): point it at the temp folder
 * for this process when it is unset and the environment may be written.
 */
function quietMesa(): void {
  if (Deno.build.os !== "linux" || envVar("XDG_RUNTIME_DIR") !== undefined) return;
  try {
    Deno.env.set("XDG_RUNTIME_DIR", envVar("TMPDIR") || "/tmp");
  } catch {
    // no --allow-env: the driver may print its warning
  }
}

type AdapterWithInfo = GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } };

/** Describe `adapter` (name, software or not, limits). */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const a = adapter as AdapterWithInfo;
  const info = a.info;
  const parts = [info?.vendor, info?.architecture, info?.device].filter((p) => p && p !== "0");
  const name = info?.description?.trim() || parts.join(" ") || "unnamed WebGPU adapter";
  const fallback = info?.isFallbackAdapter === true ||
    (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = [info?.description, info?.vendor, info?.architecture, info?.device].join(" ");
  return {
    name,
    software: fallback || SOFTWARE_NAMES.test(text),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** The high-performance WebGPU adapter of this machine, or the reason there is none. */
export async function probeAdapter(): Promise<AdapterDescription | string> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return "this runtime has no WebGPU (navigator.gpu)";
  quietMesa();
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) {
      return "no WebGPU adapter found (a GPU driver, or Mesa's lavapipe: Debian package mesa-vulkan-drivers)";
    }
    return describeAdapter(adapter);
  } catch (err) {
    return `requesting a WebGPU adapter failed: ${err instanceof Error ? err.message : err}`;
  }
}

/** The running WebGPU backend (throws when another backend is active). */
export function webgpuBackend(): tfwebgpu.WebGPUBackend {
  if (tf.getBackend() !== "webgpu") throw new Error("the WebGPU backend is not the active backend");
  return tf.backend() as unknown as tfwebgpu.WebGPUBackend;
}

interface TensorDataLike {
  values: unknown;
}

/** The internals of tfjs-backend-webgpu 4.22 that {@linkcode keepUploadedValues} wraps. */
interface UploadingBackend {
  uploadToGPU(dataId: object): void;
  tensorMap: { get(dataId: object): TensorDataLike | undefined };
  snnKeepsValues?: boolean;
}

/**
 * Keep the CPU copy of tensors written from the CPU after they are uploaded
 * (see the module docs), so `dataSync()` of weights and inputs works. Their
 * GPU copy never changes (tensors are immutable), so the CPU copy stays right.
 */
export function keepUploadedValues(backend: tfwebgpu.WebGPUBackend): void {
  const b = backend as unknown as UploadingBackend;
  if (b.snnKeepsValues) return;
  const upload = b.uploadToGPU.bind(b);
  b.uploadToGPU = (dataId: object) => {
    const data = b.tensorMap.get(dataId);
    const values = data?.values;
    upload(dataId);
    if (data && values != null && data.values == null) data.values = values;
  };
  b.snnKeepsValues = true;
}

/** Start tfjs-backend-webgpu; resolves to its adapter, rejects with the reason it could not start. */
export async function startWebGpu(): Promise<AdapterDescription> {
  const probed = await probeAdapter();
  if (typeof probed === "string") throw new Error(probed);
  if (!tf.findBackendFactory("webgpu")) {
    throw new Error("tfjs-backend-webgpu did not register (no navigator.gpu)");
  }
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') returned false");
  await tf.ready();
  const backend = webgpuBackend();
  keepUploadedValues(backend);
  const limits = backend.device.limits;
  return {
    ...probed,
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
  };
}

/** The binding limit in bytes of the running WebGPU device, or `undefined` on other backends. */
export function bufferLimit(): number | undefined {
  if (tf.getBackend() !== "webgpu") return undefined;
  const limits = webgpuBackend().device.limits;
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
}

/**
 * Throw a {@linkcode ConfigError} when a float32 tensor of `elementsPerSample × batch`
 * elements does not fit the WebGPU device's buffer limit; `what` names the
 * tensor (e.g. `layer 'conv1' of the spiking network`) and `setting` the
 * setting that sets the batch (e.g. `[simulation] batch_size`). Does nothing
 * on the other backends.
 */
export function assertFitsBuffer(
  elementsPerSample: number,
  batch: number,
  what: string,
  setting: string,
): void {
  const limit = bufferLimit();
  if (limit === undefined) return;
  const bytes = elementsPerSample * batch * 4;
  if (bytes <= limit) return;
  const maxBatch = Math.floor(limit / (elementsPerSample * 4));
  throw new ConfigError(
    `${setting} = ${batch}: ${what} needs ${
      mib(bytes)
    } at this batch size, but the WebGPU adapter binds at ` +
      `most ${mib(limit)} per buffer (maxStorageBufferBindingSize); use a batch of at most ${maxBatch}`,
  );
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
