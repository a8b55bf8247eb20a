/**
 * NIR (Neuromorphic Intermediate Representation, neuromorphs/NIR) graphs as
 * plain records, and their HDF5 files laid out as the reference
 * implementation's `nir.write` writes them and `nir.read` reads them:
 *
 * ```text
 * /version                   NIR version, variable-length UTF-8 string
 * /node/type                 "NIRGraph"
 * /node/nodes/<name>/type    node type ("Conv2d", "IF", ...), string
 * /node/nodes/<name>/<field> one dataset per field (snake_case names)
 * /node/nodes/<name>/metadata/...  optional, only when not empty
 * /node/edges                (E, 2) strings: [source, target] per edge
 * /node/metadata/...         optional graph metadata
 * ```
 *
 * Dtypes as numpy gives them to h5py: weights and neuron parameters keep
 * their dtype (float32 here), gzip-compressed; shapes, kernel sizes and
 * pooling strides/paddings are int64 arrays (gzip); a convolution's stride,
 * padding, dilation and input shape are int64 tuples (uncompressed);
 * `groups`, `start_dim`, `end_dim` are int64 scalars. One difference h5wasm
 * imposes: variable-length strings are stored space-padded where h5py writes
 * them null-terminated (same UTF-8 character set; readers see the same text).
 *
 * Tensors are channels-first without the batch dimension, as NIR defines
 * them: an image is `[C, H, W]`, a Conv2d weight `[C_out, C_in, kH, kW]`, an
 * Affine weight `[out, in]`.
 *
 * @module
 */
import { h5wasm } from "../../deps.ts";
import { ModelFormatError } from "../errors.ts";
import { type Hdf5Dataset, type Hdf5Group, openHdf5, writeHdf5Atomic } from "./hdf5.ts";
import { type DType, type NDArray, sizeOf, type TypedArray } from "./ndarray.ts";

/** The NIR version written to `/version` (the reference release whose layout this follows). */
export const NIR_VERSION = "1.0.7";

/** A metadata value: text, a float64 (`number`) or int64 (`bigint`) scalar, an array, or a nested dictionary. */
export type NirMetadataValue = string | number | bigint | NDArray | string[] | NirMetadata;

/** Metadata of a node or graph. NIR backends must not rely on it. */
export interface NirMetadata {
  /** Entry by name. */
  [key: string]: NirMetadataValue;
}

/** Fields every node may carry. */
export interface NirNodeBase {
  /** Optional metadata (written only when not empty). */
  metadata?: NirMetadata;
}

/** A graph input: data of `shape` enters here. */
export interface NirInput extends NirNodeBase {
  /** Node type. */
  type: "Input";
  /** Shape of the input, channels first, without batch. */
  shape: number[];
}

/** A graph output. */
export interface NirOutput extends NirNodeBase {
  /** Node type. */
  type: "Output";
  /** Shape of the output. */
  shape: number[];
}

/** `y = W x + b`. */
export interface NirAffine extends NirNodeBase {
  /** Node type. */
  type: "Affine";
  /** `[out, in]`. */
  weight: NDArray;
  /** `[out]`. */
  bias: NDArray;
}

/** `y = W x`. */
export interface NirLinear extends NirNodeBase {
  /** Node type. */
  type: "Linear";
  /** `[out, in]`. */
  weight: NDArray;
}

/** Padding of a convolution: per-axis symmetric zero padding, or `same` / `valid`. */
export type NirPadding = number[] | "same" | "valid";

/** A 2-D convolution (cross-correlation, as PyTorch's `Conv2d`). */
export interface NirConv2d extends NirNodeBase {
  /** Node type. */
  type: "Conv2d";
  /** Spatial input shape `[H, W]` (NIR needs it to type the graph), or `null` when not stated. */
  inputShape: [number, number] | null;
  /** `[C_out, C_in / groups, kH, kW]`. */
  weight: NDArray;
  /** `[sH, sW]`. */
  stride: [number, number];
  /** Symmetric zero padding `[pH, pW]`, or `same` / `valid`. */
  padding: [number, number] | "same" | "valid";
  /** `[dH, dW]`. */
  dilation: [number, number];
  /** Groups. */
  groups: number;
  /** `[C_out]`. */
  bias: NDArray;
}

/** A 1-D convolution. */
export interface NirConv1d extends NirNodeBase {
  /** Node type. */
  type: "Conv1d";
  /** Input length, or `null` when not stated. */
  inputShape: number | null;
  /** `[C_out, C_in / groups, k]`. */
  weight: NDArray;
  /** Stride. */
  stride: number;
  /** Symmetric zero padding, or `same` / `valid`. */
  padding: number | "same" | "valid";
  /** Dilation. */
  dilation: number;
  /** Groups. */
  groups: number;
  /** `[C_out]`. */
  bias: NDArray;
}

/** 2-D sum or average pooling (average: sum pooling scaled by one over the window size). */
export interface NirPool2d extends NirNodeBase {
  /** Node type. */
  type: "SumPool2d" | "AvgPool2d";
  /** `[kH, kW]`. */
  kernelSize: [number, number];
  /** `[sH, sW]`. */
  stride: [number, number];
  /** Symmetric zero padding `[pH, pW]`. */
  padding: [number, number];
}

/** Flatten dimensions `startDim..endDim` (inclusive; no batch dimension) of the input. */
export interface NirFlatten extends NirNodeBase {
  /** Node type. */
  type: "Flatten";
  /** Input shape, or `null` when not stated. */
  inputType: number[] | null;
  /** First dimension flattened. */
  startDim: number;
  /** Last dimension flattened (-1: the last). */
  endDim: number;
}

/**
 * Integrate-and-fire neurons: `dv/dt = R I`; a spike (output 1) where
 * `v > v_threshold`, after which `v = v_reset`.
 */
export interface NirIF extends NirNodeBase {
  /** Node type. */
  type: "IF";
  /** Resistance `R`, one per neuron. */
  r: NDArray;
  /** Firing threshold, one per neuron. */
  vThreshold: NDArray;
  /** Potential after a spike, one per neuron. */
  vReset: NDArray;
}

/** Element-wise scaling `y = s ⊙ x`. */
export interface NirScale extends NirNodeBase {
  /** Node type. */
  type: "Scale";
  /** The factors, of the signal's shape. */
  scale: NDArray;
}

/** Heaviside step: 1 where `x > threshold`. */
export interface NirThreshold extends NirNodeBase {
  /** Node type. */
  type: "Threshold";
  /** Threshold per element. */
  threshold: NDArray;
}

/** NIR node types this module reads without interpreting them (their fields kept as stored). */
export const OTHER_NIR_TYPES = ["LIF", "LI", "CubaLIF", "CubaLI", "I", "Delay"] as const;

/** A node of a type listed in {@linkcode OTHER_NIR_TYPES}: kept with its fields as stored. */
export interface NirOtherNode extends NirNodeBase {
  /** Node type. */
  type: (typeof OTHER_NIR_TYPES)[number];
  /** Fields by their file name. */
  fields: Record<string, NirMetadataValue>;
}

/** A NIR graph: named nodes and directed edges; a node's inputs are summed. */
export interface NirGraph extends NirNodeBase {
  /** Node type. */
  type: "NIRGraph";
  /** Nodes by name. */
  nodes: Record<string, NirNode>;
  /** Edges `[source, target]`. */
  edges: [string, string][];
}

/** Any NIR node. */
export type NirNode =
  | NirInput
  | NirOutput
  | NirAffine
  | NirLinear
  | NirConv2d
  | NirConv1d
  | NirPool2d
  | NirFlatten
  | NirIF
  | NirScale
  | NirThreshold
  | NirOtherNode
  | NirGraph;

// ---------------------------------------------------------------------------
// Writing

/** How one field is stored; mirrors the Python type the reference gives h5py. */
type Stored =
  | { kind: "string"; value: string } // str → variable-length UTF-8 string
  | { kind: "int"; value: number | bigint } // int → int64 scalar
  | { kind: "float"; value: number } // float → float64 scalar
  | { kind: "tuple"; value: number[] } // tuple of ints → int64 array, uncompressed
  | { kind: "array"; value: NDArray } // numpy array → its dtype, gzip
  | { kind: "strings"; value: string[]; shape: number[] } // array of str
  | { kind: "group"; value: Record<string, Stored> };

const intArray = (v: readonly number[]): NDArray => ({
  data: BigInt64Array.from(v, (x) => BigInt(x)),
  shape: [v.length],
  dtype: "int64",
});

function paddingStored(p: number[] | number | string): Stored {
  if (typeof p === "string") return { kind: "string", value: p };
  if (typeof p === "number") return { kind: "int", value: p };
  return { kind: "tuple", value: p };
}

function metadataStored(m: NirMetadata): Stored {
  const out: Record<string, Stored> = {};
  for (const [k, v] of Object.entries(m)) out[k] = metadataValueStored(v);
  return { kind: "group", value: out };
}

function metadataValueStored(v: NirMetadataValue): Stored {
  if (typeof v === "string") return { kind: "string", value: v };
  if (typeof v === "number") return { kind: "float", value: v };
  if (typeof v === "bigint") return { kind: "int", value: v };
  if (Array.isArray(v)) return { kind: "strings", value: v, shape: [v.length] };
  if (isNDArray(v)) return { kind: "array", value: v };
  return metadataStored(v);
}

function isNDArray(v: unknown): v is NDArray {
  return typeof v === "object" && v !== null && "data" in v && "shape" in v && "dtype" in v &&
    ArrayBuffer.isView((v as NDArray).data);
}

/** The datasets of one node (without `type` and `metadata`), named as the reference names them. */
function nodeFields(node: NirNode): Record<string, Stored> {
  const arr = (value: NDArray): Stored => ({ kind: "array", value });
  switch (node.type) {
    case "Input":
    case "Output":
      return { shape: arr(intArray(node.shape)) };
    case "Affine":
      return { weight: arr(node.weight), bias: arr(node.bias) };
    case "Linear":
      return { weight: arr(node.weight) };
    case "Conv2d":
    case "Conv1d": {
      const f: Record<string, Stored> = {
        weight: arr(node.weight),
        stride: node.type === "Conv2d"
          ? { kind: "tuple", value: node.stride }
          : { kind: "int", value: node.stride },
        padding: paddingStored(node.padding),
        dilation: node.type === "Conv2d"
          ? { kind: "tuple", value: node.dilation }
          : { kind: "int", value: node.dilation },
        groups: { kind: "int", value: node.groups },
        bias: arr(node.bias),
      };
      if (node.inputShape !== null) {
        f.input_shape = typeof node.inputShape === "number"
          ? { kind: "int", value: node.inputShape }
          : { kind: "tuple", value: node.inputShape };
      }
      return f;
    }
    case "SumPool2d":
    case "AvgPool2d":
      return {
        kernel_size: arr(intArray(node.kernelSize)),
        stride: arr(intArray(node.stride)),
        padding: arr(intArray(node.padding)),
      };
    case "Flatten": {
      const f: Record<string, Stored> = {
        start_dim: { kind: "int", value: node.startDim },
        end_dim: { kind: "int", value: node.endDim },
      };
      if (node.inputType !== null) f.input_type = arr(intArray(node.inputType));
      return f;
    }
    case "IF":
      return { r: arr(node.r), v_threshold: arr(node.vThreshold), v_reset: arr(node.vReset) };
    case "Scale":
      return { scale: arr(node.scale) };
    case "Threshold":
      return { threshold: arr(node.threshold) };
    case "NIRGraph":
      return {
        nodes: {
          kind: "group",
          value: Object.fromEntries(Object.entries(node.nodes).map(([k, n]) => [k, nodeStored(n)])),
        },
        edges: { kind: "strings", value: node.edges.flat(), shape: [node.edges.length, 2] },
      };
    default:
      return (metadataStored(node.fields) as { value: Record<string, Stored> }).value;
  }
}

function nodeStored(node: NirNode): Stored {
  const fields: Record<string, Stored> = { type: { kind: "string", value: node.type }, ...nodeFields(node) };
  if (node.metadata && Object.keys(node.metadata).length > 0) fields.metadata = metadataStored(node.metadata);
  return { kind: "group", value: fields };
}

/** Chunk shape for gzip: the whole array when it is at most 1 MiB, else halved along the outer axes. */
function chunkShape(shape: number[], itemSize: number): number[] {
  const chunk = [...shape];
  for (let axis = 0; sizeOf(chunk) * itemSize > 1 << 20 && axis < chunk.length;) {
    if (chunk[axis] > 1) chunk[axis] = Math.ceil(chunk[axis] / 2);
    else axis++;
  }
  return chunk;
}

const ITEM_SIZE: Record<DType, number> = {
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

type H5Module = Awaited<typeof h5wasm.ready>;
let h5Module: H5Module | undefined;

/**
 * Variable-length UTF-8 strings. h5wasm's `create_dataset` writes them
 * space-padded; this goes through the same module call (null termination
 * is not settable there).
 */
function writeStrings(group: Hdf5Group, name: string, value: string[], shape: number[]): void {
  const big = shape.map(BigInt);
  const module = h5Module!;
  module.create_vlen_str_dataset(
    group.file_id,
    `${group.path === "/" ? "" : group.path}/${name}`,
    value,
    {
      type: module.H5T_class_t.H5T_STRING.value,
      size: 4,
      vlen: true,
      cset: 1,
      signed: false,
      littleEndian: true,
      shape: big,
      maxshape: big,
      chunks: null,
      compression: 0,
      compression_opts: [],
      track_order: false,
      total_size: value.length,
    } as unknown as Parameters<H5Module["create_vlen_str_dataset"]>[3],
  );
}

function writeStored(group: Hdf5Group, name: string, s: Stored): void {
  switch (s.kind) {
    case "group": {
      const g = group.create_group(name);
      for (const [k, v] of Object.entries(s.value)) writeStored(g, k, v);
      return;
    }
    case "string":
      return writeStrings(group, name, [s.value], []);
    case "strings":
      return writeStrings(group, name, s.value, s.shape);
    case "int":
      group.create_dataset({ name, data: BigInt64Array.of(BigInt(s.value)), shape: [] });
      return;
    case "float":
      group.create_dataset({ name, data: Float64Array.of(s.value), shape: [] });
      return;
    case "tuple":
      group.create_dataset({ name, data: intArray(s.value).data, shape: [s.value.length] });
      return;
    case "array": {
      const a = s.value;
      const data = a.dtype === "bool" ? Uint8Array.from(a.data as Uint8Array) : a.data;
      if (a.shape.length === 0 || sizeOf(a.shape) === 0) {
        group.create_dataset({ name, data, shape: a.shape });
      } else {
        group.create_dataset({
          name,
          data,
          shape: a.shape,
          chunks: chunkShape(a.shape, ITEM_SIZE[a.dtype]),
          compression: "gzip",
        });
      }
      return;
    }
  }
}

/** Check node names and edges before writing: names must be valid HDF5 link names; edges must name nodes. */
function checkGraph(graph: NirGraph, path: string, where = "graph"): void {
  for (const [name, node] of Object.entries(graph.nodes)) {
    if (name === "" || name.includes("/") || name === "." || name === "..") {
      throw new ModelFormatError(
        `${path}: NIR node name '${name}' in the ${where} cannot be stored in HDF5`,
        {
          file: path,
        },
      );
    }
    if (node.type === "NIRGraph") checkGraph(node, path, `subgraph '${name}'`);
  }
  for (const [a, b] of graph.edges) {
    for (const end of [a, b]) {
      if (!(end in graph.nodes)) {
        throw new ModelFormatError(`${path}: edge ${a} → ${b} of the ${where} names no node '${end}'`, {
          file: path,
        });
      }
    }
  }
}

/** Write `graph` to `path` (atomically) in the NIR HDF5 layout. */
export async function writeNir(path: string, graph: NirGraph): Promise<void> {
  checkGraph(graph, path);
  h5Module ??= await h5wasm.ready;
  await writeHdf5Atomic(path, (file) => {
    writeStored(file, "version", { kind: "string", value: NIR_VERSION });
    writeStored(file, "node", nodeStored(graph));
  });
}

// ---------------------------------------------------------------------------
// Reading

/** A field as read: text, strings, a scalar, or an array. */
type Read = string | string[] | number | bigint | NDArray | ReadGroup;
interface ReadGroup {
  [key: string]: Read;
}

const DTYPES: Record<string, DType> = {
  "<f": "float32",
  "<d": "float64",
  "<b": "int8",
  "<h": "int16",
  "<i": "int32",
  "<q": "int64",
  "<B": "uint8",
  "<H": "uint16",
  "<I": "uint32",
  "<Q": "uint64",
};

function readValue(ds: Hdf5Dataset, file: string): Read {
  const meta = ds.metadata;
  const shape = ds.shape ?? [];
  const value = ds.value as unknown;
  if (meta.type === 3) {
    const text = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));
    if (shape.length === 0) return text(Array.isArray(value) ? value[0] : value);
    return (Array.isArray(value) ? value : [value]).map(text);
  }
  if (meta.type === 8 && meta.size === 1) { // numpy bool (h5py enum)
    const data = Uint8Array.from(value as ArrayLike<number>);
    return shape.length === 0 ? data[0] : { data, shape: [...shape], dtype: "bool" };
  }
  if (meta.type !== 0 && meta.type !== 1) {
    throw new ModelFormatError(`${file}: NIR dataset '${ds.path}' has an HDF5 type NIR does not use`, {
      file,
    });
  }
  const dtype = DTYPES[`<${String(ds.dtype).replace(/^[<>|]/, "")}`] ??
    (meta.type === 1
      ? (meta.size === 8 ? "float64" : "float32")
      : (`${meta.signed ? "int" : "uint"}${meta.size * 8}` as DType));
  if (shape.length === 0) {
    if (typeof value === "bigint" || typeof value === "number") return value;
    if (ArrayBuffer.isView(value)) return (value as unknown as ArrayLike<number | bigint>)[0];
    return Number(value);
  }
  return { data: value as TypedArray, shape: [...shape], dtype };
}

function readGroup(group: Hdf5Group, file: string): ReadGroup {
  const out: ReadGroup = {};
  for (const key of group.keys()) {
    const child = group.get(key);
    if (child instanceof h5wasm.Group) out[key] = readGroup(child, file);
    else if (child instanceof h5wasm.Dataset) out[key] = readValue(child, file);
  }
  return out;
}

/** Reads typed fields of one node, with errors naming file, node and field. */
class Fields {
  constructor(readonly raw: ReadGroup, readonly file: string, readonly node: string, readonly type: string) {}

  fail(what: string): never {
    throw new ModelFormatError(`${this.file}: NIR node '${this.node}' (${this.type}): ${what}`, {
      file: this.file,
    });
  }

  has(key: string): boolean {
    return key in this.raw;
  }

  get(key: string): Read {
    if (!(key in this.raw)) this.fail(`field '${key}' is missing`);
    return this.raw[key];
  }

  array(key: string): NDArray {
    const v = this.get(key);
    if (typeof v === "number") return { data: Float64Array.of(v), shape: [], dtype: "float64" };
    if (!isNDArray(v)) this.fail(`field '${key}' is not a numeric array`);
    return v;
  }

  /** Integers from a scalar or an array; a scalar is repeated `n` times when `n` is given. */
  ints(key: string, n?: number): number[] {
    const v = this.get(key);
    let out: number[];
    if (typeof v === "number" || typeof v === "bigint") out = new Array(n ?? 1).fill(Number(v));
    else if (isNDArray(v)) out = Array.from(v.data as ArrayLike<number | bigint>, Number);
    else this.fail(`field '${key}' is not an integer or integer array`);
    if (out.some((x) => !Number.isInteger(x)) || (n !== undefined && out.length !== n)) {
      this.fail(`field '${key}' must hold ${n ?? "some"} integers, found [${out.join(", ")}]`);
    }
    return out;
  }

  int(key: string): number {
    const v = this.ints(key);
    if (v.length !== 1) this.fail(`field '${key}' must be one integer, found [${v.join(", ")}]`);
    return v[0];
  }

  padding(key: string, n: number): number[] | "same" | "valid" {
    const v = this.get(key);
    if (typeof v === "string") {
      if (v !== "same" && v !== "valid") this.fail(`padding '${v}' is neither 'same', 'valid' nor integers`);
      return v;
    }
    return this.ints(key, n);
  }

  metadata(): NirMetadata | undefined {
    const m = this.raw.metadata;
    if (m === undefined) return undefined;
    if (typeof m !== "object" || isNDArray(m) || Array.isArray(m)) this.fail("'metadata' is not a group");
    return m as NirMetadata;
  }
}

function pair(v: number[]): [number, number] {
  return [v[0], v[1]];
}

function typeOf(raw: ReadGroup, file: string, name: string): string {
  const t = raw.type;
  if (typeof t !== "string") {
    throw new ModelFormatError(`${file}: NIR node '${name}' has no 'type' string`, { file });
  }
  return t;
}

function parseNode(raw: ReadGroup, file: string, name: string): NirNode {
  const type = typeOf(raw, file, name);
  const f: Fields = new Fields(raw, file, name, type);
  const metadata = f.metadata();
  const base = metadata ? { metadata } : {};
  switch (type) {
    case "Input":
    case "Output":
      return { type, shape: f.ints("shape"), ...base };
    case "Affine": {
      const weight = f.array("weight"), bias = f.array("bias");
      if (weight.shape.length !== 2) f.fail(`weight must be [out, in], found [${weight.shape.join(", ")}]`);
      if (sizeOf(bias.shape) !== weight.shape[0]) f.fail(`bias must have ${weight.shape[0]} elements`);
      return { type, weight, bias, ...base };
    }
    case "Linear": {
      const weight = f.array("weight");
      if (weight.shape.length !== 2) f.fail(`weight must be [out, in], found [${weight.shape.join(", ")}]`);
      return { type, weight, ...base };
    }
    case "Conv2d":
    case "Conv1d": {
      const rank = type === "Conv2d" ? 2 : 1;
      const weight = f.array("weight"), bias = f.array("bias");
      if (weight.shape.length !== rank + 2) {
        f.fail(`weight must have ${rank + 2} dimensions, found [${weight.shape.join(", ")}]`);
      }
      if (sizeOf(bias.shape) !== weight.shape[0]) f.fail(`bias must have ${weight.shape[0]} elements`);
      const groups = f.int("groups");
      if (!(groups >= 1)) f.fail(`groups must be at least 1, found ${groups}`);
      const inputShape = f.has("input_shape") ? f.ints("input_shape", rank) : null;
      const padding = f.padding("padding", rank);
      const stride = f.ints("stride", rank), dilation = f.ints("dilation", rank);
      if ([...stride, ...dilation].some((v) => v < 1)) f.fail("stride and dilation must be at least 1");
      if (type === "Conv2d") {
        return {
          type,
          inputShape: inputShape ? pair(inputShape) : null,
          weight,
          stride: pair(stride),
          padding: typeof padding === "string" ? padding : pair(padding),
          dilation: pair(dilation),
          groups,
          bias,
          ...base,
        };
      }
      return {
        type,
        inputShape: inputShape ? inputShape[0] : null,
        weight,
        stride: stride[0],
        padding: typeof padding === "string" ? padding : padding[0],
        dilation: dilation[0],
        groups,
        bias,
        ...base,
      };
    }
    case "SumPool2d":
    case "AvgPool2d":
      return {
        type,
        kernelSize: pair(f.ints("kernel_size", 2)),
        stride: pair(f.ints("stride", 2)),
        padding: pair(f.ints("padding", 2)),
        ...base,
      };
    case "Flatten":
      return {
        type,
        inputType: f.has("input_type") ? f.ints("input_type") : null,
        startDim: f.has("start_dim") ? f.int("start_dim") : 1,
        endDim: f.has("end_dim") ? f.int("end_dim") : -1,
        ...base,
      };
    case "IF": {
      const r = f.array("r"), vThreshold = f.array("v_threshold");
      const vReset = f.has("v_reset") ? f.array("v_reset") : {
        data: new Float32Array(sizeOf(vThreshold.shape)),
        shape: [...vThreshold.shape],
        dtype: "float32" as const,
      };
      const same = (a: NDArray) => a.shape.join() === r.shape.join();
      if (!same(vThreshold) || !same(vReset)) f.fail("r, v_threshold and v_reset must have the same shape");
      return { type, r, vThreshold, vReset, ...base };
    }
    case "Scale":
      return { type, scale: f.array("scale"), ...base };
    case "Threshold":
      return { type, threshold: f.array("threshold"), ...base };
    case "NIRGraph":
      return parseGraph(raw, file, name);
  }
  if ((OTHER_NIR_TYPES as readonly string[]).includes(type)) {
    const fields: Record<string, NirMetadataValue> = {};
    for (const [k, v] of Object.entries(raw)) if (k !== "type" && k !== "metadata") fields[k] = v;
    return { type: type as NirOtherNode["type"], fields, ...base };
  }
  throw new ModelFormatError(`${file}: NIR node '${name}' has unknown type '${type}'`, { file });
}

function parseGraph(raw: ReadGroup, file: string, name: string): NirGraph {
  const f: Fields = new Fields(raw, file, name, "NIRGraph");
  const nodesRaw = f.get("nodes");
  if (typeof nodesRaw !== "object" || isNDArray(nodesRaw) || Array.isArray(nodesRaw)) {
    f.fail("'nodes' is not a group");
  }
  const nodes: Record<string, NirNode> = {};
  for (const [k, v] of Object.entries(nodesRaw as ReadGroup)) {
    if (typeof v !== "object" || isNDArray(v) || Array.isArray(v)) f.fail(`node '${k}' is not a group`);
    nodes[k] = parseNode(v as ReadGroup, file, k);
  }
  const edgesRaw = f.has("edges") ? f.get("edges") : [];
  let flat: string[];
  if (Array.isArray(edgesRaw)) flat = edgesRaw;
  else if (isNDArray(edgesRaw) && sizeOf(edgesRaw.shape) === 0) flat = []; // h5py writes [] as a float array
  else f.fail("'edges' must be an (E, 2) array of node names");
  if (flat.length % 2 !== 0) f.fail("'edges' must be an (E, 2) array of node names");
  const edges: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    for (const end of [flat[i], flat[i + 1]]) {
      if (!(end in nodes)) f.fail(`edge ${flat[i]} → ${flat[i + 1]} names no node '${end}'`);
    }
    edges.push([flat[i], flat[i + 1]]);
  }
  const metadata = f.metadata();
  return { type: "NIRGraph", nodes, edges, ...(metadata ? { metadata } : {}) };
}

/** A NIR file's graph and version. */
export interface NirFile {
  /** The graph (`/node`). */
  graph: NirGraph;
  /** `/version`, or `null` when the file has none. */
  version: string | null;
}

/**
 * Read a NIR file. Every problem (not HDF5, no `/node` graph, a node
 * lacking a field, an edge naming no node, an unknown node type) is a
 * {@linkcode ModelFormatError} naming the file and the node.
 */
export async function readNir(path: string): Promise<NirFile> {
  const file = await openHdf5(path);
  try {
    let raw: ReadGroup;
    try {
      raw = readGroup(file, path);
    } catch (err) {
      if (err instanceof ModelFormatError) throw err;
      throw new ModelFormatError(
        `${path}: cannot read NIR file: ${err instanceof Error ? err.message : err}`,
        {
          file: path,
          cause: err,
        },
      );
    }
    const node = raw.node;
    if (typeof node !== "object" || isNDArray(node) || Array.isArray(node)) {
      throw new ModelFormatError(`${path}: not a NIR file (no '/node' group)`, { file: path });
    }
    const type = typeOf(node as ReadGroup, path, "/node");
    if (type !== "NIRGraph") {
      throw new ModelFormatError(`${path}: the root node is a ${type}; expected a NIRGraph`, { file: path });
    }
    const version = typeof raw.version === "string" ? raw.version : null;
    return { graph: parseGraph(node as ReadGroup, path, "/node"), version };
  } finally {
    file.close();
  }
}
