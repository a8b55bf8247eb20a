/**
 * Writing NIR files: a {@linkcode NirGraph} to HDF5 in the layout of the
 * reference implementation's `nir.write` (see `./nir.ts` for the layout and
 * the dtypes each field gets).
 *
 * @module
 */
import { h5wasm } from "../../deps.ts";
import { ModelFormatError } from "../errors.ts";
import { type Hdf5Group, writeHdf5Atomic } from "./hdf5.ts";
import { type DType, isNDArray, type NDArray, sizeOf } from "./ndarray.ts";
import { NIR_VERSION, type NirGraph, type NirMetadata, type NirMetadataValue, type NirNode } from "./nir.ts";

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
