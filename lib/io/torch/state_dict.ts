/**
 * PyTorch `state_dict` files (`NAME.pth`, `.pt`, `.pkl`) as `torch.save`
 * writes them, read without Python:
 *
 * - the zip archive (default since PyTorch 1.6): `<name>/data.pkl` plus one
 *   member `<name>/data/<key>` per storage, and `<name>/byteorder` in newer
 *   files;
 * - the legacy format (`_use_new_zipfile_serialization=False`): five
 *   pickles — magic number, protocol version, system info (byte order), the
 *   object, the storage keys — then each storage as an 8-byte element count
 *   and its raw bytes.
 *
 * The pickle is read through the safe pickle machine with an allow-list of
 * exactly what a state dict holds: `collections.OrderedDict`,
 * `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter` and
 * the storage classes; persistent ids name storages. Any other global (a
 * pickled module class, `os.system`) is refused by name. Every storage and
 * tensor is checked against the bytes present and the memory ceiling
 * (`lib/io/limits.ts`) before it is decoded.
 *
 * @module
 */
import { fflate } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import { checkAllocation, exceedsCeiling } from "../limits.ts";
import type { NDArray } from "../ndarray.ts";
import { readModelFile } from "../paths.ts";
import {
  isPickleDict,
  isPickleGlobal,
  isPickleObject,
  isPickleTuple,
  type PickleCallable,
  type PickleFail,
  type PickleObject,
  type PickleProfile,
  type PickleValue,
  runPickle,
} from "../pickle/vm.ts";
import { decodeView, lastIndex, STORAGE_TYPES, type StorageType, type TensorView } from "./storage.ts";

/** A storage a persistent id names. */
interface StorageRef extends PickleObject {
  readonly type: "torch-storage";
  /** Storage key (`0`, `1`, ... in zip files; an address in legacy files). */
  readonly key: string;
  /** Its class. */
  readonly storage: StorageType;
  /** Declared element count. */
  readonly numel: number;
}

/** A tensor waiting for its storage's bytes. */
interface PendingTensor extends PickleObject {
  readonly type: "torch-tensor";
  readonly storage: StorageRef;
  readonly view: TensorView;
}

/** A `state_dict` read from a file. */
export interface TorchStateDict {
  /** Tensors by key, in file order. */
  tensors: Map<string, NDArray>;
  /** `zip` (PyTorch ≥ 1.6 default) or `legacy`. */
  format: "zip" | "legacy";
  /** Where the state dict was found: `""` for the file's top level, else the checkpoint key (`state_dict`). */
  entry: string;
}

/** PyTorch's legacy magic number (the first pickle of a legacy file). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function ints(v: PickleValue, what: string, fail: PickleFail): number[] {
  if (!isPickleTuple(v) && !Array.isArray(v)) return fail(`${what} is not a tuple`);
  const items = isPickleTuple(v) ? v.items : v;
  return items.map((x) =>
    typeof x === "number" && Number.isSafeInteger(x) ? x : fail(`${what} holds ${String(x)}, not an integer`)
  );
}

const rebuildTensor: PickleCallable = (args, fail) => {
  const [storage, offset, size, stride] = args;
  if (!isPickleObject(storage, "torch-storage")) return fail("_rebuild_tensor_v2 without a storage");
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    return fail("_rebuild_tensor_v2 with a bad storage offset");
  }
  const shape = ints(size, "tensor size", fail);
  const strides = ints(stride, "tensor stride", fail);
  if (strides.length !== shape.length) return fail("tensor size and stride differ in length");
  if (shape.some((d) => d < 0) || strides.some((s) => s < 0)) return fail("negative tensor size or stride");
  const tensor: PendingTensor = {
    kind: "object",
    type: "torch-tensor",
    storage: storage as StorageRef,
    view: { offset, shape, stride: strides },
  };
  return tensor;
};

/** The allow-list of a state dict pickle. */
function torchProfile(): PickleProfile {
  const globals = new Map<string, PickleCallable>([
    ["collections.OrderedDict", () => ({ kind: "dict", entries: [] })],
    ["torch._utils._rebuild_tensor_v2", rebuildTensor],
    [
      "torch._utils._rebuild_parameter",
      ([data], fail) =>
        isPickleObject(data, "torch-tensor") ? data : fail("_rebuild_parameter without a tensor"),
    ],
    ...[...STORAGE_TYPES.keys()].map((name): [string, PickleCallable] => [name, null]),
  ]);
  return {
    description: "tensors, storages and plain Python values (a state_dict)",
    globals,
    persistentLoad(pid, fail) {
      if (!isPickleTuple(pid) || pid.items[0] !== "storage") return fail("persistent id is not a storage");
      const [, cls, key, , numel, view] = pid.items;
      const storage = isPickleGlobal(cls) ? STORAGE_TYPES.get(cls.name) : undefined;
      if (!storage) {
        return fail(
          `persistent id names ${String((cls as { name?: string })?.name ?? cls)}, not a storage class`,
        );
      }
      if (typeof key !== "string" || typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) {
        return fail("malformed storage id");
      }
      if (view !== undefined && view !== null) return fail("storage views (view_metadata) are not supported");
      const ref: StorageRef = { kind: "object", type: "torch-storage", key, storage, numel };
      return ref;
    },
  };
}

/** Replace pending tensors by arrays decoded from `bytesOf(storage)`. */
function materialize(
  v: PickleValue,
  file: string,
  little: boolean,
  bytesOf: (s: StorageRef) => Uint8Array,
  where = "",
): PickleValue {
  if (isPickleObject(v, "torch-tensor")) {
    const t = v as PendingTensor;
    const { storage, numel } = t.storage;
    const what = `tensor '${where}'`;
    // A tensor never holds more elements than its storage (no stride-0 expansions in a state dict).
    checkAllocation({
      file,
      what,
      shape: t.view.shape,
      itemBytes: storage.size,
      availableBytes: numel * storage.size,
    });
    const last = lastIndex(t.view);
    if (last >= numel) {
      throw new ModelFormatError(
        `${file}: ${what} of shape [${t.view.shape}] reads element ${last} of storage '${t.storage.key}', ` +
          `which has ${numel} (corrupt file)`,
        { file },
      );
    }
    return decodeView(storage, bytesOf(t.storage), t.view, little);
  }
  if (Array.isArray(v)) return v.map((x, i) => materialize(x, file, little, bytesOf, `${where}[${i}]`));
  if (isPickleTuple(v)) {
    return {
      kind: "tuple",
      items: v.items.map((x, i) => materialize(x, file, little, bytesOf, `${where}[${i}]`)),
    };
  }
  if (isPickleDict(v)) {
    return {
      kind: "dict",
      entries: v.entries.map((
        [k, x],
      ) => [k, materialize(x, file, little, bytesOf, where ? `${where}.${k}` : String(k))]),
    };
  }
  return v;
}

/** Check a storage's declared size against the bytes the file holds for it. */
function checkStorage(file: string, s: StorageRef, available: number): void {
  checkAllocation({
    file,
    what: `storage '${s.key}' (${s.storage.name})`,
    shape: [s.numel],
    itemBytes: s.storage.size,
    availableBytes: available,
  });
}

function readZip(bytes: Uint8Array, file: string): { value: PickleValue } {
  let members: Record<string, Uint8Array>;
  try {
    let total = 0;
    members = fflate.unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        const tooBig = exceedsCeiling(total);
        if (tooBig) {
          throw new ModelFormatError(`${file}: the archive members up to '${f.name}' declare ${tooBig}`, {
            file,
          });
        }
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(
      `${file}: not a readable torch.save zip archive (truncated or corrupt): ${
        err instanceof Error ? err.message : err
      }`,
      { file, cause: err },
    );
  }
  const pkl = Object.keys(members).find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) {
    throw new ModelFormatError(`${file}: a zip archive without <name>/data.pkl is not a torch.save file`, {
      file,
    });
  }
  const prefix = pkl.slice(0, -"data.pkl".length);
  const order = members[`${prefix}byteorder`];
  const byteorder = order ? new TextDecoder().decode(order).trim() : "little";
  if (byteorder !== "little" && byteorder !== "big") {
    throw new ModelFormatError(`${file}: byteorder record '${byteorder}'; expected little or big`, { file });
  }
  const source = `${file}[${pkl}]`;
  const { value } = runPickle(members[pkl], source, torchProfile());
  const bytesOf = (s: StorageRef): Uint8Array => {
    const data = members[`${prefix}data/${s.key}`];
    if (!data) {
      throw new ModelFormatError(`${file}: storage '${s.key}' has no archive member ${prefix}data/${s.key}`, {
        file,
      });
    }
    checkStorage(file, s, data.length);
    return data;
  };
  return { value: materialize(value, file, byteorder === "little", bytesOf) };
}

function readLegacy(bytes: Uint8Array, file: string): { value: PickleValue } {
  const profile = torchProfile();
  const magic = runPickle(bytes, file, profile);
  if (magic.value !== LEGACY_MAGIC) {
    throw new ModelFormatError(
      `${file}: a pickle, but not a torch.save file (no PyTorch magic number); save the model with ` +
        `torch.save(model.state_dict(), path)`,
      { file },
    );
  }
  const protocol = runPickle(bytes, file, profile, magic.end);
  if (protocol.value !== 1001) {
    throw new ModelFormatError(
      `${file}: legacy torch.save protocol ${String(protocol.value)}; expected 1001`,
      {
        file,
      },
    );
  }
  const sysInfo = runPickle(bytes, file, profile, protocol.end);
  const littleEntry = isPickleDict(sysInfo.value)
    ? sysInfo.value.entries.find(([k]) => k === "little_endian")
    : undefined;
  const little = littleEntry ? littleEntry[1] !== false : true;
  const object = runPickle(bytes, file, profile, sysInfo.end);
  const keys = runPickle(bytes, file, profile, object.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) {
    throw new ModelFormatError(`${file}: the storage key list of the legacy format is missing`, { file });
  }
  // The storages follow in key order: an int64 element count, then the bytes.
  const storages = new Map<string, Uint8Array>();
  const counts = new Map<string, number>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  const sizes = new Map<string, number>();
  collectStorages(object.value, sizes);
  for (const key of keys.value as string[]) {
    if (pos + 8 > bytes.length) {
      throw new ModelFormatError(`${file}: storage '${key}' is missing (truncated file)`, { file });
    }
    const count = Number(view.getBigInt64(pos, true));
    pos += 8;
    const size = sizes.get(key) ?? 1;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ModelFormatError(`${file}: storage '${key}' declares ${count} elements`, { file });
    }
    const nbytes = count * size;
    if (nbytes > bytes.length - pos) {
      throw new ModelFormatError(
        `${file}: storage '${key}' declares ${count} elements (${nbytes} bytes) but the file holds only ` +
          `${bytes.length - pos} more bytes (truncated or corrupt file)`,
        { file },
      );
    }
    storages.set(key, bytes.subarray(pos, pos + nbytes));
    counts.set(key, count);
    pos += nbytes;
  }
  const bytesOf = (s: StorageRef): Uint8Array => {
    const data = storages.get(s.key);
    if (!data) throw new ModelFormatError(`${file}: storage '${s.key}' is not in the file`, { file });
    if (counts.get(s.key) !== s.numel) {
      throw new ModelFormatError(
        `${file}: storage '${s.key}' holds ${counts.get(s.key)} elements, the pickle says ${s.numel}`,
        { file },
      );
    }
    checkStorage(file, s, data.length);
    return data;
  };
  return { value: materialize(object.value, file, little, bytesOf) };
}

/** Element sizes of the storages a pickled object refers to, by key. */
function collectStorages(v: PickleValue, out: Map<string, number>, depth = 0): void {
  if (depth > 1000) return;
  if (isPickleObject(v, "torch-tensor")) {
    const s = (v as PendingTensor).storage;
    out.set(s.key, s.storage.size);
  } else if (Array.isArray(v)) v.forEach((x) => collectStorages(x, out, depth + 1));
  else if (isPickleTuple(v)) v.items.forEach((x) => collectStorages(x, out, depth + 1));
  else if (isPickleDict(v)) v.entries.forEach(([, x]) => collectStorages(x, out, depth + 1));
}

function isArray(v: PickleValue): v is NDArray {
  return typeof v === "object" && v !== null && "data" in v && "shape" in v && "dtype" in v;
}

/** Checkpoint keys that hold a model's state dict, tried in this order. */
const CHECKPOINT_KEYS = ["state_dict", "model_state_dict", "model", "net", "network", "model_state"];

function tensorsOf(v: PickleValue): Map<string, NDArray> | undefined {
  if (!isPickleDict(v)) return undefined;
  const out = new Map<string, NDArray>();
  for (const [k, x] of v.entries) {
    if (typeof k !== "string" || !isArray(x)) return undefined;
    out.set(k, x);
  }
  return out;
}

/** Find the state dict in an unpickled object: the object itself, or a checkpoint's `state_dict` entry. */
function findStateDict(value: PickleValue, file: string): { tensors: Map<string, NDArray>; entry: string } {
  const direct = tensorsOf(value);
  if (direct) return { tensors: direct, entry: "" };
  if (isPickleDict(value)) {
    for (const key of CHECKPOINT_KEYS) {
      const hit = value.entries.find(([k]) => k === key);
      const tensors = hit && tensorsOf(hit[1]);
      if (tensors) return { tensors, entry: key };
    }
    const keys = value.entries.map(([k]) => String(k)).slice(0, 10);
    throw new ModelFormatError(
      `${file}: a dict that is not a state_dict (keys: ${keys.join(", ")}${
        value.entries.length > 10 ? ", ..." : ""
      }) ` +
        `and has none under ${CHECKPOINT_KEYS.join("/")}; save it with torch.save(model.state_dict(), path)`,
      { file },
    );
  }
  throw new ModelFormatError(
    `${file}: holds ${Array.isArray(value) ? "a list" : typeof value}, not a state_dict; save it with ` +
      `torch.save(model.state_dict(), path)`,
    { file },
  );
}

/** Decode the bytes of a `torch.save` file holding a state dict (or a checkpoint dict with one). */
export function decodeTorchStateDict(bytes: Uint8Array, file: string): TorchStateDict {
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 &&
    bytes[3] === 0x04;
  let value: PickleValue;
  if (zip) value = readZip(bytes, file).value;
  else if (bytes[0] === 0x80) value = readLegacy(bytes, file).value;
  else if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar") {
    throw new ModelFormatError(`${file}: the tar format of PyTorch before 0.4 is not supported`, { file });
  } else {
    throw new ModelFormatError(
      `${file}: not a torch.save file (expected a zip archive or a pickle, found ${
        bytes.length ? `byte 0x${bytes[0].toString(16)}` : "an empty file"
      } at the start)`,
      { file },
    );
  }
  const { tensors, entry } = findStateDict(value, file);
  return { tensors, format: zip ? "zip" : "legacy", entry };
}

/** Read a `torch.save` state dict file. */
export async function readTorchStateDict(path: string): Promise<TorchStateDict> {
  return decodeTorchStateDict(await readModelFile(path, "the PyTorch state_dict"), path);
}
