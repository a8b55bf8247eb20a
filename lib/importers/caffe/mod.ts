/**
 * The Caffe input library (`[input] model_lib = caffe`): a `.prototxt` net
 * and its `.caffemodel` / `.caffemodel.h5` weights, read without Caffe.
 *
 * @module
 */
import { defineLibrary, type ModelLibrary } from "../input_model.ts";
import { loadCaffeModel } from "./load.ts";

export {
  buildCaffeModel,
  type CaffeBuildOptions,
  type CaffeBuildResult,
  type CaffeLoadOptions,
  findCaffeWeights,
  loadCaffeModel,
  readCaffeWeights,
} from "./load.ts";
export {
  type CaffeBlob,
  type CaffeLayer,
  type CaffeNet,
  type CaffeNetInput,
  normalizeNet,
  readCaffemodel,
  readCaffemodelH5,
  readPrototxt,
} from "./net.ts";
export { type PbMessage, type PbValue } from "./message.ts";
export { parseTextFormat } from "./text_format.ts";
export { caffePoolOutputSize, inferCaffeShapes } from "./shapes.ts";
export {
  applyCaffePreprocessing,
  type CaffeInput,
  type CaffePreprocessing,
  caffePreprocessing,
  resolveCaffeInputs,
} from "./inputs.ts";

/** The Caffe library: `NAME.prototxt` with `NAME.caffemodel` or `NAME.caffemodel.h5`. */
export const caffeLibrary: ModelLibrary<"caffe"> = defineLibrary({
  name: "caffe",
  extensions: [".prototxt"],
  requiredFiles: (stem) => [[`${stem}.prototxt`], [`${stem}.caffemodel`, `${stem}.caffemodel.h5`]],
  load: loadCaffeModel,
});
