/**
 * Spiking-network benchmarks across backends and against PyTorch: the two
 * SNN benchmark models (the demo MNIST CNN, and a CIFAR-10-sized VGG-like
 * network generated with Debian's torch by bench/snn_peer.py, not
 * committed), module workers that simulate them on a backend of their own,
 * and the PyTorch peer running the same integrate-and-fire loop.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { BackendInfo, BackendName } from "../lib/backend/mod.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import { readNpzArray } from "../lib/io/npz.ts";
import { loadInputModel } from "../lib/parsing/files.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { randomBatch, repoPath } from "./_helpers.ts";

/** The SNN benchmark models. */
export type SnnModelName = "mnist" | "vgg";

/** Folder of the generated VGG-like CIFAR-10 model (not committed). */
export const VGG_DIR = `${envOr("TMPDIR", "/tmp")}/snntoolbox-vgg-bench`;

function envOr(name: string, fallback: string): string {
  try {
    return Deno.env.get(name) || fallback;
  } catch {
    return fallback;
  }
}

/** Generate the VGG-like model with torch; the reason when it cannot be. */
export async function ensureVgg(): Promise<string | undefined> {
  try {
    Deno.statSync(`${VGG_DIR}/vgg_cifar10.onnx`);
    return undefined;
  } catch {
    // generate it
  }
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [repoPath("bench/snn_peer.py"), "--export-vgg", VGG_DIR],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success
      ? undefined
      : `its generator (python3 + torch) failed: ${new TextDecoder().decode(out.stderr).slice(-300)}`;
  } catch (err) {
    return `python3 is not available to generate it (${err instanceof Error ? err.message : err})`;
  }
}

/** Where the SNN benchmark models are read from. */
export interface SnnModelFiles {
  /** The demo folder (`mnist_cnn.json`, `data/x_norm.npz`, `data/x_test.npz`). */
  demo: string;
  /** The generated VGG-like ONNX file. */
  vgg: string;
}

/** The files of a checkout (the VGG in {@linkcode VGG_DIR}). */
export function checkoutFiles(): SnnModelFiles {
  return { demo: repoPath("testdata/demo"), vgg: `${VGG_DIR}/vgg_cifar10.onnx` };
}

/**
 * The parsed, normalized model `name` and an input batch: the demo model
 * normalized on its x_norm with real MNIST test images; the VGG normalized
 * on 64 uniform random images, with uniform random input.
 */
export async function snnModel(
  name: SnnModelName,
  batch: number,
  files: SnnModelFiles = checkoutFiles(),
): Promise<{ model: tf.LayersModel; x: Float32Array }> {
  const path = name === "mnist" ? `${files.demo}/mnist_cnn.json` : files.vgg;
  const { inputModel } = await loadInputModel(path);
  const parser = createParser(inputModel, {});
  parser.parse();
  const model = parser.buildParsedModel();
  const sample = model.inputs[0].shape.slice(1).map(Number);
  const per = sample.reduce((a, b) => a * b, 1);
  if (name === "mnist") {
    const data = `${files.demo}/data/`;
    await normalizeParameters(model, await readNpzArray(`${data}x_norm.npz`), { batchSize: 100 });
    const xTest = await readNpzArray(`${data}x_test.npz`);
    return { model, x: Float32Array.from((xTest.data as Float32Array).subarray(0, batch * per)) };
  }
  await normalizeParameters(model, {
    data: randomBatch(sample, 64, 7),
    shape: [64, ...sample],
    dtype: "float32",
  });
  return { model, x: randomBatch(sample, batch, 3) };
}

/** A request to bench/_sim_worker.ts. */
export type SimRequest =
  | { kind: "init"; backend: BackendName; model: SnnModelName; batch: number }
  | { kind: "steps"; steps: number };

/** A reply of bench/_sim_worker.ts. */
export type SimReply =
  | { kind: "ready"; info: BackendInfo; fused: boolean }
  | { kind: "done" }
  | { kind: "error"; message: string };

/** A module worker simulating one SNN benchmark model on its own backend. */
export class SimWorker {
  readonly #worker: Worker;
  /** The backend the worker got. */
  readonly info: BackendInfo;
  /** Whether the spiking layers run the fused kernel. */
  readonly fused: boolean;

  private constructor(worker: Worker, info: BackendInfo, fused: boolean) {
    this.#worker = worker;
    this.info = info;
    this.fused = fused;
  }

  /** Start a worker on `backend` simulating `model` for a batch of `batch`. */
  static async start(backend: BackendName, model: SnnModelName, batch: number): Promise<SimWorker> {
    const worker = new Worker(new URL("./_sim_worker.ts", import.meta.url), { type: "module" });
    const reply = await send(worker, { kind: "init", backend, model, batch });
    if (reply.kind !== "ready") {
      worker.terminate();
      throw new Error(`SNN bench worker (${model} on ${backend}) failed: ${JSON.stringify(reply)}`);
    }
    return new SimWorker(worker, reply.info, reply.fused);
  }

  /** Run `steps` time steps (the last output read back). */
  async steps(steps: number): Promise<void> {
    const reply = await send(this.#worker, { kind: "steps", steps });
    if (reply.kind !== "done") throw new Error(`SNN bench worker failed: ${JSON.stringify(reply)}`);
  }

  /** Stop the worker. */
  terminate(): void {
    this.#worker.terminate();
  }
}

function send(worker: Worker, req: SimRequest): Promise<SimReply> {
  return new Promise<SimReply>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<SimReply>) => resolve(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(req);
  });
}

/** The PyTorch peer (bench/snn_peer.py --serve): the same IF loop, on the CPU. */
export class TorchPeer {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  private constructor(child: Deno.ChildProcess, lines: AsyncIterator<string>) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = lines;
  }

  /** Start the peer for `model` at `batch` with `threads` torch threads; a string says why it cannot run. */
  static async start(model: SnnModelName, batch: number, threads: number): Promise<TorchPeer | string> {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("/usr/bin/python3", {
        args: [repoPath("bench/snn_peer.py"), "--serve", model, String(batch), String(threads)],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
    } catch (err) {
      return `python3 is not available (${err instanceof Error ? err.message : err})`;
    }
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())[
      Symbol.asyncIterator
    ]();
    const first = await lines.next();
    if (first.done || first.value !== "ready") {
      child.kill();
      return "the PyTorch peer did not start (python3-torch missing?)";
    }
    return new TorchPeer(child, lines);
  }

  /** Run `steps` time steps in the peer. */
  async steps(steps: number): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${steps}\n`));
    const line = await this.#lines.next();
    if (line.done || !line.value.startsWith("ok")) throw new Error("the PyTorch peer stopped");
  }

  /** Stop the peer. */
  async stop(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
  }
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const p of parts) controller.enqueue(p);
    },
  });
}
