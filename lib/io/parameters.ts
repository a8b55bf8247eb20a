/**
 * Layer parameter files, compatible with the Python toolbox's
 * `save_parameters` / `load_parameters`: one HDF5 dataset per array, named
 * `param_000`, `param_001`, ... (at least three digits), loaded back in
 * sorted key order.
 *
 * @module
 */
import { ModelFormatError } from "../errors.ts";
import type { NDArray } from "./ndarray.ts";
import { datasetToNDArray, type Hdf5Dataset, openHdf5, writeDataset, writeHdf5Atomic } from "./hdf5.ts";
import { h5wasm } from "../../deps.ts";

/** Dataset name of the `index`-th parameter: `param_` + the index zero-padded to three digits. */
export function parameterName(index: number): string {
  return `param_${String(index).padStart(3, "0")}`;
}

/** Compare strings by UTF-16 code units, like Python's `sorted` on ASCII keys. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Save arrays to an HDF5 file (atomically), one dataset `param_NNN` per array, in order. */
export async function saveParameters(params: readonly NDArray[], path: string): Promise<void> {
  await writeHdf5Atomic(path, (file) => {
    params.forEach((p, i) => writeDataset(file, parameterName(i), p));
  });
}

/**
 * Load every top-level dataset of an HDF5 parameter file, sorted by name (as
 * the toolbox's `load_parameters` does). Throws {@linkcode ModelFormatError}
 * naming the file when it is not HDF5 or holds something other than arrays.
 */
export async function loadParameters(path: string): Promise<NDArray[]> {
  const file = await openHdf5(path);
  try {
    const params: NDArray[] = [];
    for (const key of file.keys().sort(byCodeUnits)) {
      const entity = file.get(key);
      if (!(entity instanceof h5wasm.Dataset)) {
        throw new ModelFormatError(
          `${path}: expected only datasets at the top level of a parameter file, found a group or link '${key}'`,
          { file: path },
        );
      }
      params.push(datasetToNDArray(entity as Hdf5Dataset, path));
    }
    return params;
  } finally {
    file.close();
  }
}
