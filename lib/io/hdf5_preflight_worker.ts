/**
 * The worker program of `preflightHdf5`: opens the HDF5 file it is sent and
 * reads it as a reader would (every group's members, every attribute's
 * value, every dataset's shape and type, its values when they are at most
 * 64 MiB, else its first element), then answers with the request's `id`.
 * It answers `{ listening: true }` once, when it is ready for requests. A damaged file can make the HDF5 C library
 * loop forever inside one of these calls; the main thread then terminates
 * this worker. Errors are answered too, but the main thread ignores them:
 * its own read of the file reports them with the reader's context.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { h5wasm } from "../../deps.ts";

/** Deeper than any model file; bounds a walk through cyclic hard links. */
const MAX_DEPTH = 32;
/** More objects than any model file has; bounds a walk through cyclic hard links. */
const MAX_OBJECTS = 200_000;
/** Datasets up to this size are read whole; larger ones only their first element. */
const FULL_READ_BYTES = 64 * 1024 ** 2;

type Group = InstanceType<typeof h5wasm.Group>;
type Dataset = InstanceType<typeof h5wasm.Dataset>;

/** Read every attribute's value (damaged attribute messages are where the library was seen to loop). */
function readAttributes(object: Group | Dataset): void {
  for (const attribute of Object.values(object.attrs)) void attribute.value;
}

function readDataset(dataset: Dataset): void {
  readAttributes(dataset);
  const shape = dataset.shape ?? [];
  const elements = shape.reduce((a, b) => a * b, 1);
  if (elements === 0) return;
  if (elements * (dataset.metadata.size ?? 8) <= FULL_READ_BYTES) void dataset.value;
  else void dataset.slice(shape.map(() => [0, 1]));
}

function walk(group: Group, depth: number, seen: { n: number }): void {
  if (depth > MAX_DEPTH) return;
  for (const key of group.keys()) {
    if (++seen.n > MAX_OBJECTS) return;
    const child = group.get(key);
    if (child instanceof h5wasm.Group) {
      readAttributes(child);
      walk(child, depth + 1, seen);
    } else if (child instanceof h5wasm.Dataset) {
      readDataset(child);
    }
  }
}

async function preflight(path: string): Promise<void> {
  try {
    const module = await h5wasm.ready;
    module.activate_throwing_error_handler();
    const file = new h5wasm.File(path, "r");
    try {
      readAttributes(file);
      walk(file, 0, { n: 0 });
    } finally {
      file.close();
    }
  } catch {
    // the main thread's own read reports the error, with its context
  }
}

parentPort!.on("message", async (request: { id: number; path: string }) => {
  await preflight(request.path);
  parentPort!.postMessage({ id: request.id });
});
parentPort!.postMessage({ listening: true });
