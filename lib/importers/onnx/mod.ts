/**
 * The ONNX input library (`[input] model_lib = onnx`): a `.onnx` file loaded
 * into a runnable TF.js layers model in the source's NCHW layout.
 *
 * @module
 */
import { defineLibrary, type ModelLibrary } from "../input_model.ts";
import { loadOnnxModel } from "./load.ts";

export {
  buildOnnxInputModel,
  loadOnnxModel,
  MAX_ONNX_OPSET,
  resolveOnnxPath,
  SUPPORTED_ONNX_OPS,
} from "./load.ts";
export {
  decodeOnnxModel,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  readOnnxModel,
} from "./proto.ts";

/** The ONNX library: `NAME.onnx`. */
export const onnxLibrary: ModelLibrary<"onnx"> = defineLibrary({
  name: "onnx",
  extensions: [".onnx"],
  requiredFiles: (stem) => [[`${stem}.onnx`]],
  load: loadOnnxModel,
});
