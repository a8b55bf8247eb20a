/**
 * The PyTorch input library (`[input] model_lib = pytorch`): a model
 * exported by `torch.onnx.export` beside its checkpoint, loaded through the
 * ONNX library.
 *
 * @module
 */
import { defineLibrary, type ModelLibrary } from "../input_model.ts";
import { loadPytorchModel } from "./load.ts";

export {
  loadPytorchModel,
  PYTORCH_CHECKPOINT_EXTENSIONS,
  resolvePytorchModelPath,
  torchExportHint,
} from "./load.ts";

/** The PyTorch library: `NAME.pth` / `NAME.pt` (or `NAME`) with `NAME.onnx` beside it. */
export const pytorchLibrary: ModelLibrary<"pytorch"> = defineLibrary({
  name: "pytorch",
  extensions: [".pth", ".pt"],
  requiredFiles: (stem) => [[`${stem}.onnx`]],
  load: loadPytorchModel,
});
