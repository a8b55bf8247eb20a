/**
 * The Caffe input library (`model_lib = caffe`): a `.prototxt` net and its
 * `.caffemodel` / `.caffemodel.h5` weights loaded, without Caffe, into a
 * runnable TensorFlow.js layers model in Caffe's own NCHW layout
 * (`channelsFirst` layers, BatchNormalization on axis 1, Flatten as laid
 * out), giving the same outputs and the same blob shapes as Caffe.
 *
 * Kernel orientation: Caffe's Convolution layer computes a
 * cross-correlation (im2col + GEMM, no kernel reversal), exactly like
 * TensorFlow.js, so kernels are NOT flipped. Settled on the LeNet fixture
 * (`lenet.prototxt` + `lenet_iter_10000.caffemodel`, 10,000 MNIST test
 * images): 99.14 % unflipped, against 45.99 % flipped (the Python toolbox
 * flips; that is wrong for Caffe). `LoadOptions.flipKernels` still forces
 * a flip.
 *
 * @module
 */
import { type LayersModel, tf } from "../../../deps.ts";
import { requireBackend } from "../../backend/mod.ts";
import { ConfigError, ModelFormatError } from "../../errors.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import {
  attachBlobs,
  blobsByName,
  type CaffeBlob,
  type CaffeLayer,
  type CaffeNet,
  readCaffemodel,
  readCaffemodelH5,
  readPrototxt,
} from "./net.ts";
import { DATA_LAYER_TYPES, inferCaffeShapes, isTrainingOnlyType } from "./shapes.ts";
import { caffePreprocessing, resolveCaffeInputs } from "./inputs.ts";
import { CAFFE_LAYERS, CaffeBuild, type CaffeBuildOptions, fail, unsupported } from "./layers.ts";
import { safeLayerName } from "../layer_names.ts";
import { baseName, dirName, firstFile, isFile, joinPath, stripExtension } from "../../io/paths.ts";
import { applyTfjsFixes } from "../../layers/tfjs_fixes.ts";

/** Options of {@linkcode loadCaffeModel}. */
export interface CaffeLoadOptions extends LoadOptions {
  /** Weights file; default: found beside the `.prototxt` (see {@linkcode findCaffeWeights}). */
  weights?: string;
}

/** Options of {@linkcode buildCaffeModel}. */
export type { CaffeBuildOptions };

/** A built Caffe model and what the build had to note. */
export interface CaffeBuildResult {
  /** The runnable model (NCHW input). */
  model: LayersModel;
  /** Per Caffe layer (by name), the shapes of its tops as Caffe computes them, batch excluded. */
  caffeShapes: Map<string, number[][]>;
  /** Facts worth reporting (approximations, ignored layers). */
  notes: string[];
}

/** Per blob version `name#v`, the number of kept (non-data) layers that read it. */
function countReaders(kept: CaffeLayer[]): Map<string, number> {
  const readers = new Map<string, number>();
  const ver = new Map<string, number>();
  for (const l of kept) {
    if (!DATA_LAYER_TYPES.has(l.type)) {
      for (const b of l.bottoms) {
        const key = `${b}#${ver.get(b) ?? 0}`;
        readers.set(key, (readers.get(key) ?? 0) + 1);
      }
    }
    for (const t of l.tops) ver.set(t, (ver.get(t) ?? 0) + 1);
  }
  return readers;
}

/** Set the weights the layer functions left pending, once the model exists. */
function setPendingWeights(net: CaffeNet, build: CaffeBuild): void {
  for (const [layer, make] of build.pending) {
    const arrays = make();
    if (arrays.length === 0) continue; // a step that only prepares another entry's arrays
    const tensors = arrays.map((a) => tf.tensor(a.data, a.shape, "float32"));
    try {
      layer.setWeights(tensors);
    } catch (err) {
      throw new ModelFormatError(
        `${net.file}: weights of layer '${layer.name}' do not fit: ${(err as Error).message}`,
        { cause: err, file: net.file },
      );
    } finally {
      tf.dispose(tensors);
    }
  }
}

/**
 * Build the TF.js model of a Caffe net (TEST phase). Blobs must be attached
 * to the layers already (see {@linkcode loadCaffeModel}). Each layer goes
 * through its function in {@linkcode CAFFE_LAYERS}.
 */
export function buildCaffeModel(net: CaffeNet, options: CaffeBuildOptions = {}): CaffeBuildResult {
  const inputs = resolveCaffeInputs(net, options.inputShape);
  const caffeShapes = inferCaffeShapes(net, new Map(inputs.map((i) => [i.name, i.shape])));
  const kept = net.layers.filter((l) => !isTrainingOnlyType(l.type));
  const build = new CaffeBuild(net, options, caffeShapes, countReaders(kept));
  const modelInputs: tf.SymbolicTensor[] = [];
  for (const input of inputs) {
    const t = tf.input({ shape: input.shape, name: build.name(input.name) });
    modelInputs.push(t);
    build.setTop(input.name, t, "Input");
  }
  const inputNames = new Set(inputs.map((i) => i.name));
  for (const layer of kept) {
    if (DATA_LAYER_TYPES.has(layer.type)) {
      for (const t of layer.tops) {
        if (inputNames.has(t)) continue;
        if (layer.type === "Input" || layer.type === "DummyData") fail(net, layer, `top '${t}' has no input`);
      }
      continue;
    }
    const ins = layer.bottoms.map((b) => build.read(layer, b));
    const make = Object.hasOwn(CAFFE_LAYERS, layer.type) ? CAFFE_LAYERS[layer.type] : undefined;
    if (!make) {
      unsupported(
        net,
        layer,
        "not supported; supported: Input/Data, Convolution, InnerProduct, Pooling, ReLU, Sigmoid, TanH, " +
          "Softmax, Dropout, BatchNorm, Scale, Concat, Eltwise (SUM), Flatten, Reshape, Split",
      );
    }
    make(build, layer, ins);
  }
  for (const l of net.layers) {
    if (isTrainingOnlyType(l.type)) build.notes.push(`${l.name}: ${l.type} layer ignored for inference`);
  }
  if (build.outputs.length === 0) {
    throw new ModelFormatError(`${net.file}: the net computes nothing (no output blobs)`, { file: net.file });
  }
  const outputs = build.outputs;
  const model = tf.model({
    inputs: modelInputs,
    outputs: outputs.length === 1 ? outputs[0] : outputs,
    name: net.name || "caffe",
  });
  setPendingWeights(net, build);
  applyTfjsFixes(model); // TF.js computes BatchNormalization on axis 1 wrongly
  checkShapes(net, model, caffeShapes);
  return { model, caffeShapes, notes: build.notes };
}

/** Every TF.js layer named like a Caffe layer must produce Caffe's shape (else the translation is wrong). */
function checkShapes(net: CaffeNet, model: tf.LayersModel, caffeShapes: Map<string, number[][]>): void {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  for (const layer of net.layers) {
    const tfl = byName.get(safeLayerName(layer.name));
    const expected = caffeShapes.get(layer.name)?.[0];
    if (!tfl || !expected || layer.type === "InnerProduct" || layer.type === "Split") continue;
    const got = (tfl.outputShape as number[]).slice(1);
    if (got.length === expected.length && got.every((d, i) => d === expected[i])) continue;
    throw new ModelFormatError(
      `${net.file}: layer '${layer.name}' (${layer.type}) would produce [${got}] where Caffe produces [${expected}]`,
      { file: net.file },
    );
  }
}

/**
 * The weights file of a net, found the toolbox's way: given `NAME.prototxt`,
 * `NAME.caffemodel`, then `NAME.caffemodel.h5`, then the latest solver
 * snapshot `NAME_iter_N.caffemodel(.h5)` beside it. `undefined` when none.
 */
export async function findCaffeWeights(prototxt: string): Promise<string | undefined> {
  const base = stripExtension(prototxt, ["prototxt"]);
  const found = await firstFile([`${base}.caffemodel`, `${base}.caffemodel.h5`]);
  if (found) return found;
  const dir = dirName(base);
  const stem = baseName(base);
  let best: { path: string; iter: number } | undefined;
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^(.*)_iter_(\d+)\.caffemodel(\.h5)?$/.exec(e.name);
      if (!m || m[1] !== stem || !e.isFile) continue;
      const iter = Number(m[2]);
      if (!best || iter > best.iter) best = { path: joinPath(dir, e.name), iter };
    }
  } catch { /* unreadable directory: no weights */ }
  return best?.path;
}

/** Read a weights file (`.caffemodel` binary or `.caffemodel.h5`) into blobs by layer name. */
export async function readCaffeWeights(path: string): Promise<Map<string, CaffeBlob[]>> {
  if (/\.h5$|\.hdf5$/i.test(path)) return await readCaffemodelH5(path);
  return blobsByName(await readCaffemodel(path));
}

/**
 * Load a Caffe model: `path` is the `.prototxt` (or its name without the
 * extension); the weights are `options.weights` or found beside it. The
 * input model keeps Caffe's NCHW layout. `metadata` reports the net name,
 * layer format, weights file, kernel orientation and the data layer's
 * preprocessing (`preprocessing_scale`, `preprocessing_mean_value`,
 * `preprocessing_mean_file`, `preprocessing_mean_file_missing`) to apply to
 * raw data before running the model (see `applyCaffePreprocessing`).
 */
export async function loadCaffeModel(path: string, options: CaffeLoadOptions = {}): Promise<InputModel> {
  const prototxt = /\.prototxt$/i.test(path) ? path : `${path}.prototxt`;
  const net = await readPrototxt(prototxt);
  const weightsPath = options.weights ?? await findCaffeWeights(prototxt);
  if (!weightsPath) {
    throw new ConfigError(
      `no weights for ${prototxt}: expected ${
        prototxt.replace(/\.prototxt$/i, "")
      }.caffemodel or .caffemodel.h5 beside it`,
      { file: prototxt },
    );
  }
  attachBlobs(net, await readCaffeWeights(weightsPath));
  requireBackend(prototxt);
  const { model, notes } = buildCaffeModel(net, {
    inputShape: options.inputShape,
    flipKernels: options.flipKernels,
  });
  const metadata: Record<string, string> = {
    framework: "caffe",
    net_name: net.name,
    layer_format: net.format === "v1" ? "V1 layers {} (enum types)" : "layer {}",
    weights: weightsPath,
    kernels_flipped: String(options.flipKernels ?? false),
  };
  const pre = caffePreprocessing(net);
  if (pre) {
    metadata.preprocessing_layer = pre.layer;
    metadata.preprocessing_scale = String(pre.scale);
    if (pre.meanValues.length) metadata.preprocessing_mean_value = pre.meanValues.join(",");
    if (pre.meanFile) {
      metadata.preprocessing_mean_file = pre.meanFile;
      const found = await isFile(pre.meanFile) || await isFile(joinPath(dirName(prototxt), pre.meanFile));
      if (!found) metadata.preprocessing_mean_file_missing = "true";
    }
  }
  if (notes.length) metadata.notes = notes.join("; ");
  return { model, library: "caffe", path: prototxt, dataFormat: "channels_first", metadata };
}
