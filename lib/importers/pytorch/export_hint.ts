/**
 * The `torch.onnx.export` call the ONNX route of the PyTorch library needs,
 * shown in errors when a model is outside what the script reader converts.
 *
 * @module
 */

/** The `torch.onnx.export` call that writes `<name>.onnx` from a model object (shown in errors). */
export function torchExportHint(onnxName: string, inputShape?: readonly number[]): string {
  const dims = inputShape && inputShape.length > 0 ? inputShape.join(", ") : "C, H, W";
  return `torch.onnx.export(model, torch.randn(1, ${dims}), "${onnxName}", input_names=["input"], ` +
    `output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})`;
}
