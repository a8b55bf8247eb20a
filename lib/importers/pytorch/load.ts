/**
 * The PyTorch input library (`[input] model_lib = pytorch`): what users of the
 * Python toolbox have —
 *
 * - `NAME.py` (the `nn.Module` definition with `input_shape`) and
 *   `NAME.pth`/`.pkl`/`.pt` (its `state_dict` from `torch.save`), read
 *   without Python by the script reader (`lib/importers/pytorch/script.ts`);
 * - or `NAME.onnx` as written by `torch.onnx.export`, loaded through the ONNX
 *   library.
 *
 * When both exist, the script and state dict win (they are what the Python
 * toolbox loads). A state dict without its script cannot be read: the error
 * names the script it needs and the export call of the `.onnx` route.
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import { baseName, isFileSync, stripExtension } from "../../io/paths.ts";
import type { InputModel, LoadOptions } from "../input_model.ts";
import { loadOnnxModel } from "../onnx/load.ts";
import { torchExportHint } from "./export_hint.ts";
import { importsTorch, loadPytorchScriptModel, STATE_DICT_EXTENSIONS } from "./script.ts";

export { torchExportHint };

/** Extensions of PyTorch checkpoint files (pickles) that need exporting to ONNX first. */
export const PYTORCH_CHECKPOINT_EXTENSIONS: readonly string[] = [".pth", ".pt"];

/** Extensions of the PyTorch library's files: the script, its state dict, or an ONNX export. */
export const PYTORCH_EXTENSIONS: readonly string[] = [".py", ...STATE_DICT_EXTENSIONS, ".onnx"];

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
      `${checkpoint}: a PyTorch checkpoint (state_dict) needs its model definition ${base}.py beside it ` +
        `(the nn.Module class Model with input_shape, as the toolbox reads it); or export the model to ONNX ` +
        `beside it (${onnx}) with\n  ${torchExportHint(name, inputShape)}\nand run again`,
      { file: checkpoint },
    );
  }
  throw new ModelFormatError(
    `${onnx}: no such PyTorch model; expected ${base}.py with its state_dict ${base}.pth/.pkl/.pt, ` +
      `or ${onnx} (written by torch.onnx.export with\n  ${torchExportHint(name, inputShape)})`,
    { file: onnx },
  );
}

/** The model script of a PyTorch path (`NAME`, `NAME.py`, `NAME.pth`, ...) when it exists and imports torch. */
function scriptOf(path: string): string | undefined {
  const script = `${stripExtension(path, ["py", ...STATE_DICT_EXTENSIONS, "onnx"])}.py`;
  if (!isFileSync(script)) return undefined;
  try {
    return importsTorch(Deno.readTextFileSync(script)) || path.toLowerCase().endsWith(".py")
      ? script
      : undefined;
  } catch {
    return script; // unreadable: the script reader reports it
  }
}

/**
 * Load a PyTorch model: a model script with its state dict (`NAME`,
 * `NAME.py`, or the state dict `NAME.pth`/`.pkl`/`.pt` with `NAME.py`
 * beside it), or an ONNX export (`NAME.onnx`, or `NAME` with only
 * `NAME.onnx` beside it).
 */
export async function loadPytorchModel(path: string, options: LoadOptions = {}): Promise<InputModel> {
  const lower = path.toLowerCase();
  if (!lower.endsWith(".onnx")) {
    const script = scriptOf(path);
    const given = STATE_DICT_EXTENSIONS.some((e) => lower.endsWith(e)) ? path : undefined;
    if (script) return await loadPytorchScriptModel(script, { ...options, weights: given });
  }
  const onnx = resolvePytorchModelPath(path, options.inputShape);
  const model = await loadOnnxModel(onnx, options);
  return { ...model, library: "pytorch" };
}

/**
 * Whether the PyTorch library reads `path` when several libraries share its
 * extension: a `.py` that imports torch, a state dict beside one, or a
 * `.pth`/`.pt`/`.onnx` file.
 */
export function claimsPytorchFile(path: string): boolean {
  const lower = path.toLowerCase();
  if (lower.endsWith(".pth") || lower.endsWith(".pt")) return true;
  if (lower.endsWith(".py") || lower.endsWith(".pkl")) {
    const script = `${stripExtension(path, ["py", "pkl"])}.py`;
    try {
      return importsTorch(Deno.readTextFileSync(script));
    } catch {
      return false;
    }
  }
  return lower.endsWith(".onnx");
}
