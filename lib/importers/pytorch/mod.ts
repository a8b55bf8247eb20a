/**
 * The PyTorch input library (`[input] model_lib = pytorch`): the model
 * script `NAME.py` with its `state_dict` (`NAME.pth`/`.pkl`/`.pt`), read
 * without Python (`script.ts`), or an ONNX export `NAME.onnx` loaded through
 * the ONNX library.
 *
 * @module
 */
import { defineLibrary, type ModelLibrary } from "../input_model.ts";
import { claimsPytorchFile, loadPytorchModel, PYTORCH_EXTENSIONS } from "./load.ts";
import { STATE_DICT_EXTENSIONS } from "./script.ts";

export {
  claimsPytorchFile,
  loadPytorchModel,
  PYTORCH_CHECKPOINT_EXTENSIONS,
  PYTORCH_EXTENSIONS,
  resolvePytorchModelPath,
  torchExportHint,
} from "./load.ts";
export {
  findStateDict,
  loadPytorchScriptModel,
  type PytorchScriptOptions,
  STATE_DICT_EXTENSIONS,
  traceModelScript,
} from "./script.ts";

/** The PyTorch library: `NAME.py` + `NAME.pth`/`.pkl`/`.pt` (script and state dict), or `NAME.onnx`. */
export const pytorchLibrary: ModelLibrary<"pytorch"> = defineLibrary({
  name: "pytorch",
  extensions: PYTORCH_EXTENSIONS,
  requiredFiles: (stem) => [[`${stem}.py`], STATE_DICT_EXTENSIONS.map((e) => stem + e)],
  alternativeFiles: (stem) => [[`${stem}.onnx`]],
  claims: claimsPytorchFile,
  load: loadPytorchModel,
});
