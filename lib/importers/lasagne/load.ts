/**
 * The Lasagne input library (`model_lib = lasagne`): a Python build script
 * (`NAME.py`, read by a static interpreter, never run) plus its parameters
 * (`NAME.pkl`, `NAME.h5` or `NAME.npz`, in `get_all_param_values` order)
 * loaded into a runnable TensorFlow.js layers model in Lasagne's NCHW
 * layout.
 *
 * Kernel orientation: `Conv2DLayer` defaults to `flip_filters=True` (Theano
 * computes a true convolution), so its kernels are flipped for TF.js's
 * cross-correlation; `Conv2DDNNLayer` defaults to `flip_filters=False`.
 * The script's `flip_filters=` wins, `LoadOptions.flipKernels` overrides
 * both.
 *
 * @module
 */
import { type LayersModel, tf } from "../../../deps.ts";
import { requireBackend } from "../../backend/mod.ts";
import { ConfigError, ModelFormatError, UnsupportedLayerError } from "../../errors.ts";
import { float32Array, type Float32NDArray, type NDArray, sizeOf, toFloat32 } from "../../io/ndarray.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import {
  getAllLayers,
  interpretLasagneScript,
  type LasagneLayer,
  layerParamNames,
  type ScriptValue,
} from "./interpreter.ts";
import { type PickleValue, readPickle } from "../../io/pickle/numpy.ts";
import { loadParameters } from "../../io/parameters.ts";
import { readNpz } from "../../io/npz.ts";
import { applyConv, convWeights, planConv } from "../lowering/conv.ts";
import { applyPool, planPool } from "../lowering/pool.ts";
import { uniqueLayerName } from "../layer_names.ts";
import { firstFile, readModelFile, readModelTextFile, stripExtension } from "../../io/paths.ts";
import { applyTfjsFixes } from "../../layers/tfjs_fixes.ts";

/** Options of {@linkcode loadLasagneModel}. */
export interface LasagneLoadOptions extends LoadOptions {
  /** Parameter file; default: `NAME.pkl`, `NAME.h5` or `NAME.npz` beside the script. */
  weights?: string;
}

/** Options of {@linkcode buildLasagneModel}. */
export interface LasagneBuildOptions {
  /** Flip all convolution kernels (`true`), none (`false`), or follow each layer's `flip_filters` (default). */
  flipKernels?: boolean;
  /** Input shape without batch (C,H,W) when the InputLayer leaves dimensions as `None`. */
  inputShape?: number[];
  /** The script file, for error messages. */
  file?: string;
}

type Activation = "relu" | "softmax" | "sigmoid" | "tanh" | "linear" | "elu" | "softplus";

const NONLINEARITIES: Record<string, Activation> = {
  rectify: "relu",
  softmax: "softmax",
  sigmoid: "sigmoid",
  tanh: "tanh",
  linear: "linear",
  identity: "linear",
  elu: "elu",
  softplus: "softplus",
};

function num(v: ScriptValue, what: string, fail: (m: string) => never): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return fail(`${what} must be a number, got ${JSON.stringify(v)}`);
}

function pairOf(v: ScriptValue, what: string, fail: (m: string) => never): [number, number] {
  if (typeof v === "number") return [v, v];
  const items = Array.isArray(v) ? v : v && typeof v === "object" && v.kind === "tuple" ? v.items : null;
  if (items && items.length === 2) return [num(items[0], what, fail), num(items[1], what, fail)];
  return fail(`${what} must be a number or a pair, got ${JSON.stringify(v)}`);
}

function shapeOf(v: ScriptValue): (number | null)[] | undefined {
  const items = Array.isArray(v) ? v : v && typeof v === "object" && v.kind === "tuple" ? v.items : null;
  if (!items || !items.every((d) => d === null || typeof d === "number")) return undefined;
  return items as (number | null)[];
}

/** The activation of a Lasagne nonlinearity value (`None` = linear). */
function activationOf(v: ScriptValue, fail: (m: string) => never): Activation {
  if (v === null || v === undefined) return "linear";
  if (typeof v === "object" && !Array.isArray(v) && v.kind === "ref") {
    const last = v.path.split(".").pop()!;
    const act = NONLINEARITIES[last];
    if (act) return act;
    return fail(
      `nonlinearity ${v.path} is not supported; supported: ${Object.keys(NONLINEARITIES).join(", ")}`,
    );
  }
  return fail(`nonlinearity ${JSON.stringify(v)} is not supported`);
}

/** A built Lasagne model and facts about the build. */
export interface LasagneBuildResult {
  /** The runnable model (NCHW input). */
  model: LayersModel;
  /** Names of the convolution layers whose kernels were flipped. */
  flipped: string[];
}

/**
 * Build the TF.js model of a Lasagne network from its output layer and its
 * parameters in `get_all_param_values` order (`undefined`: keep TF.js's
 * initial weights, for architecture checks).
 */
export function buildLasagneModel(
  output: LasagneLayer,
  params: NDArray[] | undefined,
  options: LasagneBuildOptions = {},
): LasagneBuildResult {
  const file = options.file ?? "<script>";
  const layers = getAllLayers(output);
  const used = new Set<string>();
  const tensors = new Map<LasagneLayer, tf.SymbolicTensor>();
  const pending: [tf.layers.Layer, Float32NDArray[]][] = [];
  const flipped: string[] = [];
  let paramIndex = 0;
  const expected = layers.reduce((n, l) => n + layerParamNames(l).length, 0);
  if (params && params.length !== expected) {
    throw new ModelFormatError(
      `${file}: the network has ${expected} parameter arrays (get_all_param_values order), ` +
        `the parameter file holds ${params.length}`,
      { file },
    );
  }
  const inputs: tf.SymbolicTensor[] = [];

  layers.forEach((layer, idx) => {
    const label = `${layer.type}${layer.name ? ` '${layer.name}'` : ""} (line ${layer.line})`;
    const fail = (msg: string): never => {
      throw new ModelFormatError(`${file}: ${label}: ${msg}`, { file });
    };
    const unsupported = (msg: string): never => {
      throw new UnsupportedLayerError(`${file}: ${label}: ${msg}`, { file });
    };
    const name = uniqueLayerName(
      layer.name ?? layer.hint ?? `${layer.type.replace(/Layer$/, "").toLowerCase()}${idx}`,
      used,
    );
    const a = layer.args;
    const x = layer.incoming.map((l) => tensors.get(l)!);
    const take = (what: string, shape: number[]): Float32Array | undefined => {
      if (!params) return undefined;
      const p = params[paramIndex];
      if (sizeOf(p.shape) !== sizeOf(shape) || (p.shape.length !== shape.length && p.shape.length > 0)) {
        fail(`parameter ${paramIndex} (${what}) has shape [${p.shape}], expected [${shape}]`);
      }
      paramIndex++;
      return toFloat32(p);
    };
    const setOut = (t: tf.SymbolicTensor): void => {
      tensors.set(layer, t);
    };
    switch (layer.type) {
      case "InputLayer": {
        const shape = shapeOf(a.shape) ?? fail(`shape must be a tuple, got ${JSON.stringify(a.shape)}`);
        let dims = shape.slice(1);
        if (options.inputShape) dims = options.inputShape;
        if (dims.some((d) => d === null)) {
          throw new ConfigError(
            `${file}: ${label}: input shape (${
              shape.map((d) => d ?? "None").join(", ")
            }) leaves dimensions open; ` +
              `pass --input-shape (LoadOptions.inputShape)`,
            { file },
          );
        }
        const t = tf.input({ shape: dims as number[], name });
        inputs.push(t);
        setOut(t);
        break;
      }
      case "Conv2DLayer":
      case "Conv2DDNNLayer": {
        if (a.untie_biases === true) unsupported("untie_biases=True has no TF.js equivalent");
        const filters = num(a.num_filters, "num_filters", fail);
        const kernel = pairOf(a.filter_size, "filter_size", fail);
        const stride = pairOf(a.stride, "stride", fail);
        let pad: [number, number];
        if (a.pad === "valid") pad = [0, 0];
        else if (a.pad === "full") pad = [kernel[0] - 1, kernel[1] - 1];
        else if (a.pad === "same") {
          if (kernel[0] % 2 === 0 || kernel[1] % 2 === 0) unsupported("pad='same' with an even filter size");
          pad = [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2];
        } else pad = pairOf(a.pad, "pad", fail);
        const [inC, h, w] = x[0].shape.slice(1) as number[];
        const plan = planConv({
          inChannels: inC,
          outChannels: filters,
          kernel,
          strides: stride,
          dilations: [1, 1],
          groups: 1,
          pads: pad.map((p) => [p, p] as [number, number]),
          inputSize: [h, w],
        }, unsupported);
        const useBias = a.b !== null;
        const w0 = take("W", [filters, inC, ...kernel]);
        const { output, layer: conv } = applyConv(plan, x[0], {
          name,
          padName: () => uniqueLayerName(`${name}_pad`, used),
          useBias,
          activation: activationOf(a.nonlinearity, unsupported),
          zeroInit: params !== undefined,
        });
        setOut(output);
        const flip = options.flipKernels ?? a.flip_filters === true;
        if (flip) flipped.push(name);
        const b = useBias ? take("b", [filters]) : undefined;
        if (w0) pending.push([conv, convWeights(plan, w0, b, flip)]);
        break;
      }
      case "DenseLayer": {
        if (num(a.num_leading_axes, "num_leading_axes", fail) !== 1) {
          unsupported("num_leading_axes other than 1");
        }
        const units = num(a.num_units, "num_units", fail);
        let input = x[0];
        if (input.shape.length > 2) {
          input = tf.layers.flatten({ name: uniqueLayerName(`${name}_flatten`, used) }).apply(
            input,
          ) as tf.SymbolicTensor;
        }
        const inputs = input.shape[1] as number;
        const useBias = a.b !== null;
        const dense = tf.layers.dense({
          units,
          activation: activationOf(a.nonlinearity, unsupported),
          useBias,
          name,
        });
        setOut(dense.apply(input) as tf.SymbolicTensor);
        const w = take("W", [inputs, units]);
        const b = useBias ? take("b", [units]) : undefined;
        if (w) {
          pending.push([dense, [float32Array(w, [inputs, units]), ...(b ? [float32Array(b, [units])] : [])]]);
        }
        break;
      }
      case "MaxPool2DLayer":
      case "MaxPool2DDNNLayer":
      case "Pool2DLayer":
      case "Pool2DDNNLayer": {
        const mode = layer.type.startsWith("Max") ? "max" : String(a.mode);
        if (!["max", "average_inc_pad", "average_exc_pad"].includes(mode)) {
          unsupported(`pooling mode '${mode}'`);
        }
        const size = pairOf(a.pool_size, "pool_size", fail);
        const stride = a.stride === null ? size : pairOf(a.stride, "stride", fail);
        const pad = pairOf(a.pad, "pad", fail);
        const [h, w] = (x[0].shape.slice(2) as number[]).map((d, i) => d + 2 * pad[i]);
        if (
          a.ignore_border === false && ((h - size[0]) % stride[0] !== 0 || (w - size[1]) % stride[1] !== 0)
        ) {
          unsupported("ignore_border=False with a partial last window");
        }
        const size2 = x[0].shape.slice(2) as number[];
        const spec = {
          method: mode === "max" ? "max" as const : "avg" as const,
          inputSize: size2,
          kernel: size,
          strides: stride,
          pads: pad.map((p) => [p, p] as [number, number]),
          outputSize: size2.map((n, i) => Math.floor((n + 2 * pad[i] - size[i]) / stride[i]) + 1),
          // Theano pads pooled images with zeros (max pooling too); average_exc_pad leaves them out.
          padsAreZeros: mode !== "average_exc_pad",
          nonNegative: false,
        };
        const plan = planPool(spec);
        if (!plan.exact) unsupported(`${mode} pooling with padding ${pad}`);
        setOut(applyPool(plan, spec, x[0], { name, padName: () => uniqueLayerName(`${name}_pad`, used) }));
        break;
      }
      case "GlobalPoolLayer": {
        const fn = a.pool_function;
        const path = fn && typeof fn === "object" && !Array.isArray(fn) && fn.kind === "ref" ? fn.path : "";
        const kind = path.split(".").pop();
        const args = { dataFormat: "channelsFirst" as const, name };
        if (x[0].shape.length !== 4) unsupported("global pooling of a non-4-D input");
        const pool = kind === "mean"
          ? tf.layers.globalAveragePooling2d(args)
          : kind === "max"
          ? tf.layers.globalMaxPooling2d(args)
          : unsupported(`pool_function ${path || JSON.stringify(fn)}; supported: theano.tensor.mean, max`);
        setOut(pool.apply(x[0]) as tf.SymbolicTensor);
        break;
      }
      case "DropoutLayer":
        setOut(tf.layers.dropout({ rate: num(a.p, "p", fail), name }).apply(x[0]) as tf.SymbolicTensor);
        break;
      case "FlattenLayer":
        if (num(a.outdim, "outdim", fail) !== 2) unsupported("outdim other than 2");
        setOut(tf.layers.flatten({ name }).apply(x[0]) as tf.SymbolicTensor);
        break;
      case "NonlinearityLayer":
        setOut(
          tf.layers.activation({ activation: activationOf(a.nonlinearity, unsupported), name }).apply(
            x[0],
          ) as tf.SymbolicTensor,
        );
        break;
      case "BatchNormLayer": {
        if (a.axes !== "auto") unsupported(`axes=${JSON.stringify(a.axes)}; supported: 'auto' (per channel)`);
        const c = x[0].shape[1] as number;
        const eps = num(a.epsilon, "epsilon", fail);
        const bn = tf.layers.batchNormalization({ axis: 1, epsilon: eps, name });
        setOut(bn.apply(x[0]) as tf.SymbolicTensor);
        const names = layerParamNames(layer);
        const got: Record<string, Float32Array | undefined> = {};
        for (const p of names) got[p] = take(p, [c]);
        if (params) {
          const beta = got.beta ?? new Float32Array(c);
          const gamma = got.gamma ?? new Float32Array(c).fill(1);
          const mean = got.mean ?? new Float32Array(c);
          const invStd = got.inv_std ?? new Float32Array(c).fill(1);
          // Lasagne stores inv_std = 1 / sqrt(var + epsilon).
          const variance = invStd.map((s) => 1 / (s * s) - eps);
          pending.push([bn, [gamma, beta, mean, variance].map((v) => float32Array(v, [c]))]);
        }
        break;
      }
      case "ConcatLayer": {
        if (a.cropping !== null) unsupported("cropping");
        const axis = num(a.axis, "axis", fail);
        setOut(tf.layers.concatenate({ axis, name }).apply(x) as tf.SymbolicTensor);
        break;
      }
      case "ElemwiseSumLayer": {
        if (a.cropping !== null) unsupported("cropping");
        if (a.coeffs !== 1) unsupported(`coeffs ${JSON.stringify(a.coeffs)}; supported: 1`);
        setOut(tf.layers.add({ name }).apply(x) as tf.SymbolicTensor);
        break;
      }
      case "PadLayer": {
        if (a.val !== 0) unsupported(`val=${JSON.stringify(a.val)}; supported: 0`);
        if (a.batch_ndim !== 2) unsupported("batch_ndim other than 2");
        const width = pairOf(a.width, "width", fail);
        setOut(
          tf.layers.zeroPadding2d({
            padding: [[width[0], width[0]], [width[1], width[1]]],
            dataFormat: "channelsFirst",
            name,
          }).apply(x[0]) as tf.SymbolicTensor,
        );
        break;
      }
      default:
        unsupported("not supported");
    }
  });
  const model = tf.model({ inputs, outputs: tensors.get(output)!, name: "lasagne" });
  for (const [layer, arrays] of pending) {
    const ts = arrays.map((arr) => tf.tensor(arr.data, arr.shape, "float32"));
    try {
      layer.setWeights(ts);
    } finally {
      tf.dispose(ts);
    }
  }
  applyTfjsFixes(model); // TF.js computes BatchNormalization on axis 1 wrongly
  return { model, flipped };
}

/** The parameter file of a build script, found the toolbox's way: `NAME.pkl`, `NAME.h5`, `NAME.npz` beside `NAME.py`. */
export async function findLasagneParameters(script: string): Promise<string | undefined> {
  const base = stripExtension(script, ["py"]);
  return await firstFile([".pkl", ".h5", ".npz"].map((ext) => base + ext));
}

function arraysFromPickle(v: PickleValue, path: string): NDArray[] {
  let list: PickleValue = v;
  if (v && typeof v === "object" && !Array.isArray(v) && "kind" in v && v.kind === "dict") {
    const hit = v.entries.find(([k]) => k === "param values");
    if (!hit) {
      throw new ModelFormatError(`${path}: expected a dict with key 'param values' or a list of arrays`, {
        file: path,
      });
    }
    list = hit[1];
  }
  if (list && typeof list === "object" && !Array.isArray(list) && "kind" in list && list.kind === "tuple") {
    list = list.items;
  }
  if (!Array.isArray(list)) {
    throw new ModelFormatError(`${path}: expected a list of numpy arrays (get_all_param_values)`, {
      file: path,
    });
  }
  return list.map((item, i) => {
    if (item && typeof item === "object" && "data" in item && "shape" in item) return item as NDArray;
    throw new ModelFormatError(`${path}: parameter ${i} is not a numpy array`, { file: path });
  });
}

/**
 * Read Lasagne parameters in `get_all_param_values` order from a `.pkl`
 * (`{'param values': [...]}` or a bare list), a toolbox `.h5`
 * (`save_parameters`: datasets in sorted key order) or an `.npz`
 * (`np.savez(*params)`: `arr_0`, `arr_1`, ...).
 */
export async function readLasagneParameters(path: string): Promise<NDArray[]> {
  if (/\.pkl$|\.pickle$/i.test(path)) {
    const bytes = await readModelFile(path, "the Lasagne parameters");
    return arraysFromPickle(readPickle(bytes, path), path);
  }
  if (/\.npz$/i.test(path)) {
    const arrays = await readNpz(path);
    const keys = Object.keys(arrays);
    const numbered = keys.every((k) => /^arr_\d+$/.test(k));
    keys.sort((x, y) => (numbered ? Number(x.slice(4)) - Number(y.slice(4)) : x < y ? -1 : x > y ? 1 : 0));
    return keys.map((k) => arrays[k]);
  }
  return await loadParameters(path);
}

/**
 * Load a Lasagne model: `path` is the build script `NAME.py`; parameters
 * are `options.weights` or found beside it. The input model keeps
 * Lasagne's NCHW layout.
 */
export async function loadLasagneModel(path: string, options: LasagneLoadOptions = {}): Promise<InputModel> {
  const source = await readModelTextFile(path, "the Lasagne build script");
  const script = interpretLasagneScript(source, path);
  const weights = options.weights ?? await findLasagneParameters(path);
  if (!weights) {
    const base = stripExtension(path, ["py"]);
    throw new ConfigError(
      `no parameters for ${path}: expected ${base}.pkl, ${base}.h5 or ${base}.npz beside it`,
      {
        file: path,
      },
    );
  }
  const params = await readLasagneParameters(weights);
  requireBackend(path);
  const { model, flipped } = buildLasagneModel(script.output, params, {
    flipKernels: options.flipKernels,
    inputShape: options.inputShape,
    file: path,
  });
  return {
    model,
    library: "lasagne",
    path,
    dataFormat: "channels_first",
    metadata: {
      framework: "lasagne",
      entry: script.entry,
      weights,
      kernels_flipped: flipped.length ? flipped.join(",") : "none",
    },
  };
}
