/**
 * Corrections for TF.js 4.22 layers that compute wrong results, applied in
 * one place to every loaded input model (see `model_libs/mod.ts`).
 *
 * - `BatchNormalization` on an axis other than the last (channels_first
 *   models: Theano/Keras `axis: 1`, ONNX, Caffe, Lasagne) normalises with
 *   the statistics broadcast along the wrong axis. The fixed layer applies
 *   the textbook inference formula `gamma * (x - mean) / sqrt(var + eps) + beta`
 *   along its configured axis.
 * - `Conv1D` with `dataFormat: 'channelsFirst'` (Keras channels_first
 *   models, ONNX/PyTorch `Conv1d`) declares an NCW output but computes NWC
 *   (it transposes the input and never transposes back), and its
 *   `getConfig()` drops `dataFormat`. The fixed layer convolves the
 *   transposed input and transposes the result back to NCW before the
 *   activation; {@linkcode layerDataFormat} reads the format from the layer.
 *
 * @module
 */
import { tf } from "../../deps.ts";

interface BatchNormConfig {
  axis?: number | number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
}

function nestedLayers(model: tf.LayersModel | tf.layers.Layer): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  const inner = (model as { layers?: tf.layers.Layer[] }).layers;
  for (const layer of inner ?? []) {
    out.push(layer);
    if ((layer as { layers?: unknown }).layers) out.push(...nestedLayers(layer));
  }
  return out;
}

/** Replace the inference computation of a BatchNormalization layer whose axis is not the last one. */
function fixBatchNorm(layer: tf.layers.Layer): void {
  const config = layer.getConfig() as BatchNormConfig;
  const axis = Array.isArray(config.axis) ? config.axis[0] : config.axis ?? -1;
  const epsilon = config.epsilon ?? 1e-3;
  const center = config.center ?? true;
  const scaled = config.scale ?? true;
  const original = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const ax = axis < 0 ? x.rank + axis : axis;
    if (ax === x.rank - 1 || kwargs?.training) return original(inputs, kwargs);
    return tf.tidy(() => {
      const w = layer.weights.map((v) => v.read());
      let i = 0;
      const gamma = scaled ? w[i++] : undefined;
      const beta = center ? w[i++] : undefined;
      const mean = w[i++];
      const variance = w[i++];
      const shape = Array.from({ length: x.rank }, (_, d) => (d === ax ? -1 : 1));
      let scale = tf.div(1, tf.sqrt(tf.add(variance, epsilon)));
      if (gamma) scale = tf.mul(scale, gamma);
      let shift = tf.neg(tf.mul(mean, scale));
      if (beta) shift = tf.add(shift, beta);
      return tf.add(tf.mul(x, tf.reshape(scale, shape)), tf.reshape(shift, shape));
    });
  };
}

/** The convolution fields of a TF.js `Conv1D` layer that `getConfig()` does not expose fully. */
interface Conv1DFields {
  dataFormat?: string;
  strides: number[];
  padding: string;
  dilationRate: number | number[];
  useBias: boolean;
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
}

/**
 * The data format of a TF.js layer, `channelsFirst`/`channelsLast`, or
 * `undefined` when the layer has none. Reads the layer object when its config
 * omits the format (TF.js `Conv1D.getConfig()` deletes it).
 */
export function layerDataFormat(layer: tf.layers.Layer): "channelsFirst" | "channelsLast" | undefined {
  const fromConfig = (layer.getConfig() as { dataFormat?: unknown }).dataFormat;
  const f = fromConfig ?? (layer as unknown as { dataFormat?: unknown }).dataFormat;
  return f === "channelsFirst" || f === "channelsLast" ? f : undefined;
}

/** Compute a channels_first Conv1D as NCW → NWC, convolution + bias, → NCW, activation. */
function fixConv1D(layer: tf.layers.Layer): void {
  const conv = layer as unknown as Conv1DFields;
  const dilation = Array.isArray(conv.dilationRate) ? conv.dilationRate[0] : conv.dilationRate;
  const padding = conv.padding === "same" ? "same" : "valid";
  layer.call = (inputs) =>
    tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const [kernel, bias] = layer.weights.map((v) => v.read());
      let y: tf.Tensor = tf.conv1d(
        tf.transpose(x, [0, 2, 1]) as tf.Tensor3D,
        kernel as tf.Tensor3D,
        conv.strides[0],
        padding,
        "NWC",
        dilation,
      );
      if (conv.useBias && bias) y = tf.add(y, bias);
      return conv.activation.apply(tf.transpose(y, [0, 2, 1]));
    });
}

/**
 * Apply the corrections to every layer of `model` (nested models included)
 * that needs one. Idempotent; returns the number of layers corrected.
 */
export function applyTfjsFixes(model: tf.LayersModel): number {
  let fixed = 0;
  for (const layer of nestedLayers(model)) {
    const marked = layer as { __snnFixed?: boolean };
    if (marked.__snnFixed) continue;
    const type = layer.getClassName();
    if (type === "BatchNormalization") {
      const config = layer.getConfig() as BatchNormConfig;
      const axis = Array.isArray(config.axis) ? config.axis[0] : config.axis ?? -1;
      if (axis === -1) continue;
      fixBatchNorm(layer);
    } else if (type === "Conv1D" && layerDataFormat(layer) === "channelsFirst") {
      fixConv1D(layer);
    } else continue;
    marked.__snnFixed = true;
    fixed++;
  }
  return fixed;
}
