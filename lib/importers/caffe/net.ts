/**
 * Caffe networks: `.prototxt` (text) and `.caffemodel` (binary
 * NetParameter) read into one normalized form, whichever of the two layer
 * formats the file uses (`layer {}` with string types, or the old V1
 * `layers {}` with enum types), with the TEST-phase layers selected and the
 * learned blobs of a `.caffemodel` or `.caffemodel.h5` attached by layer name.
 *
 * @module
 */
import { h5wasm } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import { readModelFile, readModelTextFile } from "../../io/paths.ts";
import { openHdf5 } from "../../io/hdf5.ts";
import { fieldValues, message, messages, num, numbers, type PbMessage, str, strings } from "./message.ts";
import { parseTextFormat } from "./text_format.ts";
import { decodeMessage, type Schema } from "./wire.ts";

/** A learned parameter array of a layer (Caffe's Blob), C order. */
export interface CaffeBlob {
  /** The values. */
  data: Float32Array;
  /** The stored shape (legacy 4-D num/channels/height/width or BlobShape dims). */
  shape: number[];
}

/** One layer of a normalized net. */
export interface CaffeLayer {
  /** Layer name (unique key for weights). */
  name: string;
  /** Layer type in the current spelling (`"Convolution"`, `"InnerProduct"`, ...), V1 enums translated. */
  type: string;
  /** Input blob names. */
  bottoms: string[];
  /** Output blob names (equal to a bottom for in-place layers). */
  tops: string[];
  /** The layer message as parsed (its `*_param` sub-messages hold the settings). */
  param: PbMessage;
  /** Learned blobs (empty until weights are attached, or for layers without any). */
  blobs: CaffeBlob[];
}

/** A net input declared outside the layer list (`input:` + `input_shape`/`input_dim`). */
export interface CaffeNetInput {
  /** Blob name. */
  name: string;
  /** Shape including the batch dimension, when stated. */
  shape?: number[];
}

/** A Caffe net in normalized form. */
export interface CaffeNet {
  /** `name:` of the net ("" when absent). */
  name: string;
  /** The file it was read from. */
  file: string;
  /** Which layer format the file used. */
  format: "layer" | "v1";
  /** Inputs declared at net level (deprecated `input:` fields). */
  inputs: CaffeNetInput[];
  /** Layers in file order, TEST phase only. */
  layers: CaffeLayer[];
}

/** V1LayerParameter.LayerType enum values (caffe.proto) → current type names. */
const V1_TYPES: Record<number, [string, string]> = {
  0: ["NONE", "None"],
  1: ["ACCURACY", "Accuracy"],
  2: ["BNLL", "BNLL"],
  3: ["CONCAT", "Concat"],
  4: ["CONVOLUTION", "Convolution"],
  5: ["DATA", "Data"],
  6: ["DROPOUT", "Dropout"],
  7: ["EUCLIDEAN_LOSS", "EuclideanLoss"],
  8: ["FLATTEN", "Flatten"],
  9: ["HDF5_DATA", "HDF5Data"],
  10: ["HDF5_OUTPUT", "HDF5Output"],
  11: ["IM2COL", "Im2col"],
  12: ["IMAGE_DATA", "ImageData"],
  13: ["INFOGAIN_LOSS", "InfogainLoss"],
  14: ["INNER_PRODUCT", "InnerProduct"],
  15: ["LRN", "LRN"],
  16: ["MULTINOMIAL_LOGISTIC_LOSS", "MultinomialLogisticLoss"],
  17: ["POOLING", "Pooling"],
  18: ["RELU", "ReLU"],
  19: ["SIGMOID", "Sigmoid"],
  20: ["SOFTMAX", "Softmax"],
  21: ["SOFTMAX_LOSS", "SoftmaxWithLoss"],
  22: ["SPLIT", "Split"],
  23: ["TANH", "TanH"],
  24: ["WINDOW_DATA", "WindowData"],
  25: ["ELTWISE", "Eltwise"],
  26: ["POWER", "Power"],
  27: ["SIGMOID_CROSS_ENTROPY_LOSS", "SigmoidCrossEntropyLoss"],
  28: ["HINGE_LOSS", "HingeLoss"],
  29: ["MEMORY_DATA", "MemoryData"],
  30: ["ARGMAX", "ArgMax"],
  31: ["THRESHOLD", "Threshold"],
  32: ["DUMMY_DATA", "DummyData"],
  33: ["SLICE", "Slice"],
  34: ["MVN", "MVN"],
  35: ["ABSVAL", "AbsVal"],
  36: ["SILENCE", "Silence"],
  37: ["CONTRASTIVE_LOSS", "ContrastiveLoss"],
  38: ["EXP", "Exp"],
  39: ["DECONVOLUTION", "Deconvolution"],
};

const V1_BY_NAME: Record<string, string> = Object.fromEntries(Object.values(V1_TYPES));
const V1_ENUM: Record<number, string> = Object.fromEntries(
  Object.entries(V1_TYPES).map(([k, [enumName]]) => [Number(k), enumName]),
);

/**
 * The subset of caffe.proto (BVLC/caffe `src/caffe/proto/caffe.proto`) a
 * `.caffemodel` is decoded with: field numbers as documented there. Layer
 * settings come from the `.prototxt`; the binary file supplies names, types
 * and blobs.
 */
export const CAFFE_SCHEMA: Schema = {
  NetParameter: {
    1: ["name", "string"],
    2: ["layers", { message: "V1LayerParameter" }],
    3: ["input", "string"],
    4: ["input_dim", "int64"],
    8: ["input_shape", { message: "BlobShape" }],
    100: ["layer", { message: "LayerParameter" }],
  },
  LayerParameter: {
    1: ["name", "string"],
    2: ["type", "string"],
    3: ["bottom", "string"],
    4: ["top", "string"],
    7: ["blobs", { message: "BlobProto" }],
    8: ["include", { message: "NetStateRule" }],
    9: ["exclude", { message: "NetStateRule" }],
  },
  V1LayerParameter: {
    2: ["bottom", "string"],
    3: ["top", "string"],
    4: ["name", "string"],
    5: ["type", { enum: V1_ENUM }],
    6: ["blobs", { message: "BlobProto" }],
    32: ["include", { message: "NetStateRule" }],
    33: ["exclude", { message: "NetStateRule" }],
  },
  BlobProto: {
    1: ["num", "int64"],
    2: ["channels", "int64"],
    3: ["height", "int64"],
    4: ["width", "int64"],
    5: ["data", "float"],
    7: ["shape", { message: "BlobShape" }],
    8: ["double_data", "double"],
  },
  BlobShape: { 1: ["dim", "int64"] },
  NetStateRule: {
    1: ["phase", { enum: { 0: "TRAIN", 1: "TEST" } }],
    2: ["min_level", "int64"],
    3: ["max_level", "int64"],
    4: ["stage", "string"],
    5: ["not_stage", "string"],
  },
};

/** Whether a NetStateRule holds for Caffe's inference state (phase TEST, level 0, no stages). */
function ruleMatchesTest(rule: PbMessage): boolean {
  const phase = str(rule, "phase", "");
  if (phase !== "" && phase !== "TEST" && phase !== "1") return false;
  const min = num(rule, "min_level");
  const max = num(rule, "max_level");
  if (min !== undefined && min > 0) return false;
  if (max !== undefined && max < 0) return false;
  return strings(rule, "stage").length === 0;
}

/** Caffe's `StateMeetsRule` logic for the TEST phase. */
function inTestPhase(layer: PbMessage): boolean {
  const include = messages(layer, "include");
  const exclude = messages(layer, "exclude");
  if (include.length) return include.some(ruleMatchesTest);
  if (exclude.length) return !exclude.some(ruleMatchesTest);
  return true;
}

function layerType(raw: PbMessage, v1: boolean, file: string, index: number): string {
  const t = fieldValues(raw, "type").at(-1);
  if (!v1) {
    if (typeof t !== "string" || !t) {
      throw new ModelFormatError(`${file}: layer #${index} ('${str(raw, "name")}') has no type`, { file });
    }
    return t;
  }
  if (typeof t === "number" && V1_TYPES[t]) return V1_TYPES[t][1];
  if (typeof t === "string" && V1_BY_NAME[t]) return V1_BY_NAME[t];
  throw new ModelFormatError(
    `${file}: V1 layer '${str(raw, "name")}' has unknown type ${JSON.stringify(t ?? null)}; ` +
      `expected a V1LayerParameter.LayerType name such as CONVOLUTION`,
    { file },
  );
}

/** A blob's values and shape from a BlobProto message. */
export function blobFromMessage(blob: PbMessage): CaffeBlob {
  const floats = fieldValues(blob, "data").length ? numbers(blob, "data") : numbers(blob, "double_data");
  const packed = fieldValues(blob, "data").find((v) => v instanceof Float32Array);
  const data = packed && fieldValues(blob, "data").length === 1
    ? packed as Float32Array
    : Float32Array.from(floats);
  const dims = numbers(message(blob, "shape"), "dim");
  const legacy = ["num", "channels", "height", "width"].map((k) => num(blob, k, 0));
  const shape = message(blob, "shape") ? dims : legacy.some((d) => d > 0) ? legacy : [];
  return { data, shape: shape.length ? shape : [data.length] };
}

/** Normalize a parsed NetParameter (text or binary) into a {@linkcode CaffeNet}. */
export function normalizeNet(raw: PbMessage, file: string, { allPhases = false } = {}): CaffeNet {
  const v2 = messages(raw, "layer");
  const v1 = messages(raw, "layers");
  if (v2.length && v1.length) {
    throw new ModelFormatError(
      `${file}: the net mixes 'layer' and V1 'layers' entries; expected one format`,
      {
        file,
      },
    );
  }
  const isV1 = v1.length > 0;
  const layers: CaffeLayer[] = [];
  (isV1 ? v1 : v2).forEach((l, i) => {
    if (!allPhases && !inTestPhase(l)) return;
    layers.push({
      name: str(l, "name", `layer${i}`),
      type: layerType(l, isV1, file, i),
      bottoms: strings(l, "bottom"),
      tops: strings(l, "top"),
      param: l,
      blobs: messages(l, "blobs").map(blobFromMessage),
    });
  });
  const inputNames = strings(raw, "input");
  const shapes = messages(raw, "input_shape").map((s) => numbers(s, "dim"));
  const dims = numbers(raw, "input_dim");
  const inputs = inputNames.map((name, i) => ({
    name,
    shape: shapes[i] ?? (dims.length >= 4 * (i + 1) ? dims.slice(4 * i, 4 * i + 4) : undefined),
  }));
  return { name: str(raw, "name"), file, format: isV1 ? "v1" : "layer", inputs, layers };
}

/** Read a `.prototxt` net definition (TEST phase). */
export async function readPrototxt(path: string): Promise<CaffeNet> {
  return normalizeNet(parseTextFormat(await readModelTextFile(path, "the Caffe net definition"), path), path);
}

/** Read the layers and blobs of a binary `.caffemodel` (all phases; weights are matched by layer name). */
export async function readCaffemodel(path: string): Promise<CaffeNet> {
  const bytes = await readModelFile(path, "the Caffe weights");
  return normalizeNet(decodeMessage(bytes, CAFFE_SCHEMA, "NetParameter", path), path, { allPhases: true });
}

/**
 * Read the blobs of a `.caffemodel.h5` (Caffe's HDF5 snapshot: group
 * `data`, one subgroup per layer name, datasets `0`, `1`, ... in blob order).
 */
export async function readCaffemodelH5(path: string): Promise<Map<string, CaffeBlob[]>> {
  const file = await openHdf5(path);
  try {
    const root = file.get("data");
    if (!(root instanceof h5wasm.Group)) {
      throw new ModelFormatError(`${path}: expected a group 'data' (Caffe HDF5 weights), found none`, {
        file: path,
      });
    }
    const out = new Map<string, CaffeBlob[]>();
    const walk = (group: InstanceType<typeof h5wasm.Group>, prefix: string): void => {
      const keys = group.keys();
      const blobKeys = keys.filter((k) => /^\d+$/.test(k) && group.get(k) instanceof h5wasm.Dataset);
      if (blobKeys.length) {
        blobKeys.sort((a, b) => Number(a) - Number(b));
        out.set(
          prefix,
          blobKeys.map((k) => {
            const ds = group.get(k) as InstanceType<typeof h5wasm.Dataset>;
            const value = ds.value;
            const data = value instanceof Float32Array
              ? value
              : Float32Array.from(Array.from(value as ArrayLike<number>, Number));
            return { data, shape: [...(ds.shape ?? [data.length])] };
          }),
        );
      }
      for (const k of keys) {
        const child = group.get(k);
        if (child instanceof h5wasm.Group) walk(child, prefix ? `${prefix}/${k}` : k);
      }
    };
    walk(root, "");
    return out;
  } finally {
    file.close();
  }
}

/**
 * Attach learned blobs to the layers of `net` by layer name (Caffe's
 * `CopyTrainedLayersFrom`); layers absent from `weights` keep none.
 */
export function attachBlobs(net: CaffeNet, weights: Map<string, CaffeBlob[]>): void {
  for (const layer of net.layers) {
    const blobs = weights.get(layer.name);
    if (blobs && blobs.length) layer.blobs = blobs;
  }
}

/** The blobs of each layer of a weights net, by layer name. */
export function blobsByName(net: CaffeNet): Map<string, CaffeBlob[]> {
  const out = new Map<string, CaffeBlob[]>();
  for (const l of net.layers) if (l.blobs.length) out.set(l.name, l.blobs);
  return out;
}
