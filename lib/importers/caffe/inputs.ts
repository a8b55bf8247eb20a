/**
 * Where a Caffe net's input comes from and how its data were scaled: net
 * inputs (`input:` fields, Input layers, TEST-phase data layers), their
 * shapes (stated in the net, or supplied by the caller), and the data
 * layer's `transform_param` preprocessing.
 *
 * @module
 */
import { ConfigError, InputShapeRequiredError } from "../../errors.ts";
import { message, messages, num, numbers, str } from "./message.ts";
import type { CaffeNet } from "./net.ts";
import { DATA_LAYER_TYPES } from "./shapes.ts";

/** One input of a Caffe net. */
export interface CaffeInput {
  /** Blob name. */
  name: string;
  /** Shape without the batch dimension (C, H, W for images). */
  shape: number[];
  /** Where the input is declared: `"net"` (input: fields) or the data layer's name. */
  source: string;
}

/** A data layer's preprocessing (Caffe subtracts the mean first, then scales). */
export interface CaffePreprocessing {
  /** Name of the data layer it comes from. */
  layer: string;
  /** `transform_param.scale` (1 when absent). */
  scale: number;
  /** `transform_param.mean_value` (one value, or one per channel). */
  meanValues: number[];
  /** `transform_param.mean_file`, when given. */
  meanFile?: string;
}

function statedShape(net: CaffeNet, layerIndex: number, topIndex: number): number[] | undefined {
  const layer = net.layers[layerIndex];
  const p = layer.param;
  if (layer.type === "Input") {
    const shapes = messages(message(p, "input_param"), "shape").map((s) => numbers(s, "dim"));
    return shapes[topIndex] ?? shapes[0];
  }
  if (layer.type === "MemoryData") {
    const m = message(p, "memory_data_param");
    const dims = numbers(m, "dim");
    if (dims.length) return dims;
    const c = num(m, "channels");
    const h = num(m, "height");
    const w = num(m, "width");
    if (c && h && w) return [num(m, "batch_size", 1), c, h, w];
  }
  if (layer.type === "DummyData") {
    const shapes = messages(message(p, "dummy_data_param"), "shape").map((s) => numbers(s, "dim"));
    return shapes[topIndex] ?? shapes[0];
  }
  return undefined;
}

/**
 * The inputs of `net` with their shapes (batch excluded). `inputShape`
 * (source layout, e.g. C,H,W) overrides the net's shape for a single-input
 * net and supplies it for data layers that do not state one; without it,
 * an input of unknown shape is an {@linkcode InputShapeRequiredError} that says how to
 * give one.
 */
export function resolveCaffeInputs(net: CaffeNet, inputShape?: number[]): CaffeInput[] {
  const found: { name: string; shape?: number[]; source: string }[] = [];
  for (const input of net.inputs) found.push({ name: input.name, shape: input.shape, source: "net" });
  net.layers.forEach((layer, i) => {
    if (!DATA_LAYER_TYPES.has(layer.type)) return;
    // Data-reading layers give (data, label): only the first top feeds the net.
    const tops = layer.type === "Input" || layer.type === "DummyData" ? layer.tops : layer.tops.slice(0, 1);
    tops.forEach((top, t) => found.push({ name: top, shape: statedShape(net, i, t), source: layer.name }));
  });
  if (found.length === 0) {
    throw new ConfigError(`${net.file}: the net declares no input (no input: field, Input or data layer)`, {
      file: net.file,
    });
  }
  if (inputShape && found.length > 1) {
    throw new ConfigError(
      `${net.file}: the net has ${found.length} inputs (${found.map((f) => f.name).join(", ")}); ` +
        `a single input shape cannot be applied`,
      { file: net.file },
    );
  }
  return found.map((f) => {
    if (inputShape) return { name: f.name, shape: [...inputShape], source: f.source };
    if (!f.shape || f.shape.length < 2) {
      throw new InputShapeRequiredError(
        `${net.file}: the shape of input '${f.name}' (${
          f.source === "net" ? "input: field" : `layer '${f.source}'`
        }) ` +
          `is not stated in the net; pass --input-shape C,H,W (LoadOptions.inputShape) or run the model on data`,
        { file: net.file },
      );
    }
    return { name: f.name, shape: f.shape.slice(1), source: f.source };
  });
}

/** The TEST-phase data layer's preprocessing, when the net has one that states scaling or a mean. */
export function caffePreprocessing(net: CaffeNet): CaffePreprocessing | undefined {
  for (const layer of net.layers) {
    if (!DATA_LAYER_TYPES.has(layer.type) || layer.type === "Input") continue;
    const t = message(layer.param, "transform_param");
    // Deprecated places: data_param / image_data_param / window_data_param scale and mean_file.
    const legacy = message(layer.param, "data_param") ?? message(layer.param, "image_data_param") ??
      message(layer.param, "window_data_param");
    const scale = num(t, "scale") ?? num(legacy, "scale") ?? 1;
    const meanValues = numbers(t, "mean_value");
    const meanFile = str(t, "mean_file") || str(legacy, "mean_file") || undefined;
    if (scale !== 1 || meanValues.length || meanFile) {
      return { layer: layer.name, scale, meanValues, meanFile };
    }
  }
  return undefined;
}

/**
 * Apply Caffe preprocessing to NCHW data in place: subtract the mean value
 * (per channel, or one for all), then multiply by the scale.
 */
export function applyCaffePreprocessing(
  data: Float32Array,
  shape: readonly number[],
  pre: CaffePreprocessing,
): void {
  const channels = shape.length >= 2 ? shape[1] : 1;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const mean = pre.meanValues.length === 0 ? 0 : pre.meanValues[pre.meanValues.length === 1 ? 0 : c];
    data[i] = (data[i] - mean) * pre.scale;
  }
}
