/**
 * Shared pieces of the benchmark suite (`deno task bench`): the three
 * benchmark models and where they come from, loading + parsing them,
 * deterministic input batches, inference workers with their own backend
 * (threads are per realm), and timing of subprocesses.
 *
 * Every benchmark is a `Deno.bench` in a group with a baseline, so
 * `deno bench` prints each result as a ratio against a peer measured in the
 * same run. Results and how they were measured: docs/benchmarks.md.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { BackendInfo, BackendName } from "../lib/backend/mod.ts";
import { DataParallelModel } from "../lib/backend/workers.ts";
import { customActivationModule } from "../lib/layers/activations.ts";
import { getModelLibrary } from "../lib/importers/mod.ts";
import type { InputModel } from "../lib/importers/input_model.ts";
import { createParser } from "../lib/parsing/model_parser.ts";
import { existsSync } from "../lib/io/paths.ts";

/** Names of the benchmark models. */
export type BenchModelName = "mnist" | "mobilenet" | "resnet18";

/** A benchmark model: its file(s), library and per-sample input shape of the parsed (channels-last) model. */
export interface BenchModel {
  /** Short name used in benchmark names. */
  name: BenchModelName;
  /** Human-readable description for the report. */
  title: string;
  /** Model library (`[input] model_lib`). */
  lib: "keras" | "onnx";
  /** The file the library loads. */
  path: string;
  /** All files whose bytes make up the model (the JSON's weights file too). */
  files: string[];
  /** Per-sample input shape of the parsed model (channels last). */
  sampleShape: number[];
}

const ROOT = new URL("../", import.meta.url);

/** Folder of the generated ResNet-18 (not committed: ~47 MB). */
export const RESNET_DIR = `${envOr("TMPDIR", "/tmp")}/snntoolbox-onnx-bench`;

function envOr(name: string, fallback: string): string {
  try {
    return Deno.env.get(name) || fallback;
  } catch {
    return fallback;
  }
}

/** Generate the ResNet-18 ONNX file with the committed torch script; the reason when it cannot. */
async function ensureResnet(path: string): Promise<string | undefined> {
  if (existsSync(path)) return undefined;
  const gen = new URL("testdata/onnx/gen_models.py", ROOT).pathname;
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [gen, "--resnet", RESNET_DIR],
      stderr: "piped",
    })
      .output();
    if (out.success) return undefined;
    return `its generator (python3 + torch) failed: ${new TextDecoder().decode(out.stderr).slice(-300)}`;
  } catch (err) {
    return `python3 is not available to generate it (${err instanceof Error ? err.message : err})`;
  }
}

/**
 * The benchmark model `name`, or a string saying why it is unavailable
 * (MobileNet is a shared fixture; the ResNet-18 is generated on first use).
 */
export async function benchModel(name: BenchModelName): Promise<BenchModel | string> {
  if (name === "mnist") {
    const path = new URL("testdata/demo/mnist_cnn.json", ROOT).pathname;
    return {
      name,
      title: "MNIST CNN (demo, TF.js layers JSON)",
      lib: "keras",
      path,
      files: [path, path.replace(/\.json$/, ".weights.bin")],
      sampleShape: [28, 28, 1],
    };
  }
  if (name === "mobilenet") {
    const path = new URL("../shared/fixtures/keras-h5/st_mobilenet_v1_0.25_224_keras2.8.h5", ROOT).pathname;
    if (!existsSync(path)) return `the MobileNet fixture ${path} is absent`;
    return {
      name,
      title: "MobileNet v1 0.25 224 (Keras HDF5 fixture)",
      lib: "keras",
      path,
      files: [path],
      sampleShape: [224, 224, 3],
    };
  }
  const path = `${RESNET_DIR}/resnet18.onnx`;
  const why = await ensureResnet(path);
  if (why) return `the ResNet-18 ONNX model is unavailable: ${why}`;
  return {
    name,
    title: "ResNet-18 (ONNX opset 13, random weights)",
    lib: "onnx",
    path,
    files: [path],
    sampleShape: [224, 224, 3],
  };
}

/** All three benchmark models that are available; prints why the others are skipped. */
export async function availableModels(bench: string): Promise<BenchModel[]> {
  const found: BenchModel[] = [];
  for (const name of ["mnist", "mobilenet", "resnet18"] as const) {
    const m = await benchModel(name);
    if (typeof m === "string") console.log(`${bench}: skipping ${name}: ${m}`);
    else found.push(m);
  }
  return found;
}

/** Read every file of the model (the baseline of the parse benchmark). */
export async function readModelBytes(model: BenchModel): Promise<number> {
  let n = 0;
  for (const f of model.files) n += (await Deno.readFile(f)).byteLength;
  return n;
}

/** Load the model file into an input model with its library. */
export function loadInputModel(model: BenchModel): Promise<InputModel> {
  return getModelLibrary(model.lib).load(model.path);
}

/** Parse a loaded input model and build the parsed (channels-last) TF.js model. */
export function parseAndBuild(input: InputModel): tf.LayersModel {
  const parser = createParser(input, {});
  parser.parse();
  return parser.buildParsedModel();
}

/** Load, parse and build: the parsed model of `model`. */
export async function loadParsedModel(model: BenchModel): Promise<tf.LayersModel> {
  return parseAndBuild(await loadInputModel(model));
}

/** Deterministic pseudo-random floats in [0, 1) of `batch` samples of `sampleShape`. */
export function randomBatch(sampleShape: number[], batch: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const data = new Float32Array(batch * sampleShape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return data;
}

/** NHWC batch → NCHW (the ONNX model's own layout), for onnxruntime-node. */
export function toChannelsFirst(x: Float32Array, shape: [number, number, number, number]): Float32Array {
  const [n, h, w, c] = shape;
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
      }
    }
  }
  return out;
}

/** A request to bench/_infer_worker.ts. */
export type InferRequest =
  | { kind: "init"; threads: number; model: BenchModelName; batches: number[]; backend: BackendName }
  | { kind: "infer"; batch: number };

/** A reply of bench/_infer_worker.ts. */
export type InferReply =
  | { kind: "ready"; info: BackendInfo }
  | { kind: "done"; top: number }
  | { kind: "error"; message: string };

/** A module worker with its own TF.js backend of a given thread count, holding one parsed model. */
export class InferWorker {
  readonly #worker: Worker;
  /** The backend the worker got. */
  readonly info: BackendInfo;

  private constructor(worker: Worker, info: BackendInfo) {
    this.#worker = worker;
    this.info = info;
  }

  /**
   * Start a worker on `backend` (WASM with `threads` threads by default) that
   * loads and parses `model` and prepares `batches`.
   */
  static async start(
    threads: number,
    model: BenchModelName,
    batches: number[],
    backend: BackendName = "wasm",
  ): Promise<InferWorker> {
    const worker = new Worker(new URL("./_infer_worker.ts", import.meta.url), { type: "module" });
    const reply = await send(worker, { kind: "init", threads, model, batches, backend });
    if (reply.kind !== "ready") {
      worker.terminate();
      throw new Error(`bench worker (${model}, ${threads} threads) failed: ${JSON.stringify(reply)}`);
    }
    return new InferWorker(worker, reply.info);
  }

  /** One forward pass of the prepared batch of size `batch`, read back to the host. */
  async infer(batch: number): Promise<void> {
    const reply = await send(this.#worker, { kind: "infer", batch });
    if (reply.kind !== "done") throw new Error(`bench worker inference failed: ${JSON.stringify(reply)}`);
  }

  /** Stop the worker. */
  terminate(): void {
    this.#worker.terminate();
  }
}

function send(worker: Worker, req: InferRequest): Promise<InferReply> {
  return new Promise<InferReply>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<InferReply>) => resolve(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(req);
  });
}

/**
 * A {@linkcode DataParallelModel} of `model` with one single-threaded worker
 * per core (batches split across them), the custom activations registered in
 * each worker.
 */
export function dataParallel(model: tf.LayersModel, workers: number): Promise<DataParallelModel> {
  const module = customActivationModule(model);
  return DataParallelModel.create(model, { workers, modules: module ? [module] : [] });
}

/** Absolute path of a file of the repository. */
export function repoPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/** Run `deno <args>` from the repository root; throws with its stderr when it fails. */
export async function runDeno(args: string[], env: Record<string, string> = {}): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: repoPath("."),
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).slice(-500)}`);
  }
}
