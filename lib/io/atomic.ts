/**
 * Atomic file output: write to a temporary file beside the target, then
 * rename it into place. A failed or interrupted write never leaves a
 * half-written file at the target path.
 *
 * @module
 */
import { SnnToolboxError } from "../errors.ts";
import { dirName } from "./paths.ts";

const pending = new Set<string>();
let signalHooked = false;

function hookSignal(): void {
  if (signalHooked) return;
  signalHooked = true;
  try {
    Deno.addSignalListener("SIGINT", () => {
      for (const p of pending) {
        try {
          Deno.removeSync(p);
        } catch { /* already gone */ }
      }
      Deno.exit(130);
    });
  } catch { /* signals unsupported here (e.g. Windows without SIGINT): best effort */ }
}

/** Refuse up front to write into a folder that does not exist (the error names the folder, not a temporary file). */
function checkFolder(path: string): void {
  const dir = dirName(path);
  let isDir: boolean;
  try {
    isDir = Deno.statSync(dir).isDirectory;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) return; // e.g. no read permission: the write itself reports
    throw new SnnToolboxError(`could not write ${path}: the folder ${dir} does not exist`, { file: path });
  }
  if (!isDir) throw new SnnToolboxError(`could not write ${path}: ${dir} is not a folder`, { file: path });
}

function tempPathFor(path: string): string {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  return `${path}.${rand}.tmp`;
}

/**
 * Produce a file atomically: `produce` receives a temporary path to write
 * (by any means, e.g. a library that writes files itself); on success the
 * temporary file is renamed to `path`, on failure it is removed and the error
 * rethrown.
 */
export async function withAtomicOutput<T>(
  path: string,
  produce: (tmpPath: string) => Promise<T> | T,
): Promise<T> {
  hookSignal();
  checkFolder(path);
  const tmp = tempPathFor(path);
  pending.add(tmp);
  try {
    const result = await produce(tmp);
    await Deno.rename(tmp, path);
    return result;
  } catch (err) {
    try {
      await Deno.remove(tmp);
    } catch { /* nothing was written */ }
    if (err instanceof SnnToolboxError) throw err;
    throw new SnnToolboxError(`could not write ${path}: ${err instanceof Error ? err.message : err}`, {
      cause: err,
      file: path,
    });
  } finally {
    pending.delete(tmp);
  }
}

/** Write `data` to `path` atomically (temporary file + rename). */
export function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  return withAtomicOutput(path, async (tmp) => {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
  });
}
