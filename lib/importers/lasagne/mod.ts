/**
 * The Lasagne input library (`[input] model_lib = lasagne`): a Python build
 * script (read by a static interpreter, never run) and its parameters.
 *
 * @module
 */
import { defineLibrary, type ModelLibrary } from "../input_model.ts";
import { loadLasagneModel } from "./load.ts";

export {
  buildLasagneModel,
  findLasagneParameters,
  type LasagneBuildOptions,
  type LasagneBuildResult,
  type LasagneLoadOptions,
  loadLasagneModel,
  readLasagneParameters,
} from "./load.ts";
export {
  type DictValue,
  getAllLayers,
  interpretLasagneScript,
  LASAGNE_LAYER_TYPES,
  type LasagneLayer,
  type LasagneScript,
  layerParamNames,
  type Opaque,
  type RangeValue,
  type Ref,
  type ScriptValue,
  type TupleValue,
  type UserFunction,
} from "./interpreter.ts";

/** The Lasagne library: `NAME.py` with `NAME.pkl`, `NAME.h5` or `NAME.npz`. */
export const lasagneLibrary: ModelLibrary<"lasagne"> = defineLibrary({
  name: "lasagne",
  extensions: [".py"],
  requiredFiles: (stem) => [[`${stem}.py`], [`${stem}.pkl`, `${stem}.h5`, `${stem}.npz`]],
  load: loadLasagneModel,
});
