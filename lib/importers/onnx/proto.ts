/**
 * Reading `.onnx` files: protobuf decoding (the `onnx-proto` schema) into
 * plain, typed structures — nodes with decoded attributes, initializers as
 * typed arrays (from `raw_data`, the typed fields, or external data files
 * beside the model), graph inputs and outputs with their static shapes.
 *
 * @module
 */
import { onnxProtoModule } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import { sizeOf } from "../../io/ndarray.ts";
import { dirName } from "../../io/paths.ts";
import { MAX_ONNX_NESTING, onnxNestingDepth } from "./nesting.ts";

/** A decoded tensor: float tensors as `Float32Array`, every other numeric type as `Float64Array`. */
export interface OnnxTensor {
  /** Tensor name (initializer name). */
  name: string;
  /** ONNX `TensorProto.DataType` code (1 float, 6 int32, 7 int64, 11 double, ...). */
  dataType: number;
  /** Dimensions, outermost first. */
  dims: number[];
  /** Elements in C order. */
  data: Float32Array | Float64Array;
}

/** A decoded node attribute value. */
export type OnnxAttribute = number | number[] | string | string[] | OnnxTensor | OnnxTensor[] | null;

/** One node of an ONNX graph. */
export interface OnnxNode {
  /** Node name (`node_<index>_<op>` when the file has none). */
  name: string;
  /** Operator type, e.g. `Conv`. */
  opType: string;
  /** Operator domain (`""` is the default ONNX domain). */
  domain: string;
  /** Input value names (`""` marks an omitted optional input). */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Attributes by name. */
  attributes: Map<string, OnnxAttribute>;
}

/** A graph input or output: name, element type and static shape (`null` for symbolic dims). */
export interface OnnxValueInfo {
  /** Value name. */
  name: string;
  /** Element type code (`TensorProto.DataType`), 0 when unknown. */
  elemType: number;
  /** Dimensions (`null` for a symbolic or unknown dim); `undefined` when the file states no shape. */
  shape?: (number | null)[];
}

/** A decoded ONNX model. */
export interface OnnxModel {
  /** The file it was read from. */
  path: string;
  /** IR version of the file. */
  irVersion: number;
  /** Producer name and version, e.g. `pytorch 1.13.0`. */
  producer: string;
  /** Opset version of the default domain (1 when the file declares none: IR version 1 files). */
  opset: number;
  /** Nodes in file (topological) order. */
  nodes: OnnxNode[];
  /** Initializers by name. */
  initializers: Map<string, OnnxTensor>;
  /** Graph inputs that are not initializers. */
  inputs: OnnxValueInfo[];
  /** Graph outputs. */
  outputs: OnnxValueInfo[];
}

const onnxProto = onnxProtoModule.onnx;
type ITensorProto = NonNullable<Parameters<typeof onnxProto.TensorProto.create>[0]>;
type IAttributeProto = NonNullable<Parameters<typeof onnxProto.AttributeProto.create>[0]>;
type IValueInfoProto = NonNullable<Parameters<typeof onnxProto.ValueInfoProto.create>[0]>;
type ModelProto = ReturnType<typeof onnxProto.ModelProto.decode>;

/** Bytes per element of the numeric ONNX data types this reader decodes. */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, // float
  2: 1, // uint8
  3: 1, // int8
  4: 2, // uint16
  5: 2, // int16
  6: 4, // int32
  7: 8, // int64
  9: 1, // bool
  11: 8, // double
  12: 4, // uint32
  13: 8, // uint64
};

const TYPE_NAMES: Record<number, string> = {
  0: "undefined",
  8: "string",
  10: "float16",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
};

/** Number of a protobufjs int64 (`number` or `Long`). */
function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v && typeof v === "object" && "toNumber" in v && typeof v.toNumber === "function") {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

function isSet(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decode `rawData` (little-endian) into the typed array of `dataType`. */
function decodeRaw(raw: Uint8Array, dataType: number, count: number): Float32Array | Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dataType === 1) {
    if (LITTLE_ENDIAN) return new Float32Array(raw.slice(0, count * 4).buffer); // one aligned copy
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const out = new Float64Array(count);
  switch (dataType) {
    case 2:
    case 9:
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    case 3:
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 4:
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case 5:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 6:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 7:
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 11:
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 12:
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
      break;
    case 13:
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(i * 8, true));
      break;
  }
  return out;
}

/** Where external data of a tensor lives. */
interface ExternalRef {
  location: string;
  offset: number;
  length?: number;
}

function externalRef(entries: { key?: string | null; value?: string | null }[]): ExternalRef | undefined {
  const kv = new Map(entries.map((e) => [e.key ?? "", e.value ?? ""]));
  const location = kv.get("location");
  if (location === undefined) return undefined;
  const offset = kv.has("offset") ? Number(kv.get("offset")) : 0;
  const length = kv.has("length") ? Number(kv.get("length")) : undefined;
  return { location, offset, length };
}

/** Resolve `location` inside `dir`; refuse absolute paths and `..` escapes. */
function resolveInside(dir: string, location: string, modelPath: string, tensor: string): string {
  const parts = location.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  if (location.startsWith("/") || /^[A-Za-z]:/.test(location) || parts.includes("..") || parts.length === 0) {
    throw new ModelFormatError(
      `${modelPath}: initializer '${tensor}' points to external data '${location}' outside the model's folder; ` +
        `expected a relative path inside ${dir}`,
      { file: modelPath },
    );
  }
  return `${dir}/${parts.join("/")}`;
}

function readExternal(
  ref: ExternalRef,
  byteCount: number,
  modelPath: string,
  tensor: string,
): Uint8Array {
  const file = resolveInside(dirName(modelPath), ref.location, modelPath, tensor);
  let size: number;
  try {
    size = Deno.statSync(file).size;
  } catch (err) {
    throw new ModelFormatError(
      `${modelPath}: external data file '${ref.location}' of initializer '${tensor}' cannot be read (${file})`,
      { file: modelPath, cause: err },
    );
  }
  if (ref.length !== undefined && ref.length !== byteCount) {
    throw new ModelFormatError(
      `${modelPath}: initializer '${tensor}' declares ${ref.length} bytes of external data, its shape needs ${byteCount}`,
      { file: modelPath },
    );
  }
  if (!(ref.offset >= 0) || ref.offset + byteCount > size) {
    throw new ModelFormatError(
      `${modelPath}: initializer '${tensor}' needs bytes ${ref.offset}..${
        ref.offset + byteCount
      } of '${ref.location}', which has ${size}`,
      { file: modelPath },
    );
  }
  const fh = Deno.openSync(file, { read: true });
  try {
    fh.seekSync(ref.offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(byteCount);
    let got = 0;
    while (got < byteCount) {
      const n = fh.readSync(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    if (got !== byteCount) {
      throw new ModelFormatError(`${modelPath}: external data '${ref.location}' ended early`, {
        file: modelPath,
      });
    }
    return buf;
  } finally {
    fh.close();
  }
}

/** Decode one `TensorProto` (initializer or attribute value) into an {@linkcode OnnxTensor}. */
function decodeTensor(t: ITensorProto, modelPath: string, fallbackName = ""): OnnxTensor {
  const name = t.name || fallbackName;
  const dataType = t.dataType ?? 0;
  const dims = (t.dims ?? []).map(num);
  const count = sizeOf(dims);
  const elemBytes = ELEMENT_BYTES[dataType];
  if (elemBytes === undefined) {
    throw new ModelFormatError(
      `${modelPath}: tensor '${name}' has data type ${TYPE_NAMES[dataType] ?? dataType}; ` +
        `expected a float, double, integer or bool tensor`,
      { file: modelPath },
    );
  }
  if (!Number.isSafeInteger(count) || count < 0 || dims.some((d) => d < 0)) {
    throw new ModelFormatError(`${modelPath}: tensor '${name}' has invalid dims [${dims.join(", ")}]`, {
      file: modelPath,
    });
  }
  const ext = t.dataLocation === 1 ? externalRef(t.externalData ?? []) : undefined;
  if (t.dataLocation === 1 && ext === undefined) {
    throw new ModelFormatError(`${modelPath}: tensor '${name}' is external but names no location`, {
      file: modelPath,
    });
  }
  const raw = ext ? readExternal(ext, count * elemBytes, modelPath, name) : t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * elemBytes) {
      throw new ModelFormatError(
        `${modelPath}: tensor '${name}' has ${raw.length} bytes of raw data; dims [${dims.join(", ")}] need ${
          count * elemBytes
        }`,
        { file: modelPath },
      );
    }
    return { name, dataType, dims, data: decodeRaw(raw, dataType, count) };
  }
  const typed: ArrayLike<unknown> = dataType === 1
    ? t.floatData ?? []
    : dataType === 11
    ? t.doubleData ?? []
    : dataType === 7
    ? t.int64Data ?? []
    : dataType === 12 || dataType === 13
    ? t.uint64Data ?? []
    : t.int32Data ?? [];
  if (typed.length !== count) {
    throw new ModelFormatError(
      `${modelPath}: tensor '${name}' holds ${typed.length} values; dims [${dims.join(", ")}] need ${count}`,
      { file: modelPath },
    );
  }
  const data = dataType === 1 ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = num(typed[i]);
  return { name, dataType, dims, data };
}

const textDecoder = new TextDecoder();

function decodeAttribute(a: IAttributeProto, modelPath: string): OnnxAttribute {
  // IR version 1 files may leave `type` unset: infer it from the field present.
  let type = a.type ?? 0;
  if (type === 0) {
    if (isSet(a, "f")) type = 1;
    else if (isSet(a, "i")) type = 2;
    else if (isSet(a, "s")) type = 3;
    else if (isSet(a, "t")) type = 4;
    else if (a.floats?.length) type = 6;
    else if (a.ints?.length) type = 7;
    else if (a.strings?.length) type = 8;
    else if (a.tensors?.length) type = 9;
  }
  switch (type) {
    case 1:
      return a.f ?? 0;
    case 2:
      return num(a.i ?? 0);
    case 3:
      return textDecoder.decode(a.s ?? new Uint8Array());
    case 4:
      return a.t ? decodeTensor(a.t, modelPath, a.name ?? "") : null;
    case 6:
      return [...(a.floats ?? [])];
    case 7:
      return (a.ints ?? []).map(num);
    case 8:
      return (a.strings ?? []).map((s) => textDecoder.decode(s));
    case 9:
      return (a.tensors ?? []).map((t) => decodeTensor(t, modelPath));
    default:
      return null; // graphs, sparse tensors, type protos: not used by the supported operators
  }
}

function decodeValueInfo(v: IValueInfoProto): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? "",
    elemType: tt?.elemType ?? 0,
    shape: dims
      ? dims.map((
        d,
      ) => (d.dimValue !== undefined && d.dimValue !== null && isSet(d, "dimValue") ? num(d.dimValue) : null))
      : undefined,
  };
}

/**
 * Decode ONNX model bytes. `path` names the file in error messages and is
 * where external data files are looked up (relative to its folder).
 * Throws {@linkcode ModelFormatError} for anything that is not a readable ONNX model.
 */
export function decodeOnnxModel(bytes: Uint8Array, path: string): OnnxModel {
  // protobufjs decodes nested messages recursively: refuse deep nesting before it overflows the stack.
  if (onnxNestingDepth(bytes) > MAX_ONNX_NESTING) {
    throw new ModelFormatError(
      `${path}: not a readable ONNX model (messages nested too deeply: more than ${MAX_ONNX_NESTING} ` +
        `levels, e.g. subgraphs within subgraphs; refusing)`,
      { file: path },
    );
  }
  let proto: ModelProto;
  try {
    proto = onnxProto.ModelProto.decode(bytes);
  } catch (err) {
    // A stack overflow can still come from fields the depth check does not follow (groups in tensors).
    const why = err instanceof RangeError && /call stack/i.test(err.message)
      ? "messages nested too deeply; refusing"
      : `protobuf decoding failed: ${err instanceof Error ? err.message : err}`;
    throw new ModelFormatError(`${path}: not a readable ONNX model (${why})`, { file: path, cause: err });
  }
  const g = proto.graph;
  if (!g || (g.node ?? []).length === 0) {
    throw new ModelFormatError(`${path}: not an ONNX model: no graph with nodes found`, { file: path });
  }
  const opsets = proto.opsetImport ?? [];
  const main = opsets.find((o) => !o.domain || o.domain === "ai.onnx");
  const opset = main ? num(main.version) : 1;
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer ?? []) {
    const tensor = decodeTensor(t, path);
    initializers.set(tensor.name, tensor);
  }
  const nodes: OnnxNode[] = (g.node ?? []).map((n, i) => {
    const attributes = new Map<string, OnnxAttribute>();
    for (const a of n.attribute ?? []) attributes.set(a.name ?? "", decodeAttribute(a, path));
    return {
      name: n.name || `node_${i}_${n.opType ?? ""}`,
      opType: n.opType ?? "",
      domain: n.domain ?? "",
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes,
    };
  });
  return {
    path,
    irVersion: num(proto.irVersion ?? 0),
    producer: `${proto.producerName ?? ""} ${proto.producerVersion ?? ""}`.trim(),
    opset,
    nodes,
    initializers,
    inputs: (g.input ?? []).map(decodeValueInfo).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(decodeValueInfo),
  };
}

/** Read and decode the `.onnx` file at `path` (see {@linkcode decodeOnnxModel}). */
export async function readOnnxModel(path: string): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new ModelFormatError(
      `${path}: cannot read the ONNX model file (${err instanceof Error ? err.message : err})`,
      {
        file: path,
        cause: err,
      },
    );
  }
  return decodeOnnxModel(bytes, path);
}
