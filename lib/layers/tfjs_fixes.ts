/**
 * Corrections for TF.js 4.22 layers that compute wrong results, applied in
 * one place to every loaded input model (see `defineLibrary` in
 * `lib/importers/input_model.ts`).
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
 * - `MaxPooling1D`, `AveragePooling1D`, `GlobalAveragePooling1D` and
 *   `GlobalMaxPooling1D` ignore `dataFormat`: channels_first (NCW) inputs
 *   are pooled over the channels, with the output shape to match. A built
 *   layer cannot be corrected (the layers after it are built on its wrong
 *   output shape), so the Keras loader builds such layers as the classes
 *   {@linkcode channelsFirstPooling1DClass} names instead: they pool the
 *   transposed input over the steps and report the Keras class name and
 *   `dataFormat: 'channelsFirst'`.
 *
 * @module
 */
import { type Layer, type LayersModel, tf } from "../../deps.ts";

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
export function layerDataFormat(layer: Layer): "channelsFirst" | "channelsLast" | undefined {
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

/** TF.js layer constructor arguments. */
type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];
/** TF.js `Layer.call` keyword arguments. */
type CallKwargs = Parameters<tf.layers.Layer["call"]>[1];

/** The 1-D pooling layers of TF.js, by Keras class name: how to make one (channels_last) and whether it is global. */
const POOLING_1D: Record<
  string,
  { make: (args: Record<string, unknown>) => tf.layers.Layer; global: boolean }
> = {
  MaxPooling1D: { make: (a) => tf.layers.maxPooling1d(a), global: false },
  AveragePooling1D: { make: (a) => tf.layers.averagePooling1d(a), global: false },
  GlobalAveragePooling1D: { make: () => tf.layers.globalAveragePooling1d({}), global: true },
  GlobalMaxPooling1D: { make: () => tf.layers.globalMaxPooling1d({}), global: true },
};

/** A channels_first (NCW) 1-D pooling layer of Keras class `kerasClass`: the TF.js layer on the NWC transpose. */
function channelsFirstPooling1D(
  kerasClass: string,
  className: string,
): tf.serialization.SerializableConstructor<
  tf.layers.Layer
> {
  const { make, global } = POOLING_1D[kerasClass];
  return class extends tf.layers.Layer {
    static className = className;
    /** Read by {@linkcode layerDataFormat} (and `getConfig`). */
    readonly dataFormat = "channelsFirst";
    private readonly inner: tf.layers.Layer;
    constructor(args: Record<string, unknown>) {
      super(args as LayerArgs);
      const { poolSize, strides, padding } = args;
      this.inner = make(global ? {} : { poolSize, strides, padding });
    }
    override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
      const [n, c, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
      const out = this.inner.computeOutputShape([n, w, c]) as tf.Shape;
      return global ? out : [out[0], out[2], out[1]];
    }
    override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const y = this.inner.apply(tf.transpose(x, [0, 2, 1])) as tf.Tensor;
        return global ? y : tf.transpose(y, [0, 2, 1]);
      });
    }
    override getClassName(): string {
      return kerasClass;
    }
    override getConfig(): tf.serialization.ConfigDict {
      const { name: _name, trainable: _trainable, ...pooling } = this.inner.getConfig();
      return { ...pooling, ...super.getConfig(), dataFormat: this.dataFormat };
    }
  };
}

/**
 * The TF.js class name under which a channels_first layer of Keras class
 * `kerasClass` must be built when TF.js would compute it wrongly (1-D
 * pooling, see the module documentation): registered on first use. The
 * layers built report `kerasClass` as their class name, so they are parsed
 * and saved as that class. `undefined` for every other class.
 */
export function channelsFirstPooling1DClass(kerasClass: string): string | undefined {
  if (!Object.hasOwn(POOLING_1D, kerasClass)) return undefined;
  const className = `SnnChannelsFirst${kerasClass}`;
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
  if (!Object.hasOwn(map, className)) {
    tf.serialization.registerClass(channelsFirstPooling1D(kerasClass, className));
  }
  return className;
}

/**
 * A channels_first (NCW) 1-D pooling layer of Keras class `kerasClass`
 * (`MaxPooling1D`, `AveragePooling1D`, `GlobalAveragePooling1D`,
 * `GlobalMaxPooling1D`), built as the class
 * {@linkcode channelsFirstPooling1DClass} names; `args` are the TF.js
 * constructor arguments (`poolSize`, `strides`, `padding`, `name`).
 */
export function makeChannelsFirstPooling1D(
  kerasClass: string,
  args: Record<string, unknown>,
): tf.layers.Layer {
  const className = channelsFirstPooling1DClass(kerasClass);
  if (!className) throw new RangeError(`${kerasClass} is not a 1-D pooling layer`);
  const [cls] = tf.serialization.SerializationMap.getMap().classNameMap[className];
  return new (cls as unknown as new (args: Record<string, unknown>) => tf.layers.Layer)(args);
}

/**
 * Apply the corrections to every layer of `model` (nested models included)
 * that needs one. Idempotent; returns the number of layers corrected.
 */
export function applyTfjsFixes(model: LayersModel): number {
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
