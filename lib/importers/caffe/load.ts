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
import { ConfigError, ModelFormatError, UnsupportedLayerError } from "../../errors.ts";
import { checkAllocation } from "../../io/limits.ts";
import type { Float32NDArray } from "../../io/ndarray.ts";
import { float32Array } from "../../io/ndarray.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import { bool, message, num, numbers, str } from "./message.ts";
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
import {
  caffePoolOutputSize,
  caffeReshape,
  concatAxis,
  convGeometry,
  DATA_LAYER_TYPES,
  inferCaffeShapes,
  isTrainingOnlyType,
  type PoolGeometry,
  poolGeometry,
} from "./shapes.ts";
import { caffePreprocessing, resolveCaffeInputs } from "./inputs.ts";
import { convKernelToTf, denseKernelToTf, depthwiseKernelToTf } from "../../io/layout.ts";
import { safeLayerName, uniqueLayerName } from "../layer_names.ts";
import { baseName, dirName, firstFile, isFile, joinPath, stripExtension } from "../../io/paths.ts";
import { applyTfjsFixes } from "../../layers/tfjs_fixes.ts";

/** Options of {@linkcode loadCaffeModel}. */
export interface CaffeLoadOptions extends LoadOptions {
  /** Weights file; default: found beside the `.prototxt` (see {@linkcode findCaffeWeights}). */
  weights?: string;
}

/** Options of {@linkcode buildCaffeModel}. */
export interface CaffeBuildOptions {
  /** Input shape without batch (C,H,W), for nets that do not state it. */
  inputShape?: number[];
  /** Flip convolution kernels spatially (default false: Caffe cross-correlates). */
  flipKernels?: boolean;
  /** Build with TF.js's initial weights where the net has no blobs (architecture-only nets). */
  allowMissingWeights?: boolean;
}

/** A built Caffe model and what the build had to note. */
export interface CaffeBuildResult {
  /** The runnable model (NCHW input). */
  model: LayersModel;
  /** Per Caffe layer (by name), the shapes of its tops as Caffe computes them, batch excluded. */
  caffeShapes: Map<string, number[][]>;
  /** Facts worth reporting (approximations, ignored layers). */
  notes: string[];
}

const ACTIVATIONS: Record<string, "relu" | "sigmoid" | "tanh"> = {
  ReLU: "relu",
  Sigmoid: "sigmoid",
  TanH: "tanh",
};

interface Version {
  tensor: tf.SymbolicTensor;
  /** Caffe layer type that produced it (for BN+Scale folding and sign knowledge). */
  producer: string;
  /** Number of kept layers that read this version. */
  readers: number;
  /** Pending BN weights when produced by a BatchNorm layer. */
  bn?: BnWeights;
}

interface BnWeights {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

function fail(net: CaffeNet, layer: CaffeLayer, what: string): never {
  throw new ModelFormatError(`${net.file}: Caffe layer '${layer.name}' (${layer.type}): ${what}`, {
    file: net.file,
  });
}

function unsupported(net: CaffeNet, layer: CaffeLayer, what: string): never {
  throw new UnsupportedLayerError(`${net.file}: Caffe layer '${layer.name}' (${layer.type}): ${what}`, {
    file: net.file,
  });
}

function blobOf(net: CaffeNet, layer: CaffeLayer, index: number, size: number, what: string): Float32Array {
  const blob: CaffeBlob | undefined = layer.blobs[index];
  if (!blob) {
    fail(net, layer, `missing blob ${index} (${what}); the weights file has no such blob for this layer`);
  }
  if (blob.data.length !== size) {
    fail(
      net,
      layer,
      `blob ${index} (${what}) has ${blob.data.length} values [${blob.shape}], expected ${size}`,
    );
  }
  return blob.data;
}

/** Fail unless every value is an integer of at least `min` (layer params such as num_output, stride, pad). */
function checkInts(
  net: CaffeNet,
  layer: CaffeLayer,
  params: Record<string, readonly number[]>,
  min: number,
): void {
  for (const [key, values] of Object.entries(params)) {
    if (values.some((v) => !Number.isSafeInteger(v) || v < min)) {
      fail(
        net,
        layer,
        `${key} must be ${min > 0 ? "a positive" : "a non-negative"} integer, found ${values}`,
      );
    }
  }
}

/**
 * Validate a weight array before TF.js allocates it when the layer is built:
 * its size against the memory ceiling, and the blob holding it (when weights
 * are wanted) against the size the layer params imply.
 */
function checkWeight(
  net: CaffeNet,
  layer: CaffeLayer,
  what: string,
  tfShape: readonly number[],
  blob?: { index: number; size: number },
): void {
  checkAllocation({
    file: net.file,
    what: `the ${what} of Caffe layer '${layer.name}' (${layer.type})`,
    shape: tfShape,
    itemBytes: 4,
  });
  if (blob) blobOf(net, layer, blob.index, blob.size, what);
}

/** A grouped kernel `[out, in / groups, kh, kw]` as a full `[out, in, kh, kw]` kernel, zero across groups. */
function blockDiagonalKernel(
  w: Float32Array,
  out: number,
  inC: number,
  groups: number,
  ksize: number,
): Float32Array {
  if (groups === 1) return w;
  const inPer = inC / groups;
  const outPer = out / groups;
  const full = new Float32Array(out * inC * ksize);
  for (let o = 0; o < out; o++) {
    const g = Math.floor(o / outPer);
    for (let i = 0; i < inPer; i++) {
      full.set(
        w.subarray((o * inPer + i) * ksize, (o * inPer + i + 1) * ksize),
        (o * inC + g * inPer + i) * ksize,
      );
    }
  }
  return full;
}

/** An `[o, i, kh, kw]` kernel with `dilation - 1` zeros between taps (same result as dilated convolution). */
function dilateKernel(w: Float32Array, shape: readonly number[], [dh, dw]: readonly number[]): Float32Array {
  if (dh === 1 && dw === 1) return w;
  const [o, i, kh, kw] = shape;
  const eh = dh * (kh - 1) + 1;
  const ew = dw * (kw - 1) + 1;
  const out = new Float32Array(o * i * eh * ew);
  for (let a = 0; a < o * i; a++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) out[a * eh * ew + y * dh * ew + x * dw] = w[a * kh * kw + y * kw + x];
    }
  }
  return out;
}

/** Padding that makes a valid/same TF.js pooling reproduce Caffe's ceil-mode window placement, per dimension. */
interface DimPadding {
  before: number;
  after: number;
  /** Whether TF's 'same' mode reproduces Caffe here. */
  same: boolean;
  /** Whether zero padding gives Caffe's values (false: only shapes are exact). */
  exact: boolean;
}

function poolDimPadding(
  size: number,
  k: number,
  s: number,
  p: number,
  method: "MAX" | "AVE",
  nonNegative: boolean,
): DimPadding {
  const out = caffePoolOutputSize(size, k, s, p);
  const sameOut = Math.ceil(size / s);
  const sameTotal = Math.max((sameOut - 1) * s + k - size, 0);
  const same = sameOut === out && Math.floor(sameTotal / 2) === p && sameTotal - p >= 0 &&
    (method === "MAX" || p === 0);
  const after = Math.max((out - 1) * s + k - size - p, 0);
  const exact = method === "MAX" ? (p === 0 && after === 0) || nonNegative : after <= p;
  return { before: p, after, same, exact };
}

/** The output of one sample, as Caffe computes it, must fit the memory ceiling (a huge pad makes a huge activation). */
function checkOutput(net: CaffeNet, layer: CaffeLayer, caffeShapes: Map<string, number[][]>): void {
  checkAllocation({
    file: net.file,
    what: `the output of Caffe layer '${layer.name}' (${layer.type}) for one sample`,
    shape: caffeShapes.get(layer.name)?.[0] ?? [],
    itemBytes: 4,
  });
}

/** Pooling params Caffe accepts: positive kernel and stride, pad below the kernel, at least one output. */
function checkPooling(net: CaffeNet, layer: CaffeLayer, g: PoolGeometry, hw: readonly number[]): void {
  checkInts(net, layer, { kernel_size: g.kernel, stride: g.stride }, 1);
  checkInts(net, layer, { pad: g.pad }, 0);
  [0, 1].forEach((i) => {
    if (g.pad[i] >= g.kernel[i]) {
      fail(net, layer, `pad ${g.pad[i]} must be smaller than kernel_size ${g.kernel[i]}`);
    }
    if (!(caffePoolOutputSize(hw[i], g.kernel[i], g.stride[i], g.pad[i]) >= 1)) {
      fail(
        net,
        layer,
        `kernel_size ${g.kernel} does not fit the input of spatial size [${hw}] (pad ${g.pad})`,
      );
    }
  });
}

/** Concat params Caffe accepts: an axis inside the blobs (not the batch) and equal shapes elsewhere. */
function checkConcat(
  net: CaffeNet,
  layer: CaffeLayer,
  axis: number,
  shapes: readonly (readonly (number | null)[])[],
): void {
  if (shapes.length === 0) fail(net, layer, "expected at least 1 bottom, found 0");
  const rank = shapes[0].length;
  if (!Number.isSafeInteger(axis) || axis < 0 || axis >= rank) {
    fail(
      net,
      layer,
      `concat axis must be in [${-rank}, ${rank - 1}] for bottoms of rank ${rank}, found ${axis}`,
    );
  }
  if (axis === 0) unsupported(net, layer, "concatenation along the batch axis (axis 0)");
  const dims = (s: readonly (number | null)[]) => s.map((d, i) => (i === axis ? "*" : String(d))).join(",");
  const first = dims(shapes[0]);
  shapes.forEach((s, i) => {
    if (s.length !== rank || dims(s) !== first) {
      fail(
        net,
        layer,
        `bottom ${i} has shape [${s.slice(1)}], expected [${shapes[0].slice(1)}] except along axis ${axis}`,
      );
    }
  });
}

/**
 * Build the TF.js model of a Caffe net (TEST phase). Blobs must be attached
 * to the layers already (see {@linkcode loadCaffeModel}).
 */
export function buildCaffeModel(net: CaffeNet, options: CaffeBuildOptions = {}): CaffeBuildResult {
  const flip = options.flipKernels ?? false;
  const inputs = resolveCaffeInputs(net, options.inputShape);
  const caffeShapes = inferCaffeShapes(net, new Map(inputs.map((i) => [i.name, i.shape])));
  const notes: string[] = [];
  const used = new Set<string>();
  const pending: [tf.layers.Layer, () => Float32NDArray[]][] = [];

  // Pass 1: blob versions and their readers (in-place layers make new versions of the same name).
  const kept = net.layers.filter((l) => !isTrainingOnlyType(l.type));
  const readers = new Map<string, number>();
  {
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
  }
  const versionNo = new Map<string, number>();
  const blobs = new Map<string, Version>();
  const outputs: tf.SymbolicTensor[] = [];
  const setTop = (name: string, tensor: tf.SymbolicTensor, producer: string, bn?: BnWeights): void => {
    const v = (versionNo.get(name) ?? 0) + 1;
    versionNo.set(name, v);
    const count = readers.get(`${name}#${v}`) ?? 0;
    blobs.set(name, { tensor, producer, readers: count, bn });
    // A blob version no kept layer reads is an output of the net (as in Caffe's Net).
    if (count === 0 && producer !== "Input" && !outputs.includes(tensor)) outputs.push(tensor);
  };
  const read = (layer: CaffeLayer, name: string): Version => {
    const v = blobs.get(name);
    if (!v) fail(net, layer, `reads blob '${name}', which no earlier layer produces`);
    return v;
  };

  const modelInputs: tf.SymbolicTensor[] = [];
  for (const input of inputs) {
    const t = tf.input({ shape: input.shape, name: uniqueLayerName(input.name, used) });
    modelInputs.push(t);
    setTop(input.name, t, "Input");
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
    const ins = layer.bottoms.map((b) => read(layer, b));
    const x = ins[0];
    const name = (suffix = ""): string => uniqueLayerName(layer.name + suffix, used);
    const blobsWanted = !options.allowMissingWeights || layer.blobs.length > 0;
    const expectOne = (): void => {
      if (ins.length !== 1) fail(net, layer, `expected 1 bottom, found ${ins.length}`);
    };
    switch (layer.type) {
      case "Convolution": {
        expectOne();
        const g = convGeometry(layer);
        const inC = x.tensor.shape[1] as number;
        const [dh, dw] = g.dilation;
        checkInts(net, layer, { num_output: [g.numOutput], stride: g.stride, dilation: g.dilation }, 1);
        checkInts(net, layer, { group: [g.group] }, 1);
        checkInts(net, layer, { pad: g.pad }, 0);
        checkOutput(net, layer, caffeShapes);
        if ((dh > 1 || dw > 1) && (g.stride[0] > 1 || g.stride[1] > 1)) {
          unsupported(net, layer, "dilation together with a stride > 1 has no TF.js equivalent");
        }
        let input = x.tensor;
        const kh = dh * (g.kernel[0] - 1) + 1;
        const kw = dw * (g.kernel[1] - 1) + 1;
        const sameExact = g.stride[0] === 1 && g.stride[1] === 1 && kh % 2 === 1 && kw % 2 === 1 &&
          g.pad[0] === (kh - 1) / 2 && g.pad[1] === (kw - 1) / 2;
        if (!sameExact && (g.pad[0] > 0 || g.pad[1] > 0)) {
          input = tf.layers.zeroPadding2d({
            padding: [[g.pad[0], g.pad[0]], [g.pad[1], g.pad[1]]],
            dataFormat: "channelsFirst",
            name: name("_pad"),
          }).apply(input) as tf.SymbolicTensor;
        }
        const common = {
          kernelSize: g.kernel,
          strides: g.stride,
          padding: (sameExact && (g.pad[0] > 0 || g.pad[1] > 0) ? "same" : "valid") as "same" | "valid",
          dilationRate: [dh, dw] as [number, number],
          dataFormat: "channelsFirst" as const,
          useBias: g.biasTerm,
          name: name(),
        };
        const ksize = g.kernel[0] * g.kernel[1];
        const checkBias = () => {
          if (!g.biasTerm) return;
          checkWeight(
            net,
            layer,
            "bias",
            [g.numOutput],
            blobsWanted ? { index: 1, size: g.numOutput } : undefined,
          );
        };
        const grouped = g.group > 1 && inC % g.group === 0 && g.numOutput % g.group === 0;
        if (g.group === 1 || (grouped && g.group !== inC)) {
          const size = (g.numOutput * inC * ksize) / g.group;
          checkWeight(
            net,
            layer,
            "weights",
            [g.numOutput, inC, ...g.kernel],
            blobsWanted ? { index: 0, size } : undefined,
          );
          checkBias();
          // Grouped convolution (e.g. CaffeNet's group 2): one Conv2D with a block-diagonal kernel (exact).
          const conv = tf.layers.conv2d({ ...common, filters: g.numOutput });
          setTop(layer.tops[0], conv.apply(input) as tf.SymbolicTensor, layer.type);
          if (blobsWanted) {
            pending.push([conv, () => {
              const w = blobOf(net, layer, 0, (g.numOutput * inC * ksize) / g.group, "weights");
              const full = blockDiagonalKernel(w, g.numOutput, inC, g.group, ksize);
              const out = [convKernelToTf(full, [g.numOutput, inC, ...g.kernel], flip)];
              if (g.biasTerm) {
                out.push(float32Array(blobOf(net, layer, 1, g.numOutput, "bias"), [g.numOutput]));
              }
              return out;
            }]);
          }
        } else if (g.group === inC && g.numOutput % inC === 0) {
          const m = g.numOutput / inC;
          const size = g.numOutput * ksize;
          checkWeight(
            net,
            layer,
            "weights",
            [g.numOutput, kh, kw],
            blobsWanted ? { index: 0, size } : undefined,
          );
          checkBias();
          // TF.js DepthwiseConv2D ignores dilationRate: spread the kernel out with zeros instead (exact).
          const conv = tf.layers.depthwiseConv2d({
            ...common,
            kernelSize: [kh, kw],
            dilationRate: [1, 1],
            depthMultiplier: m,
          });
          setTop(layer.tops[0], conv.apply(input) as tf.SymbolicTensor, layer.type);
          if (blobsWanted) {
            pending.push([conv, () => {
              const w = blobOf(net, layer, 0, g.numOutput * ksize, "weights");
              const dilated = dilateKernel(w, [g.numOutput, 1, ...g.kernel], [dh, dw]);
              const out = [depthwiseKernelToTf(dilated, [g.numOutput, 1, kh, kw], inC, flip)];
              if (g.biasTerm) {
                out.push(float32Array(blobOf(net, layer, 1, g.numOutput, "bias"), [g.numOutput]));
              }
              return out;
            }]);
          }
        } else {
          unsupported(
            net,
            layer,
            `group ${g.group} with ${inC} input and ${g.numOutput} output channels; ` +
              `the group count must divide both channel counts`,
          );
        }
        break;
      }
      case "Pooling": {
        expectOne();
        const [, h, w] = x.tensor.shape.slice(1) as number[];
        const g = poolGeometry(layer, [h, w]);
        checkPooling(net, layer, g, [h, w]);
        checkOutput(net, layer, caffeShapes);
        const nonNeg = x.producer === "ReLU" || x.producer === "Sigmoid";
        const ph = poolDimPadding(h, g.kernel[0], g.stride[0], g.pad[0], g.method, nonNeg);
        const pw = poolDimPadding(w, g.kernel[1], g.stride[1], g.pad[1], g.method, nonNeg);
        let input = x.tensor;
        const same = ph.same && pw.same && (g.pad[0] > 0 || g.pad[1] > 0 || ph.after > 0 || pw.after > 0);
        if (!same && (ph.before || ph.after || pw.before || pw.after)) {
          input = tf.layers.zeroPadding2d({
            padding: [[ph.before, ph.after], [pw.before, pw.after]],
            dataFormat: "channelsFirst",
            name: name("_pad"),
          }).apply(input) as tf.SymbolicTensor;
          if (!ph.exact || !pw.exact) {
            notes.push(
              `${layer.name}: ${g.method} pooling over zero padding (Caffe ceil mode/pad): shapes exact, ` +
                `values differ from Caffe where ${
                  g.method === "MAX" ? "inputs are negative" : "windows overhang"
                }`,
            );
          }
        }
        const args = {
          poolSize: g.kernel,
          strides: g.stride,
          padding: (same ? "same" : "valid") as "same" | "valid",
          dataFormat: "channelsFirst" as const,
          name: name(),
        };
        const pool = g.method === "MAX" ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
        setTop(layer.tops[0], pool.apply(input) as tf.SymbolicTensor, layer.type);
        break;
      }
      case "InnerProduct": {
        expectOne();
        const p = message(layer.param, "inner_product_param");
        const axis = num(p, "axis", 1);
        if (axis !== 1 && !(axis === -1 && x.tensor.shape.length === 2)) {
          unsupported(net, layer, `inner_product_param.axis ${axis}; supported: 1`);
        }
        let input = x.tensor;
        if (input.shape.length > 2) {
          input = tf.layers.flatten({ name: name("_flatten") }).apply(input) as tf.SymbolicTensor;
        }
        const inputs = input.shape[1] as number;
        const units = num(p, "num_output", 0);
        const biasTerm = bool(p, "bias_term", true);
        const transpose = bool(p, "transpose", false);
        checkInts(net, layer, { num_output: [units] }, 1);
        checkWeight(
          net,
          layer,
          "weights",
          [inputs, units],
          blobsWanted ? { index: 0, size: units * inputs } : undefined,
        );
        if (biasTerm) {
          checkWeight(net, layer, "bias", [units], blobsWanted ? { index: 1, size: units } : undefined);
        }
        const dense = tf.layers.dense({ units, useBias: biasTerm, name: name() });
        setTop(layer.tops[0], dense.apply(input) as tf.SymbolicTensor, layer.type);
        if (blobsWanted) {
          pending.push([dense, () => {
            const wt = blobOf(net, layer, 0, units * inputs, "weights");
            const out = [
              transpose ? float32Array(wt.slice(), [inputs, units]) : denseKernelToTf(wt, units, inputs),
            ];
            if (biasTerm) out.push(float32Array(blobOf(net, layer, 1, units, "bias"), [units]));
            return out;
          }]);
        }
        break;
      }
      case "ReLU":
      case "Sigmoid":
      case "TanH": {
        expectOne();
        const slope = num(message(layer.param, "relu_param"), "negative_slope", 0);
        if (layer.type === "ReLU" && slope !== 0) {
          unsupported(net, layer, `negative_slope ${slope} (leaky ReLU); supported: 0`);
        }
        const act = tf.layers.activation({ activation: ACTIVATIONS[layer.type], name: name() });
        setTop(layer.tops[0], act.apply(x.tensor) as tf.SymbolicTensor, layer.type);
        break;
      }
      case "Softmax": {
        expectOne();
        const axis = num(message(layer.param, "softmax_param"), "axis", 1);
        const rank = x.tensor.shape.length;
        const a = axis < 0 ? axis + rank : axis;
        const sm = a === rank - 1
          ? tf.layers.activation({ activation: "softmax", name: name() })
          : tf.layers.softmax({ axis: a, name: name() });
        setTop(layer.tops[0], sm.apply(x.tensor) as tf.SymbolicTensor, layer.type);
        break;
      }
      case "Dropout": {
        expectOne();
        const rate = num(message(layer.param, "dropout_param"), "dropout_ratio", 0.5);
        const d = tf.layers.dropout({ rate, name: name() });
        setTop(layer.tops[0], d.apply(x.tensor) as tf.SymbolicTensor, x.producer);
        break;
      }
      case "BatchNorm": {
        expectOne();
        const c = x.tensor.shape[1] as number;
        const eps = num(message(layer.param, "batch_norm_param"), "eps", 1e-5);
        const bnLayer = tf.layers.batchNormalization({ axis: 1, epsilon: eps, name: name() });
        const weights: BnWeights = {
          gamma: new Float32Array(c).fill(1),
          beta: new Float32Array(c),
          mean: new Float32Array(c),
          variance: new Float32Array(c).fill(1),
        };
        if (blobsWanted) {
          // Blobs: mean * f, variance * f, and the moving-average scale factor f (caffe.proto BatchNorm).
          pending.push([bnLayer, () => {
            const mean = blobOf(net, layer, 0, c, "running mean");
            const variance = blobOf(net, layer, 1, c, "running variance");
            const f = blobOf(net, layer, 2, 1, "moving_average_fraction scale factor")[0];
            const scale = f === 0 ? 0 : 1 / f;
            weights.mean = mean.map((v) => v * scale);
            weights.variance = variance.map((v) => v * scale);
            return [];
          }]);
        }
        pending.push([bnLayer, () => [
          float32Array(weights.gamma, [c]),
          float32Array(weights.beta, [c]),
          float32Array(weights.mean, [c]),
          float32Array(weights.variance, [c]),
        ]]);
        setTop(layer.tops[0], bnLayer.apply(x.tensor) as tf.SymbolicTensor, layer.type, weights);
        break;
      }
      case "Scale": {
        if (ins.length !== 1) {
          unsupported(net, layer, "a Scale with two bottoms (multiplying blobs) is not supported");
        }
        const p = message(layer.param, "scale_param");
        if (num(p, "axis", 1) !== 1 || num(p, "num_axes", 1) !== 1) {
          unsupported(net, layer, "scale_param axis/num_axes other than 1/1 (per channel)");
        }
        const c = x.tensor.shape[1] as number;
        const biasTerm = bool(p, "bias_term", false);
        const gamma = blobsWanted ? blobOf(net, layer, 0, c, "scale") : new Float32Array(c).fill(1);
        const beta = biasTerm && blobsWanted ? blobOf(net, layer, 1, c, "bias") : new Float32Array(c);
        if (x.bn && x.readers === 1) {
          // BatchNorm + Scale → one BatchNormalization: y = gamma * bn(x) + beta.
          x.bn.gamma = x.bn.gamma.map((g, i) => g * gamma[i]);
          x.bn.beta = x.bn.beta.map((b, i) => b * gamma[i] + beta[i]);
          setTop(layer.tops[0], x.tensor, "BatchNorm");
          break;
        }
        const eps = 1e-3;
        const bnLayer = tf.layers.batchNormalization({ axis: 1, epsilon: eps, name: name() });
        pending.push([bnLayer, () =>
          [
            float32Array(gamma, [c]),
            float32Array(beta, [c]),
            new Float32Array(c),
            new Float32Array(c).fill(1 - eps),
          ].map((a) => (a instanceof Float32Array ? float32Array(a, [c]) : a))]);
        setTop(layer.tops[0], bnLayer.apply(x.tensor) as tf.SymbolicTensor, layer.type);
        break;
      }
      case "Concat": {
        const axis = concatAxis(layer, x.tensor.shape.length);
        checkConcat(net, layer, axis, ins.map((v) => v.tensor.shape));
        const t = ins.length === 1 ? x.tensor : tf.layers.concatenate({ axis, name: name() }).apply(
          ins.map((v) => v.tensor),
        ) as tf.SymbolicTensor;
        setTop(layer.tops[0], t, layer.type);
        break;
      }
      case "Eltwise": {
        const p = message(layer.param, "eltwise_param");
        const op = str(p, "operation", "SUM");
        const coeff = numbers(p, "coeff");
        if ((op !== "SUM" && op !== "1") || coeff.some((c) => c !== 1)) {
          unsupported(
            net,
            layer,
            `operation ${op}${coeff.length ? ` with coeff [${coeff}]` : ""}; supported: SUM`,
          );
        }
        ins.forEach((v, i) => {
          const [a, b] = [v.tensor.shape.slice(1), x.tensor.shape.slice(1)];
          if (a.length !== b.length || a.some((d, j) => d !== b[j])) {
            fail(net, layer, `bottom ${i} has shape [${a}], expected [${b}] like bottom 0`);
          }
        });
        const t = tf.layers.add({ name: name() }).apply(ins.map((v) => v.tensor)) as tf.SymbolicTensor;
        setTop(layer.tops[0], t, layer.type);
        break;
      }
      case "Flatten": {
        expectOne();
        const p = message(layer.param, "flatten_param");
        const rank = x.tensor.shape.length;
        const a = num(p, "axis", 1);
        const e = num(p, "end_axis", -1);
        if ((a === 1 || a === 1 - rank) && (e === -1 || e === rank - 1)) {
          const t = tf.layers.flatten({ name: name() }).apply(x.tensor) as tf.SymbolicTensor;
          setTop(layer.tops[0], t, layer.type);
        } else {
          const shape = caffeShapes.get(layer.name)?.[0] ?? [];
          const t = tf.layers.reshape({ targetShape: shape, name: name() }).apply(
            x.tensor,
          ) as tf.SymbolicTensor;
          setTop(layer.tops[0], t, layer.type);
        }
        break;
      }
      case "Reshape": {
        expectOne();
        const full = caffeReshape(layer, [1, ...(x.tensor.shape.slice(1) as number[])]);
        if (full[0] !== 1) unsupported(net, layer, "a reshape that changes the batch dimension");
        const t = tf.layers.reshape({ targetShape: full.slice(1), name: name() }).apply(
          x.tensor,
        ) as tf.SymbolicTensor;
        setTop(layer.tops[0], t, layer.type);
        break;
      }
      case "Split":
        expectOne();
        for (const top of layer.tops) setTop(top, x.tensor, x.producer, undefined);
        break;
      default:
        unsupported(
          net,
          layer,
          "not supported; supported: Input/Data, Convolution, InnerProduct, Pooling, ReLU, Sigmoid, TanH, " +
            "Softmax, Dropout, BatchNorm, Scale, Concat, Eltwise (SUM), Flatten, Reshape, Split",
        );
    }
  }
  for (const l of net.layers) {
    if (isTrainingOnlyType(l.type)) notes.push(`${l.name}: ${l.type} layer ignored for inference`);
  }

  if (outputs.length === 0) {
    throw new ModelFormatError(`${net.file}: the net computes nothing (no output blobs)`, { file: net.file });
  }
  const model = tf.model({
    inputs: modelInputs,
    outputs: outputs.length === 1 ? outputs[0] : outputs,
    name: net.name || "caffe",
  });
  for (const [layer, make] of pending) {
    const arrays = make();
    if (arrays.length === 0) continue; // a step that only prepares another entry's arrays
    const tensors = arrays.map((a) => tf.tensor(a.data, a.shape, "float32"));
    try {
      layer.setWeights(tensors);
    } catch (err) {
      throw new ModelFormatError(
        `${net.file}: weights of layer '${layer.name}' do not fit: ${(err as Error).message}`,
        {
          cause: err,
          file: net.file,
        },
      );
    } finally {
      tf.dispose(tensors);
    }
  }
  applyTfjsFixes(model); // TF.js computes BatchNormalization on axis 1 wrongly
  checkShapes(net, model, caffeShapes);
  return { model, caffeShapes, notes };
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
