/**
 * Reading NIR files: HDF5 in the layout of the reference implementation's
 * `nir.write` (see `./nir.ts`) into a {@linkcode NirGraph}, every field
 * checked, every problem one error naming the file and the node.
 *
 * @module
 */
import { h5wasm } from "../../deps.ts";
import { ModelFormatError } from "../errors.ts";
import { type Hdf5Dataset, type Hdf5Group, openHdf5 } from "./hdf5.ts";
import { type DType, isNDArray, type NDArray, sizeOf, type TypedArray } from "./ndarray.ts";
import { summarizeError } from "./unexpected_errors.ts";
import {
  type NirGraph,
  type NirMetadata,
  type NirMetadataValue,
  type NirNode,
  type NirOtherNode,
  OTHER_NIR_TYPES,
} from "./nir.ts";

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
        `${path}: cannot read NIR file: ${summarizeError(err)}`,
        { file: path, cause: err },
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
