/**
 * Unstable: may change in any release. The toolbox's low-level decoders and
 * encoders (HDF5 objects, npy headers, Python pickles and source syntax),
 * exported for tools built on the toolbox; the stable file functions
 * (`readNpy`, `readNpz`, `loadParameters`, ...) are in the main module.
 *
 * @example
 * ```ts
 * import { openHdf5 } from "./io.ts";
 * const h5 = await openHdf5("model.h5");
 * console.log(h5.keys());
 * h5.close();
 * ```
 *
 * @module
 */
export { type NpyHeader, parseNpyHeader } from "../lib/io/npy.ts";
export {
  assertHdf5File,
  attrNames,
  createHdf5,
  datasetToNDArray,
  type Hdf5Dataset,
  type Hdf5File,
  type Hdf5Group,
  type Hdf5Object,
  hdf5Ready,
  openHdf5,
  readDataset,
  readNumberArrayAttr,
  readStringArrayAttr,
  readStringAttr,
  writeDataset,
  writeHdf5Atomic,
} from "../lib/io/hdf5.ts";
export {
  type PickleDict,
  type PickleGlobal,
  type PickleObject,
  type PickleTuple,
  type PickleValue,
  readPickle,
} from "../lib/io/pickle/numpy.ts";
export {
  type At as PythonAt,
  type Comprehension as PythonComprehension,
  type Expr as PythonExpr,
  type Handler as PythonHandler,
  type ImportName as PythonImportName,
  type Keyword as PythonKeyword,
  type Param as PythonParam,
  parseModule as parsePythonScript,
  type Stmt as PythonStmt,
} from "../lib/io/python/mod.ts";
export type {
  BoundMethod,
  ClassValue,
  HostObject,
  InstanceValue,
  Scope as ScriptScope,
  SuperValue,
} from "../lib/io/python/values.ts";
export { readTorchStateDict, type TorchStateDict } from "../lib/io/torch/state_dict.ts";
