/**
 * The PyTorch input library (`[input] model_lib = pytorch`): what users of the
 * Python toolbox have — `filename_ann` + `.onnx` as written by
 * `torch.onnx.export` — loaded through the ONNX library. A bare `.pth`/`.pt`
 * file (pickled Python objects) cannot be read without Python: the error
 * shows the one-line export call that turns it into an ONNX file.
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import { baseName, isFileSync, stripExtension } from "../../io/paths.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import { loadOnnxModel } from "../onnx/load.ts";

/** Extensions of PyTorch checkpoint files (pickles) that need exporting to ONNX first. */
export const PYTORCH_CHECKPOINT_EXTENSIONS: readonly string[] = [".pth", ".pt"];

/** The `torch.onnx.export` call that writes `<name>.onnx` from a model object (shown in errors). */
export function torchExportHint(onnxName: string, inputShape?: readonly number[]): string {
  const dims = inputShape && inputShape.length > 0 ? inputShape.join(", ") : "C, H, W";
  return `torch.onnx.export(model, torch.randn(1, ${dims}), "${onnxName}", input_names=["input"], ` +
    `output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})`;
}

/**
 * Find the ONNX file of a PyTorch model: `path` itself when it ends in
 * `.onnx`, else `path + ".onnx"` (the toolbox's `path_wd/filename_ann`).
 * Throws {@linkcode ModelFormatError} naming the export call when only a
 * `.pth`/`.pt` checkpoint exists, or naming the paths tried.
 */
export function resolvePytorchModelPath(path: string, inputShape?: readonly number[]): string {
  const base = stripExtension(path, ["onnx", ...PYTORCH_CHECKPOINT_EXTENSIONS]);
  const onnx = `${base}.onnx`;
  if (isFileSync(onnx)) return onnx;
  const checkpoint = [path, ...PYTORCH_CHECKPOINT_EXTENSIONS.map((e) => base + e)].find((p) =>
    PYTORCH_CHECKPOINT_EXTENSIONS.some((e) => p.toLowerCase().endsWith(e)) && isFileSync(p)
  );
  const name = baseName(onnx);
  if (checkpoint) {
    throw new ModelFormatError(
      `${checkpoint}: a PyTorch checkpoint (Python pickle) cannot be read directly; export the model to ONNX ` +
        `beside it (${onnx}) with\n  ${torchExportHint(name, inputShape)}\nand run again`,
      { file: checkpoint },
    );
  }
  throw new ModelFormatError(
    `${onnx}: no such PyTorch model; expected ${onnx} (written by torch.onnx.export), ` +
      `or a ${PYTORCH_CHECKPOINT_EXTENSIONS.join("/")} checkpoint to export with\n  ${
        torchExportHint(name, inputShape)
      }`,
    { file: onnx },
  );
}

/** Load a PyTorch model exported to ONNX (`NAME`, `NAME.onnx`, or `NAME.pth` with `NAME.onnx` beside it). */
export async function loadPytorchModel(path: string, options: LoadOptions = {}): Promise<InputModel> {
  const onnx = resolvePytorchModelPath(path, options.inputShape);
  const model = await loadOnnxModel(onnx, options);
  return { ...model, library: "pytorch" };
}
